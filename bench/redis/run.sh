#!/usr/bin/env bash
# The Redis fork over UDP (libfragnet, DPDK net_af_xdp) against Debian's stock
# redis-server over kernel TCP and memcached over kernel UDP, and the fork
# with a 100-rule fragnetd ruleset against no rules, side by side in one run,
# on veth pairs between two network namespaces.
#
#   bench/redis/run.sh [-T SECONDS] [-R ROUNDS] [-A PAIRS] [-o CSV] [-1]
#
# One run gives the three tables of the Redis benchmark (each as CSV and
# PNG in bench/results, or $RESULTS): this comparison on veth (redis.csv),
# then what one server core serves with a DPDK generator, capacity.sh -T -R
# (redis-capacity.csv), then instructions per GET by layer, icount.sh
# (redis-icount.csv). -1: this comparison only.
#
# Where things run (2 vCPUs): every server is pinned to CPU 1; the load
# generator runs on CPU 0 in the peer namespace and talks through the
# kernel's veth (one pair for the fork's DPDK port, one for the kernel's
# servers), so the client side is the same path for every server.
# Who polls: the fork polls its queue from its event loop (spinning while
# traffic flows; it sleeps 1 ms at a time after 50 ms without a datagram);
# stock Redis and memcached sleep in epoll_wait; the load generators
# (fnr-bench and redis-benchmark) sleep in epoll_wait. All three servers
# are started at once, but only the one being measured runs: the others are
# stopped with SIGSTOP (otherwise the idle fork's 1 ms wake-ups preempt the
# server under test about 1000 times a second).
# Same mix everywhere: 90% GET / 10% SET, 100000 keys (written first),
# 64-byte values; 1 and 50 clients, pipeline 1 and 16. fnr-bench drives all
# three servers with that exact mix; redis-benchmark (which runs GET and SET
# separately) gives the familiar reference for stock Redis, right after
# fnr-bench on it, sized to about T seconds per test.
# Rules: the fork registers with a private fragnetd (it requires its rules)
# and is measured twice per configuration, back to back: with no rules (a
# ruleset without a table for it; app.redis.unfiltered = yes, since without
# a table fragnetd otherwise drops every input packet) and with 100 rules in table inet redis that
# every request traverses (50 "ip saddr NET counter drop" for other
# networks, 49 "udp dport PORT counter accept" for other services, then the
# accept for the clients' network and the Redis port). After every 100-rule
# run the script checks with fragnetctl that the 99 first rules matched
# nothing and the last one matched every request.
# The client's address is in the fork's udp-trusted-prefixes (a trusted LAN,
# as in production behind anti-spoofing): no cookie handshake, no 3x limit.
# Noise: every configuration is measured on all servers back to back, ROUNDS times, each round in a rotated order (the
# fork's two runs always adjacent); the tables give medians and the spread
# (max-min)/median over the rounds, and the CPU steal time of the run. Then
# PAIRS (-A, default 10) short alternating no-rules/100-rules pairs at 50
# clients, pipeline 1 give a paired ratio with quartiles. Each run records
# the involuntary context switches of the generator and of the serving
# thread (how often another task took their CPU; for memcached that
# includes its own LRU and maintenance threads, which share CPU 1), and the
# tables report them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
T=5
R=3
AB=10
TAB=2
out=
all_tables=1
while getopts "T:R:A:o:1" o; do
	case $o in
	T) T=$OPTARG ;;
	R) R=$OPTARG ;;
	A) AB=$OPTARG ;;
	o) out=$OPTARG ;;
	1) all_tables=0 ;;
	*) echo "usage: $0 [-T seconds] [-R rounds] [-A pairs] [-o results.csv] [-1]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
fork=${FNR_REDIS_SERVER:-$root/redis/work/bin/redis-server}
bench=${FNR_BENCH:-$root/build/bench/redis/fnr-bench}
fragnetd=${FRAGNETD:-$root/build/daemon/fragnetd}
fragnetctl=${FRAGNETCTL:-$root/build/tools/fragnetctl/fragnetctl}
for b in "$fork" "$bench" "$fragnetd" "$fragnetctl" /usr/bin/redis-server /usr/bin/redis-benchmark \
	/usr/bin/memcached; do
	[ -x "$b" ] || { echo "missing $b (scripts/setup.sh builds and installs everything)" >&2; exit 1; }
done

. "$root/scripts/lib/topology.sh"
topo_init fnrb
D=${TOPO_TAG}d                           # fragnetd's compile namespace (the daemon's own)
work=$(mktemp -d /tmp/fnr-bench.XXXXXX)
chmod 755 "$work"
sock=$work/fragnetd.sock
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null || true; done
	for _ in $(seq 30); do
		alive=0
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for ns in "$D" "$D.check"; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "$work"
}
topo_on_exit cleanup
# Namespaces: servers ($S) and load generator ($C). One veth pair for the
# fork's DPDK port (FS, no kernel address), one for the kernel's servers;
# one queue each way: the fork's one net_af_xdp port sees every flow.
topo_pair
topo_link 10.78.0 --static-neigh
S=$TOPO_S C=$TOPO_C FS=$LINK_S FC=$LINK_C FIP=$LINK_SIP FCIP=$LINK_CIP fcmac=$LINK_CMAC
topo_link 10.78.1 --server-kernel
KIP=$LINK_SIP
inS() { ip netns exec "$S" "$@"; }
inC() { ip netns exec "$C" "$@"; }
ctl() { "$fragnetctl" -s "$sock" "$@"; }

# The rulesets. 100 rules: 99 the traffic has to pass, then its accept.
{
	echo "table inet redis {"
	echo "	chain input {"
	echo "		type filter hook input priority filter; policy drop;"
	for i in $(seq 0 49); do echo "		ip saddr 172.16.$i.0/24 counter drop"; done
	for i in $(seq 0 48); do echo "		udp dport $((7000 + i)) counter accept"; done
	echo "		ip saddr 10.78.0.0/24 udp dport 6380 counter accept"
	echo "	}"
	echo "}"
} >"$work/rules100.nft"
echo "# no rules: no table for the Redis fork, nothing filtered (app.redis.unfiltered)" >"$work/norules.nft"
[ "$(grep -c counter "$work/rules100.nft")" = 100 ] || { echo "rules100.nft is not 100 rules" >&2; exit 1; }
printf 'socket = %s\nnetns = %s\nrules = %s\napp.redis.unfiltered = yes\n' "$sock" "$D" \
	"$work/norules.nft" >"$work/fragnetd.conf"
"$fragnetd" -c "$work/fragnetd.conf" >"$work/fragnetd.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q "ready on" "$work/fragnetd.log" && break; sleep 0.1; done
grep -q "ready on" "$work/fragnetd.log" || { cat "$work/fragnetd.log" >&2; exit 1; }

wait_tcp() { # ns addr port
	for _ in $(seq 100); do
		ip netns exec "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "no server on $2:$3" >&2
	return 1
}

results=$work/results.csv
echo "round,server,tool,clients,pipeline,rps,p50_us,p99_us,lost,client_preempt_s,server_preempt_s" >"$results"
round=0
# Involuntary context switches of the thread that serves (Redis's main
# thread, memcached's mc-worker): how often another task took its CPU.
preempts() { # pid[:thread name]
	local pid=${1%%:*} t
	t=/proc/$pid/task/$pid
	[ "$1" != "$pid" ] && t=$(grep -lx "${1#*:}" /proc/"$pid"/task/*/comm | head -1) && t=${t%/comm}
	awk '/^nonvoluntary_ctxt_switches/ {print $2}' "$t/status" 2>/dev/null || echo 0
}
# A run that fails (fnr-bench gives up on a TCP request after 5 s, or on a
# UDP server that stopped answering) is recorded with no figures and the
# rounds go on; the tables say how many runs each median comes from.
fnr() { # label proto host port clients pipeline server-pid[:thread]
	local line rps p50 p99 lost cpre spre0 spre timeout=500
	[ "$2" = resp-tcp ] && timeout=5000   # TCP loses nothing: only a stall times out
	spre0=$(preempts "$7")
	if ! line=$(inC taskset -c 0 "$bench" --proto "$2" -h "$3" -p "$4" -c "$5" -P "$6" -T "$T" \
		--warmup 1 -r 100000 -d 64 --get-ratio 0.9 --timeout $timeout --csv --label x); then
		echo "$round,$1,fnr-bench,$5,$6,,,,0,," >>"$results"
		printf '  %-28s %3d clients  P=%-3d FAILED (see above)\n' "$1" "$5" "$6"
		return 0
	fi
	spre=$(awk "BEGIN{printf \"%.1f\", ($(preempts "$7") - $spre0) / ($T + 1)}")
	IFS=, read -r _ _ _ _ rps p50 p99 _ lost cpre _ <<<"$line"
	cpre=$(awk "BEGIN{printf \"%.1f\", $cpre / $T}")
	echo "$round,$1,fnr-bench,$5,$6,$rps,$p50,$p99,$lost,$cpre,$spre" >>"$results"
	printf '  %-28s %3d clients  P=%-3d %9s req/s  p50 %6s us  p99 %6s us  lost %s  preempted/s %s+%s\n' \
		"$1" "$5" "$6" "$rps" "$p50" "$p99" "$lost" "$cpre" "$spre"
}
# redis-benchmark runs a request count, not a time: about T seconds per
# test at the rate fnr-bench just measured on the same server.
rbench() { # clients pipeline
	local rps n
	rps=$(tail -1 "$results" | cut -d, -f6)
	n=$(awk "BEGIN{n = int(${rps:-0} * $T); print (n < 1000 ? 1000 : n)}")
	inC taskset -c 0 redis-benchmark -h "$KIP" -p 6379 -c "$1" -P "$2" -t get,set -r 100000 -d 64 \
		-n "$n" --csv 2>/dev/null | tail -n +2 | tr -d '"' |
	while IFS=, read -r test rps _ _ p50 _ p99 _; do
		p50us=$(awk "BEGIN{printf \"%d\", $p50*1000}"); p99us=$(awk "BEGIN{printf \"%d\", $p99*1000}")
		echo "$round,stock RESP/TCP ($test only),redis-benchmark,$1,$2,${rps%.*},$p50us,$p99us,0,," >>"$results"
		printf '  %-28s %3d clients  P=%-3d %9s req/s  p50 %6s us  p99 %6s us\n' \
			"stock RESP/TCP ($test, r-b)" "$1" "$2" "${rps%.*}" "$p50us" "$p99us"
	done
}
fill() { # proto host port
	inC "$bench" --proto "$1" -h "$2" -p "$3" -c 1 -T 0.1 --warmup 0 -r 100000 -d 64 --fill --csv >/dev/null
}
# fragnetctl load waits until the fork applied the generation (exit 4 if not).
rules() { # norules|rules100
	ctl load "$work/$1.nft" >/dev/null || { echo "fragnetctl load $1.nft failed" >&2; return 1; }
}
# After a 100-rule run: the 99 first rules matched nothing, the last all.
check_rules() { # requests/s of the run, pipeline
	ctl -j list ruleset | python3 -c '
import json, sys
j = json.load(sys.stdin)
app = [a for a in j["apps"] if a["name"] == "redis"][0]
pk = [c["packets"] for c in sorted(app["counters"], key=lambda c: c["handle"])]
reqs = float(sys.argv[1]) * float(sys.argv[3]) / float(sys.argv[2])
ok = len(pk) == 100 and sum(pk[:99]) == 0 and pk[99] >= reqs
print("    rules: %d counters, the first 99 matched %d, the last %d (requests measured: %d, plus warm-up)%s"
      % (len(pk), sum(pk[:99]), pk[-1] if pk else 0, reqs, "" if ok else "  <-- NOT AS EXPECTED"))
sys.exit(0 if ok else 1)' "$1" "$2" "$T" | tee -a "$work/rules-check.txt"
}
fork_run() { # norules|rules100 clients pipeline
	local label="fork RESP/UDP (no rules)" rps
	rules "$1"
	[ "$1" = rules100 ] && label="fork RESP/UDP (100 rules)"
	fnr "$label" resp-udp "$FIP" 6380 "$2" "$3" "$fork_pid"
	rps=$(tail -1 "$results" | cut -d, -f6)
	if [ "$1" = rules100 ] && [ -n "$rps" ]; then
		check_rules "$rps" "$3"
	fi
}

# All servers run at once, each pinned to CPU 1.
ip netns exec "$S" taskset -c 1 "$fork" --port 7000 --bind 127.0.0.1 --save "" --appendonly no \
	--dir "$work" --protected-mode no --logfile "$work/fork.log" --udp-port 6380 \
	--udp-address "$FIP/24" --udp-dpdk-ports "net_af_xdp0,iface=$FS,start_queue=0,queue_count=1" \
	--udp-lcores 1 --udp-neighbours "$FCIP=$fcmac" \
	--udp-daemon-socket "$sock" --udp-trusted-prefixes "$FCIP/32" 2>"$work/fork.stderr" &
fork_pid=$!
pids+=($!)
ip netns exec "$S" taskset -c 1 /usr/bin/redis-server --port 6379 --bind "$KIP" --save "" \
	--appendonly no --dir "$work" --protected-mode no --logfile "$work/stock.log" &
stock_pid=$!
pids+=($!)
ip netns exec "$S" taskset -c 1 memcached -u root -U 11211 -p 11211 -l "$KIP" -t 1 -m 256 &
mc_pid=$!
pids+=($!)
wait_tcp "$S" 127.0.0.1 7000 || { tail "$work/fork.log"; exit 1; }
wait_tcp "$S" "$KIP" 6379
wait_tcp "$S" "$KIP" 11211
echo "fork: $(/usr/bin/redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')+fragnet over UDP (net_af_xdp), rules from a private fragnetd;" \
	"stock: Debian redis-server over kernel TCP; memcached $(memcached -V | cut -d' ' -f2) over kernel UDP"
echo "$R round(s) of ${T} s measurements (plus 1 s warm-up each), order rotated every round"
fill resp-udp "$FIP" 6380
fill resp-tcp "$KIP" 6379
fill memcache-udp "$KIP" 11211

steal() { awk '/^cpu / {print $9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }
read -r steal0 total0 < <(steal)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$(date +%s)
configs=("1 1" "1 16" "50 1" "50 16")
# Only the server being measured runs: the others are stopped (SIGSTOP), so
# that their timers (the idle fork wakes every 1 ms) never take CPU 1.
only() { # fork|stock|memcached
	local p
	for p in "$fork_pid" "$stock_pid" "$mc_pid"; do kill -STOP "$p"; done
	case $1 in
	fork) kill -CONT "$fork_pid" ;;
	stock) kill -CONT "$stock_pid" ;;
	memcached) kill -CONT "$mc_pid" ;;
	esac
}
# The fork's two runs of a configuration are always adjacent (their order
# alternates by round): the ratio compares runs seconds apart.
units=(fork stock memcached)
for round in $(seq 1 "$R"); do
	echo "== round $round of $R"
	for i in 0 1 2 3; do
		set -- ${configs[$(( (i + round - 1) % 4 ))]}
		c=$1 p=$2
		for j in 0 1 2; do
			unit=${units[$(( (j + round - 1) % 3 ))]}
			only "$unit"
			case $unit in
			fork)
				if [ $((round % 2)) = 1 ]; then
					fork_run norules "$c" "$p"; fork_run rules100 "$c" "$p"
				else
					fork_run rules100 "$c" "$p"; fork_run norules "$c" "$p"
				fi ;;
			stock) fnr "stock RESP/TCP" resp-tcp "$KIP" 6379 "$c" "$p" "$stock_pid"
				rbench "$c" "$p" ;;
			memcached) fnr "memcached text/UDP" memcache-udp "$KIP" 11211 "$c" "$p" "$mc_pid:mc-worker" ;;
			esac
		done
	done
done
# Rules A/B: many short alternating pairs at 50 clients, pipeline 1 (one
# datagram per command: where a per-packet cost shows most).
if [ "$AB" -gt 0 ]; then
	echo "== rules A/B: $AB alternating pairs of ${TAB} s runs, 50 clients, pipeline 1"
	T_main=$T T=$TAB
	only fork
	for k in $(seq 1 "$AB"); do
		round=ab$k
		if [ $((k % 2)) = 1 ]; then
			fork_run norules 50 1; fork_run rules100 50 1
		else
			fork_run rules100 50 1; fork_run norules 50 1
		fi
	done
	T=$T_main
fi
for p in "$fork_pid" "$stock_pid" "$mc_pid"; do kill -CONT "$p"; done
read -r steal1 total1 < <(steal)
load1=$(cut -d' ' -f1-3 /proc/loadavg)
rules norules
drops=$(ctl -j stats | python3 -c '
import json, sys
print(sum(q["drops_by_reason"].get("filter", 0) for a in json.load(sys.stdin)["apps"] if a["name"] == "redis"
          for q in a["queue_stats"]))')
grep "UDP transport" "$work/fork.log" | tail -1 | sed 's/^[0-9]*:M [^*]*\* /fork: /'
echo "fork's filter drops over the run: $drops"

echo
out_dir=${RESULTS:-$root/bench/results}
mkdir -p "$out_dir"
python3 - "$results" "$out_dir/redis.csv" <<'PY'
import csv, statistics as st, sys
rows = list(csv.DictReader(open(sys.argv[1])))
ab = [r for r in rows if r["round"].startswith("ab")]
rows = [r for r in rows if not r["round"].startswith("ab")]
order, cells, failed = [], {}, {}
for r in rows:
    k = (r["server"], r["tool"], int(r["clients"]), int(r["pipeline"]))
    if k not in cells:
        order.append(k)
        cells[k] = []
        failed[k] = 0
    if r["rps"]:
        cells[k].append(r)
    else:
        failed[k] += 1
def med(rs, f): return st.median(float(r[f]) for r in rs)
def pre(r): return float(r["client_preempt_s"]) + float(r["server_preempt_s"]) if r["client_preempt_s"] else None
def medpre(rs):
    v = [pre(r) for r in rs if pre(r) is not None]
    return "%.0f" % st.median(v) if v else "-"
QUIET = 100  # preemptions/s (client + server) below which a run counts as quiet: a CPU hog
             # sharing the core under CFS preempts every few ms (>= 100-250/s)
def spread(rs):
    v = [float(r["rps"]) for r in rs]
    return 100 * (max(v) - min(v)) / st.median(v) if len(v) > 1 and st.median(v) else 0
rank = {"fork RESP/UDP (no rules)": 0, "fork RESP/UDP (100 rules)": 1, "stock RESP/TCP": 2,
        "stock RESP/TCP (GET only)": 3, "stock RESP/TCP (SET only)": 4, "memcached text/UDP": 5}
order.sort(key=lambda k: (k[2], k[3], rank.get(k[0], 9)))
n = max(len(v) + failed[k] for k, v in cells.items())
print("Medians of %d round(s); spread = (max - min) / median of requests/s over the rounds;" % n)
print("runs = rounds with figures (a failed run has none); preempt/s = median involuntary context")
print("switches per second of the load generator plus the server (other tasks taking their CPU).")
print()
print("| server, transport | tool | clients | pipeline | requests/s | spread | p50 us | p99 us | lost | runs | preempt/s |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for k in order:
    rs = cells[k]
    if not rs:
        print("| %s | %s | %d | %d | - | - | - | - | - | 0 of %d | - |" % (k + (failed[k],)))
        continue
    print("| %s | %s | %d | %d | %.0f | %.0f%% | %.0f | %.0f | %d | %d | %s |" % (
        k[0], k[1], k[2], k[3], med(rs, "rps"), spread(rs), med(rs, "p50_us"), med(rs, "p99_us"),
        sum(int(r["lost"]) for r in rs), len(rs), medpre(rs)))
# The table's requests/s as CSV, one row per load, one column per server.
cols = [c for c in rank if any(k[0] == c and k[1] == "fnr-bench" for k in order)]
with open(sys.argv[2], "w") as f:
    f.write("load," + ",".join("%s req/s" % c for c in cols) + "\n")
    for c, p in sorted({(k[2], k[3]) for k in order}):
        vals = [cells.get((s, "fnr-bench", c, p)) for s in cols]
        f.write("%d clients pipeline %d," % (c, p) +
                ",".join("%.0f" % med(v, "rps") if v else "" for v in vals) + "\n")
allruns = [r for rs in cells.values() for r in rs if pre(r) is not None]
if allruns:
    noisy = [r for r in allruns if pre(r) >= QUIET]
    print()
    print("%d of %d fnr-bench runs were preempted %d or more times per second (client + server)."
          % (len(noisy), len(allruns), QUIET))
print()
print("The fork with 100 rules against no rules (same process, rules swapped by fragnetctl load")
print("between back-to-back runs; ratio = median over rounds of 100-rule/no-rule requests/s):")
print()
print("| clients | pipeline | no rules req/s | 100 rules req/s | ratio (min-max) | p50 us none / 100 | p99 us none / 100 |")
print("|---:|---:|---:|---:|---:|---:|---:|")
for c, p in sorted({(k[2], k[3]) for k in order}):
    a = cells.get(("fork RESP/UDP (no rules)", "fnr-bench", c, p), [])
    b = cells.get(("fork RESP/UDP (100 rules)", "fnr-bench", c, p), [])
    if not a or not b:
        continue
    byround = {r["round"]: float(r["rps"]) for r in a}
    ratios = [float(r["rps"]) / byround[r["round"]] for r in b if byround.get(r["round"])]
    if not ratios:
        continue
    print("| %d | %d | %.0f | %.0f | %.3f (%.3f-%.3f) | %.0f / %.0f | %.0f / %.0f |" % (
        c, p, med(a, "rps"), med(b, "rps"), st.median(ratios), min(ratios), max(ratios),
        med(a, "p50_us"), med(b, "p50_us"), med(a, "p99_us"), med(b, "p99_us")))
pairs = {}
for r in ab:
    if r["rps"]:
        pairs.setdefault(r["round"], {})["100" in r["server"]] = r
ratios = sorted(float(p[True]["rps"]) / float(p[False]["rps"]) for p in pairs.values() if len(p) == 2)
if ratios:
    q = lambda f: ratios[min(len(ratios) - 1, int(f * len(ratios)))]
    a = [p[False] for p in pairs.values() if len(p) == 2]
    b = [p[True] for p in pairs.values() if len(p) == 2]
    print()
    print("Rules A/B, 50 clients, pipeline 1, %d adjacent pairs of short runs: 100-rule/no-rule requests/s"
          % len(ratios))
    print("median %.3f, quartiles %.3f-%.3f, range %.3f-%.3f; medians %.0f vs %.0f req/s, p50 %.0f vs %.0f us,"
          " p99 %.0f vs %.0f us (no rules vs 100 rules)" % (
              st.median(ratios), q(0.25), q(0.75), ratios[0], ratios[-1], med(a, "rps"), med(b, "rps"),
              med(a, "p50_us"), med(b, "p50_us"), med(a, "p99_us"), med(b, "p99_us")))
    quiet = sorted(float(p[True]["rps"]) / float(p[False]["rps"]) for p in pairs.values()
                   if len(p) == 2 and all(pre(r) is not None and pre(r) < QUIET for r in p.values()))
    if quiet:
        print("pairs where both runs were quiet (< %d preemptions/s): %d, ratio median %.3f, range %.3f-%.3f"
              % (QUIET, len(quiet), st.median(quiet), quiet[0], quiet[-1]))
    else:
        print("no pair had both runs quiet (< %d preemptions/s)" % QUIET)
PY
python3 -c "
s0, t0, s1, t1 = map(float, '$steal0 $total0 $steal1 $total1'.split())
print('\nRun: %d s; CPU steal %.1f%% of the time (other guests on the host); load average %s at the start, %s at the end; 2 vCPUs.'
      % ($(date +%s) - $t_start, 100 * (s1 - s0) / max(t1 - t0, 1), '$load0', '$load1'))"
"$root/bench/plot.sh" "$out_dir/redis.csv" "$out_dir/redis.png" \
	"Redis fork over UDP against stock Redis over TCP and memcached over UDP, fnr-bench ($(date +%F))" \
	"requests/s (log)" "$(seq -s, 2 "$(head -1 "$out_dir/redis.csv" | awk -F, '{print NF}')")" log || true
[ -n "$out" ] && cp "$results" "$out"
[ $all_tables = 1 ] || exit 0
# The other two tables, with this run's servers gone (cleanup is safe to
# run again at exit).
cleanup
pids=()
echo
"$here/capacity.sh" -T "$T" -R "$R"
echo
"$here/icount.sh"
