#!/usr/bin/env bash
# Kernel enforcement benchmark: the generated XDP rules program beside the
# interpreter and kernel nftables, on the same rulesets and packet
# (bench/nft/cases.c), one line per case. Needs root (bpf(), a throwaway
# network namespace for the kernel side) and a build with the rules compiler.
#   bench/xdp/run.sh [CASE...]        (BUILD=dir to pick the build, default build)
# The table also goes to $RESULTS/xdp.csv with a plot, xdp.png (RESULTS
# defaults to bench/results, whose files are the latest run's).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD:-build}
xdp=$build/bench/xdp/fn-bench-xdp
nft=$build/bench/nft/fn-bench-nft
for b in "$xdp" "$nft"; do
	[ -x "$b" ] || { echo "run.sh: $b not built (needs the rules compiler)" >&2; exit 1; }
done
. scripts/lib/topology.sh
topo_init fnxb
topo_on_exit true
# the kernel side: the ruleset in one namespace, its baseline in another
topo_netns r && topo_netns b
ns_rules=${TOPO_TAG}r ns_base=${TOPO_TAG}b

if [ $# -gt 0 ]; then
	cases=("$@")
else
	cases=(saddr-10-none saddr-100-none saddr-1000-none dport-10-none dport-100-none
	       dport-1000-none set-10k-miss set-10k-hit)
fi
cat <<TXT
Rules cost per packet, input hook, UDP 127.0.0.1:40000 -> 127.0.0.1:5000: time
with the ruleset minus time with an empty input chain whose policy gives the
same fate; 7 runs of each, alternating, median of each; ns/rule = rules / n.
  xdp     = the generated XDP rules program, BPF_PROG_TEST_RUN with repeat (the
            kernel's average per run, 1 ns resolution); total: the whole program
            with the rules; insns: its size.
  interp  = fn_nft_eval() in a loop on one pinned CPU (bench/nft).
  kernel  = kernel nftables, sendmmsg() over loopback (bench/nft).
TXT
printf '%-28s %8s %8s %6s %7s | %8s %8s | %8s %8s\n' case "xdp ns" "ns/rule" total insns \
	"interp" "ns/rule" "kernel" "ns/rule"
results=${RESULTS:-bench/results}
mkdir -p "$results"
csv=$results/xdp.csv
echo "case,xdp rules ns,xdp total ns,xdp insns,interpreter rules ns,kernel nftables rules ns" >"$csv"
per_rule() {
	awk -v t="$1" -v n="$2" 'BEGIN { if (n > 1) printf "%.2f", t / n; else print "-" }'
}
for c in "${cases[@]}"; do
	what=$("$xdp" list | awk -F'\t' -v c="$c" '$1 == c {print $2}')
	[ -n "$what" ] || { echo "run.sh: no case $c" >&2; exit 1; }
	case $c in
	set-*) n=1 ;;
	*) n=$(echo "$c" | cut -d- -f2) ;;
	esac
	read -r x_rules x_total insns < <("$xdp" xdp "$c")
	read -r i_rules _ < <("$nft" interp "$c")
	read -r k_rules _ < <(timeout 600 "$nft" kernel "$c" "$ns_rules" "$ns_base")
	printf '%-28s %8s %8s %6s %7s | %8s %8s | %8s %8s\n' "$what" "$x_rules" \
		"$(per_rule "$x_rules" "$n")" "$x_total" "$insns" "$i_rules" "$(per_rule "$i_rules" "$n")" \
		"$k_rules" "$(per_rule "$k_rules" "$n")"
	echo "${what//,/;},$x_rules,$x_total,$insns,$i_rules,$k_rules" >>"$csv"
done
bench/plot.sh "$csv" "$results/xdp.png" \
	"Rules cost per packet: XDP program, interpreter, kernel nftables ($(date +%F))" \
	"ns per packet (log)" 2,5,6 log
