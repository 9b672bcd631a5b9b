#!/usr/bin/env bash
# Filter benchmark: the interpreter, kernel nftables and DPDK's rte_acl side
# by side on the same rules and packet, one line per case. Needs root (a throwaway
# network namespace for the kernel side) and a build with the interpreter.
#   bench/nft/run.sh [CASE...]        (BUILD=dir to pick the build, default build)
# The table also goes to $RESULTS/nft.csv with a plot, nft.png (RESULTS
# defaults to bench/results, whose files are the latest run's).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${BUILD:-build}/bench/nft/fn-bench-nft
[ -x "$bin" ] || { echo "run.sh: $bin not built (needs the rules compiler and lib/nft)" >&2; exit 1; }
. scripts/lib/topology.sh
tmp=$(mktemp -d)
cleanup() { rm -rf "$tmp"; }
topo_init fndb
topo_on_exit cleanup
# the kernel side: the ruleset in one namespace, its baseline in another
topo_netns r && topo_netns b
ns_rules=${TOPO_TAG}r ns_base=${TOPO_TAG}b

if [ $# -gt 0 ]; then cases=("$@"); else mapfile -t cases < <("$bin" list | cut -f1); fi
packets=1000 acl_packets=1024
cat <<TXT
Filter cost per packet, input hook, UDP 127.0.0.1:40000 -> 127.0.0.1:5000.
  rules ns   = time with the ruleset minus time with an empty input chain whose
               policy gives the same fate (accept / drop); 7 runs of each,
               alternating, median of each.
  interp     = fn_nft_eval() in a loop on one pinned CPU (hook ns: the whole call).
  kernel     = sendmmsg() of 64-packet batches over loopback, ruleset and
               baseline each in its own namespace; the receive path and its
               input hook run inside the call (softirq on the sending CPU).
  instr/pkt  = instructions in fn_nft_eval per packet, valgrind callgrind
               (--toggle-collect=fn_nft_eval, $packets packets; repeatable).
  acl        = DPDK rte_acl, the same rules as a 5-tuple context (a set: one
               rule per element), the whole rte_acl_classify() call per packet
               in bursts of 64 copies of the packet, AVX2 and scalar methods,
               7 runs of each alternating, median; acl instr = instructions in
               rte_acl_classify per packet under callgrind ($acl_packets packets).
               Checked first: rte_acl picks the interpreter's deciding rule.
               Blank: the case keeps state (meter, dynamic set), no rte_acl rule.
  intp/acl   = interpreter instr/pkt / rte_acl AVX2 instr/pkt.
TXT
printf '%-32s %10s %11s %10s %9s %9s %8s %8s %8s %8s %8s\n' case "interp ns" "interp hook" \
	"kernel ns" kern/intp instr/pkt "acl avx2" "acl scal" "acl-a in" "acl-s in" intp/acl
results=${RESULTS:-bench/results}
mkdir -p "$results"
csv=$results/nft.csv
echo "case,interpreter rules ns,interpreter hook ns,kernel nftables rules ns,kernel/interpreter,instructions per packet,rte_acl AVX2 ns (whole classify),rte_acl scalar ns (whole classify),rte_acl AVX2 instructions per packet,rte_acl scalar instructions per packet,interpreter/rte_acl AVX2 instructions" >"$csv"
# instructions per packet in function $1 of `$bin ARGS...` (packets $2)
icount() {
	local fn=$1 n=$2
	shift 2
	valgrind --tool=callgrind --toggle-collect="$fn" --callgrind-out-file="$tmp/cg.out" \
		"$bin" "$@" >/dev/null 2>&1
	awk -v p="$n" '/^(totals|summary):/ { printf "%.0f", $2 / p; exit }' "$tmp/cg.out"
}
for c in "${cases[@]}"; do
	what=$("$bin" list | awk -F'\t' -v c="$c" '$1 == c {print $2}')
	read -r i_rules i_total < <("$bin" interp "$c" --image-out "$tmp/$c.img")
	read -r k_rules _ < <(timeout 600 "$bin" kernel "$c" "$ns_rules" "$ns_base")
	ir=$(icount fn_nft_eval "$packets" image "$tmp/$c.img" "$packets")
	ratio=$(awk -v k="$k_rules" -v i="$i_rules" 'BEGIN { if (i > 0.05) printf "%.2f", k / i; else print "-" }')
	a_avx2= a_scalar= a_ir= a_irs= a_ratio=
	# exit 3: a case rte_acl cannot hold (blank); any other failure, such as
	# rte_acl and the interpreter disagreeing, stops the run
	rc=0 acl=$("$bin" acl "$c" 2>"$tmp/acl.err") || rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
		cat "$tmp/acl.err" >&2
		exit 1
	fi
	if [ "$rc" -eq 0 ]; then
		read -r a_avx2 a_scalar <<<"$acl"
		a_ir=$(icount rte_acl_classify "$acl_packets" acl-count "$c" avx2 "$acl_packets")
		a_irs=$(icount rte_acl_classify "$acl_packets" acl-count "$c" scalar "$acl_packets")
		a_ratio=$(awk -v i="$ir" -v a="$a_ir" 'BEGIN { printf "%.2f", i / a }')
	fi
	printf '%-32s %10s %11s %10s %9s %9s %8s %8s %8s %8s %8s\n' "$what" "$i_rules" "$i_total" \
		"$k_rules" "$ratio" "$ir" "$a_avx2" "$a_scalar" "$a_ir" "$a_irs" "$a_ratio"
	echo "${what//,/;},$i_rules,$i_total,$k_rules,$ratio,$ir,$a_avx2,$a_scalar,$a_ir,$a_irs,$a_ratio" >>"$csv"
done
bench/plot.sh "$csv" "$results/nft.png" \
	"Filter cost per packet: interpreter, kernel nftables, rte_acl ($(date +%F))" \
	"ns per packet (log)" 2,3,4,7 log
