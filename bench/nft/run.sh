#!/usr/bin/env bash
# Filter benchmark: the interpreter and kernel nftables side by side on the
# same rulesets and packet, one line per case. Needs root (a throwaway
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
packets=1000
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
TXT
printf '%-32s %12s %12s %12s %10s %12s\n' case "interp ns" "interp hook" "kernel ns" "kern/intp" "instr/pkt"
results=${RESULTS:-bench/results}
mkdir -p "$results"
csv=$results/nft.csv
echo "case,interpreter rules ns,interpreter hook ns,kernel nftables rules ns,kernel/interpreter,instructions per packet" >"$csv"
for c in "${cases[@]}"; do
	what=$("$bin" list | awk -F'\t' -v c="$c" '$1 == c {print $2}')
	read -r i_rules i_total < <("$bin" interp "$c" --image-out "$tmp/$c.img")
	read -r k_rules _ < <(timeout 600 "$bin" kernel "$c" "$ns_rules" "$ns_base")
	valgrind --tool=callgrind --toggle-collect=fn_nft_eval \
		--callgrind-out-file="$tmp/cg.out" "$bin" image "$tmp/$c.img" "$packets" \
		>/dev/null 2>&1
	ir=$(awk '/^(totals|summary):/ {print $2; exit}' "$tmp/cg.out")
	ratio=$(awk -v k="$k_rules" -v i="$i_rules" 'BEGIN { if (i > 0.05) printf "%.2f", k / i; else print "-" }')
	printf '%-32s %12s %12s %12s %10s %12s\n' "$what" "$i_rules" "$i_total" "$k_rules" "$ratio" \
		"$(awk -v n="$ir" -v p="$packets" 'BEGIN { printf "%.0f", n / p }')"
	echo "${what//,/;},$i_rules,$i_total,$k_rules,$ratio,$(awk -v n="$ir" -v p="$packets" 'BEGIN { printf "%.0f", n / p }')" >>"$csv"
done
bench/plot.sh "$csv" "$results/nft.png" \
	"Filter cost per packet: interpreter and kernel nftables ($(date +%F))" \
	"ns per packet (log)" 2,4 log
