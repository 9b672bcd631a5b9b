#!/usr/bin/env bash
# What one server core serves: the Redis fork over UDP on a memif pair,
# driven by fnr-gen (DPDK, not the bound), against Debian's stock Redis over
# kernel TCP and memcached over kernel UDP (both on loopback, driven by
# fnr-bench), as requests per second of the serving thread's CPU time.
#
#   bench/redis/capacity.sh [-T SECONDS] [-R ROUNDS] [-N]
#
# Same mix everywhere: 90% GET / 10% SET over 100000 keys (all written
# first), values of 64 B and 1 KB, pipeline 1 and 16. Servers on CPU 1, load
# on CPU 0.
#   fork:      redis-server (this tree's redis/work/bin, or FNR_REDIS_SERVER)
#              with its UDP transport on net_memif0 role=server, no rules
#              (udp-require-rules no), the generator's address trusted (no
#              cookie handshake); fnr-gen on the client end: 256 flows x 4
#              requests in flight at pipeline 1, 64 flows x 1 at pipeline 16
#              (1024 commands in flight either way).
#   stock:     /usr/bin/redis-server on 127.0.0.1 (TCP) in a private network
#              namespace; fnr-bench --proto resp-tcp, 50 connections.
#   memcached: memcached -t 1 -U on 127.0.0.1 (UDP), same namespace;
#              fnr-bench --proto memcache-udp, 50 flows.
# Server CPU: utime + stime of the serving thread (/proc/PID/task/TID/stat:
# Redis's main thread, memcached's mc-worker) over the measured interval,
# read by the load tool at its start and end; requests per server
# CPU-second = requests/s * 100 / server CPU %.
# What bounds a figure: fnr-gen reports its idle share (of its time, and of
# its receive polls, that found nothing: it waited for the server); the
# fork is called the bound when fnr-gen idled 20% of its time or more in
# every round. fnr-bench reports its own CPU: the side (server or client,
# each on its own CPU) that used more CPU is called the bound. The table
# says which side it was.
# Autogroup: this kernel gives every session an equal share of a CPU,
# whatever the nice values inside it, so on a machine shared with other
# work a benchmark at nice 0 gets as little as a niced build. Unless -N,
# the script runs in a session of its own whose autogroup has nice -10,
# which gives back the usual meaning of nice (benchmarks before niced
# builds); the CPU % columns show what each server still got.
# Noise: ROUNDS rounds, each measuring every configuration on every server;
# medians and spread = (max - min) / median over the rounds.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
T=5
R=3
boost=1
while getopts "T:R:N" o; do
	case $o in
	T) T=$OPTARG ;;
	R) R=$OPTARG ;;
	N) boost=0 ;;
	*) echo "usage: $0 [-T seconds] [-R rounds] [-N (no autogroup priority)]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "run as root (hugepages, network namespaces)" >&2; exit 1; }
if [ $boost = 1 ] && [ -z "${FNR_CAPACITY_SESSION:-}" ]; then
	exec setsid -w env FNR_CAPACITY_SESSION=1 "$0" "$@"
fi
[ $boost = 1 ] && echo -10 >/proc/self/autogroup
fork=${FNR_REDIS_SERVER:-$root/redis/work/bin/redis-server}
gen=${FNR_GEN:-$root/build/bench/redis/fnr-gen}
bench=${FNR_BENCH:-$root/build/bench/redis/fnr-bench}
for b in "$fork" "$gen" "$bench" /usr/bin/redis-server /usr/bin/memcached; do
	[ -x "$b" ] || { echo "missing $b (scripts/setup.sh builds and installs everything)" >&2; exit 1; }
done
free_mb=$(awk '/HugePages_Free/ {f=$2} /Hugepagesize/ {s=$2} END {print int(f*s/1024)}' /proc/meminfo)
[ "$free_mb" -ge 200 ] || { echo "needs about 200 MB of free hugepages, has $free_mb MB" >&2; exit 1; }

work=$(mktemp -d /tmp/fnr-capacity.XXXXXX)
ns=fnrcap$$
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ip netns add "$ns"
ip -n "$ns" link set lo up
inNS() { ip netns exec "$ns" "$@"; }

SMAC=02:fe:00:00:00:01 GMAC=02:fe:00:00:00:02
results=$work/results.csv
echo "round,server,value,pipeline,rps,server_cpu,load_side,errors,lost" >"$results"
kv() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }

# The fork: started for each run (a memif peer that leaves while the other
# still polls crashes it), keys written by fnr-gen's fill.
fork_run() { # value pipeline
	local n=$((++runs)) sock fp gp res flows=256 window=4
	[ "$2" -gt 1 ] && flows=64 window=1
	sock=$work/memif$n.sock
	taskset -c 1 "$fork" --port 0 --unixsocket "$work/fork$n.sock" --save "" --appendonly no \
		--dir "$work" --protected-mode no --logfile "$work/fork$n.log" --udp-port 6380 \
		--udp-address 10.0.0.1/24 --udp-lcores 1 --udp-eal-args "--in-memory --no-telemetry" \
		--udp-dpdk-ports "net_memif0,role=server,id=0,socket=$sock,socket-abstract=no,mac=$SMAC" \
		--udp-neighbours "10.0.0.2=$GMAC" --udp-require-rules no \
		--udp-trusted-prefixes 10.0.0.2/32 --udp-max-flows 4096 2>"$work/fork$n.err" &
	fp=$!
	pids+=("$fp")
	for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
	[ -S "$sock" ] || { cat "$work/fork$n.log" "$work/fork$n.err" >&2; echo "the fork did not start" >&2; exit 1; }
	# --linger: the generator keeps its end open until the fork has gone.
	timeout $((T + 60)) taskset -c 0 "$gen" -l 0 --in-memory --no-pci --no-telemetry \
		--log-level='*:error' --vdev "net_memif0,role=client,id=0,socket=$sock,socket-abstract=no,mac=$GMAC" \
		-- --dst-mac $SMAC --src-ip 10.0.0.2 --dst-ip 10.0.0.1 --flows $flows --window $window \
		--pipeline "$2" --value-size "$1" --keys 100000 --warmup 1 --duration "$T" --timeout-ms 1000 \
		--watch-task "$fp/$fp" --linger >"$work/gen$n.out" 2>"$work/gen$n.err" &
	gp=$!
	pids+=("$gp")
	for _ in $(seq $(((T + 50) * 10))); do
		grep -q '^rps=' "$work/gen$n.out" && break
		kill -0 "$gp" 2>/dev/null || break
		sleep 0.1
	done
	kill "$fp" 2>/dev/null
	wait "$fp" 2>/dev/null || true
	kill "$gp" 2>/dev/null
	wait "$gp" 2>/dev/null || true
	res=$(grep '^rps=' "$work/gen$n.out" || true)
	if [ -z "$res" ]; then
		echo "  fork: fnr-gen gave no result:" >&2
		tail -n 5 "$work/gen$n.err" "$work/fork$n.log" >&2
		echo "$round,fork RESP/UDP (memif),$1,$2,,,,," >>"$results"
		return 0
	fi
	echo "$round,fork RESP/UDP (memif),$1,$2,$(kv rps "$res"),$(kv server_cpu "$res"),idle $(kv idle_time "$res") $(kv idle "$res"),$(($(kv errors "$res") + $(kv misses "$res"))),$(kv lost "$res")" >>"$results"
	printf '  %-30s %5s B  P=%-3s %9s req/s  server CPU %5s%%  fnr-gen idle %s%% of its time (%s%% of polls)  errors %s misses %s lost %s\n' \
		fork "$1" "$2" "$(kv rps "$res")" "$(kv server_cpu "$res")" "$(kv idle_time "$res")" "$(kv idle "$res")" \
		"$(kv errors "$res")" "$(kv misses "$res")" "$(kv lost "$res")"
}

# The kernel's servers run through the whole script; keys are written
# again for each value size. (ip netns exec, not inNS: $! must be the
# server, not a subshell.)
ip netns exec "$ns" taskset -c 1 /usr/bin/redis-server --port 6379 --bind 127.0.0.1 --save "" --appendonly no \
	--dir "$work" --protected-mode no --logfile "$work/stock.log" &
stock_pid=$!
pids+=("$stock_pid")
ip netns exec "$ns" taskset -c 1 memcached -u root -U 11211 -p 11211 -l 127.0.0.1 -t 1 -m 512 &
mc_pid=$!
pids+=("$mc_pid")
sleep 1
mc_tid=$(grep -lx mc-worker /proc/"$mc_pid"/task/*/comm | head -1 | cut -d/ -f5)
[ -n "$mc_tid" ] || { echo "no mc-worker thread in memcached $mc_pid" >&2; exit 1; }
kernel_run() { # label proto port tid value pipeline
	local line rps scpu ccpu lost
	if ! line=$(inNS taskset -c 0 "$bench" --proto "$2" -h 127.0.0.1 -p "$3" -c 50 -P "$6" -T "$T" \
		--warmup 1 -r 100000 -d "$5" --get-ratio 0.9 --timeout 1000 --watch-task "$4" --csv); then
		echo "$round,$1,$5,$6,,,,," >>"$results"
		echo "  $1: fnr-bench failed" >&2
		return 0
	fi
	IFS=, read -r _ _ _ _ rps _ _ _ lost _ scpu ccpu <<<"$line"
	echo "$round,$1,$5,$6,$rps,$scpu,client $ccpu,0,$lost" >>"$results"
	printf '  %-30s %5s B  P=%-3s %9s req/s  server CPU %5s%%  fnr-bench CPU %s%%  lost %s\n' \
		"$1" "$5" "$6" "$rps" "$scpu" "$ccpu" "$lost"
}
fill() { # value
	inNS "$bench" --proto resp-tcp -h 127.0.0.1 -p 6379 -c 1 -T 0.1 --warmup 0 -r 100000 -d "$1" \
		--fill --csv >/dev/null
	inNS "$bench" --proto memcache-udp -h 127.0.0.1 -p 11211 -c 1 -T 0.1 --warmup 0 -r 100000 \
		-d "$1" --fill --csv >/dev/null
}

steal() { awk '/^cpu / {print $9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }
read -r steal0 total0 < <(steal)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$(date +%s)
runs=0
echo "fork: $("$fork" --version | cut -d' ' -f3)+fragnet on memif, fnr-gen; stock: $(/usr/bin/redis-server --version | cut -d' ' -f3) over TCP;" \
	"memcached $(memcached -V | cut -d' ' -f2) over UDP; $R round(s) of ${T} s (plus 1 s warm-up)"
for round in $(seq "$R"); do
	echo "== round $round of $R"
	for v in 64 1024; do
		fill "$v"
		for p in 1 16; do
			fork_run "$v" "$p"
			kernel_run "stock RESP/TCP (loopback)" resp-tcp 6379 "$stock_pid" "$v" "$p"
			kernel_run "memcached text/UDP (loopback)" memcache-udp 11211 "$mc_pid/$mc_tid" "$v" "$p"
		done
	done
done
read -r steal1 total1 < <(steal)
load1=$(cut -d' ' -f1-3 /proc/loadavg)

out_dir=${RESULTS:-$root/bench/results}
mkdir -p "$out_dir"
{
python3 - "$results" "$out_dir/redis-capacity.csv" <<'PY'
import csv, statistics as st, sys
rows = [r for r in csv.DictReader(open(sys.argv[1]))]
servers = ["fork RESP/UDP (memif)", "stock RESP/TCP (loopback)", "memcached text/UDP (loopback)"]
cells = {}
for r in rows:
    cells.setdefault((r["server"], int(r["value"]), int(r["pipeline"])), []).append(r)
def per_cpu(r):
    return float(r["rps"]) * 100 / float(r["server_cpu"]) if r["rps"] and float(r["server_cpu"]) > 0 else None
def spread(v):
    return 100 * (max(v) - min(v)) / st.median(v) if len(v) > 1 and st.median(v) else 0
print("| server, transport | value | pipeline | requests/s | server CPU % | requests per server CPU-second | spread | load side | errors, lost | runs | bound |")
print("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---|")
loads = sorted({(k[1], k[2]) for k in cells})
csvrows = []
for v, p in loads:
    line = {}
    for s in servers:
        rs = [r for r in cells.get((s, v, p), []) if r["rps"]]
        n = len(cells.get((s, v, p), []))
        if not rs:
            print("| %s | %d | %d | - | - | - | - | - | - | 0 of %d | failed |" % (s, v, p, n))
            continue
        pc = [x for x in map(per_cpu, rs) if x]
        rps = st.median(float(r["rps"]) for r in rs)
        cpu = st.median(float(r["server_cpu"]) for r in rs)
        side = [float(r["load_side"].split()[1]) for r in rs]
        kind = rs[0]["load_side"].split()[0]
        if kind == "idle":
            # fnr-gen waited for the server this share of its time (and of
            # its polls, the second figure).
            polls = st.median(float(r["load_side"].split()[2]) for r in rs)
            bound = ("server (fnr-gen idle)" if min(side) >= 20 else
                     "fnr-gen (idle %.0f%% of its time)" % min(side))
            side_txt = "fnr-gen idle %.0f%% of its time, %.2f%% of its polls" % (st.median(side), polls)
        else:
            # Each side has its own CPU: the one that used more of it is
            # the saturated one, the other waited.
            c = st.median(side)
            bound = "server" if cpu >= c else "fnr-bench (client CPU %.0f%% > server %.0f%%)" % (c, cpu)
            side_txt = "fnr-bench CPU %.0f%%" % c
        errs = sum(int(r["errors"] or 0) for r in rs)
        lost = sum(int(r["lost"] or 0) for r in rs)
        print("| %s | %d | %d | %.0f | %.0f | %.0f | %.0f%% | %s | %d, %d | %d of %d | %s |" % (
            s, v, p, rps, cpu, st.median(pc) if pc else 0, spread(pc) if pc else 0, side_txt,
            errs, lost, len(rs), n, bound))
        line[s] = st.median(pc) if pc else None
    csvrows.append(("%d B pipeline %d" % (v, p), line))
with open(sys.argv[2], "w") as f:
    f.write("load," + ",".join("%s req per server CPU-s" % s for s in servers) + "\n")
    for label, line in csvrows:
        f.write(label + "," + ",".join("%.0f" % line[s] if line.get(s) else "" for s in servers) + "\n")
PY
python3 -c "
s0, t0, s1, t1 = map(float, '$steal0 $total0 $steal1 $total1'.split())
print('\nRun: %s, %d s; %s; %d CPUs; CPU steal %.1f%%; load average %s at the start, %s at the end; autogroup nice %s.'
      % ('$(date -u +%F\ %H:%M\ UTC)', $(date +%s) - $t_start, '$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)',
         $(nproc), 100 * (s1 - s0) / max(t1 - t0, 1), '$load0', '$load1', '$([ $boost = 1 ] && echo -10 || echo 0)'))"
} | tee "$out_dir/redis-capacity.md"
"$root/bench/plot.sh" "$out_dir/redis-capacity.csv" "$out_dir/redis-capacity.png" \
	"Requests per server CPU-second, 90% GET / 10% SET ($(date +%F))" \
	"requests per server CPU-second (log)" 2,3,4 log || true
