#!/usr/bin/env bash
# The Redis fork over UDP (libfragnet, DPDK net_af_xdp) against Debian's stock
# redis-server over kernel TCP and memcached over kernel UDP, side by side in
# one run, on one veth pair between two network namespaces.
#
#   bench/redis/run.sh [-T SECONDS] [-o CSV]
#
# Where things run (2 vCPUs): every server is pinned to CPU 1, alone; the
# load generator runs on CPU 0 in the peer namespace and talks through the
# kernel's veth, so it is the same path for every server.
# Who polls: the fork busy-polls its queue (udp-busy-poll yes, DPDK PMD);
# stock Redis and memcached sleep in epoll_wait; the load generators (fnr-bench
# and redis-benchmark) sleep in epoll_wait.
# Same mix everywhere: 90% GET / 10% SET, 100000 keys (written first),
# 64-byte values; 1 and 50 clients, pipeline 1 and 16. fnr-bench drives all
# three servers with that exact mix; redis-benchmark (which runs GET and SET
# separately) gives the familiar reference for stock Redis.
# TODO (needs fragnetd): the fork with a 100-rule ruleset against no rules.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
T=5
out=
while getopts "T:o:" o; do
	case $o in
	T) T=$OPTARG ;;
	o) out=$OPTARG ;;
	*) echo "usage: $0 [-T seconds] [-o results.csv]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
fork=${FNR_REDIS_SERVER:-$root/redis/work/bin/redis-server}
bench=${FNR_BENCH:-$root/build/bench/redis/fnr-bench}
for b in "$fork" "$bench" /usr/bin/redis-server /usr/bin/redis-benchmark /usr/bin/memcached; do
	[ -x "$b" ] || { echo "missing $b (scripts/setup.sh builds and installs everything)" >&2; exit 1; }
done

tag=$$
S=fnrb${tag}s C=fnrb${tag}c
SIP=10.78.0.1 CIP=10.78.0.2
work=$(mktemp -d /tmp/fnr-bench.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	sleep 0.5
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	ip netns del "$S" 2>/dev/null || true
	ip netns del "$C" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
inS() { ip netns exec "$S" "$@"; }
inC() { ip netns exec "$C" "$@"; }

ip netns add "$S"
ip netns add "$C"
# One queue each way: the fork's one net_af_xdp port sees every flow.
ip link add "$S" type veth peer name "$C"
ip link set "$S" netns "$S"
ip link set "$C" netns "$C"
inS ip link set lo up
inS ip link set "$S" up
inC ip link set lo up
inC ip addr add "$CIP/24" dev "$C"
inC ip link set "$C" up
inC ethtool -K "$C" tx off >/dev/null 2>&1 || true
smac=$(inS cat /sys/class/net/"$S"/address)
cmac=$(inC cat /sys/class/net/"$C"/address)
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true

wait_tcp() { # ns port
	for _ in $(seq 100); do
		ip netns exec "$1" bash -c "exec 3<>/dev/tcp/127.0.0.1/$2" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

results=$work/results.csv
echo "server,transport,tool,clients,pipeline,rps,p50_us,p99_us,lost" >"$results"
fnr() { # label proto host port clients pipeline
	local line
	line=$(inC taskset -c 0 "$bench" --proto "$2" -h "$3" -p "$4" -c "$5" -P "$6" -T "$T" \
		--warmup 1 -r 100000 -d 64 --get-ratio 0.9 --csv --label x) || { echo "fnr-bench failed: $1" >&2; return 1; }
	IFS=, read -r _ _ _ _ rps p50 p99 _ lost <<<"$line"
	echo "$1,fnr-bench,$5,$6,$rps,$p50,$p99,$lost" >>"$results"
	printf '  %-28s %3d clients  P=%-3d %10s req/s  p50 %6s us  p99 %6s us  lost %s\n' \
		"$1" "$5" "$6" "$rps" "$p50" "$p99" "$lost"
}
fill() { # proto host port
	inC "$bench" --proto "$1" -h "$2" -p "$3" -c 1 -T 0.1 --warmup 0 -r 100000 -d 64 --fill --csv >/dev/null
}

echo "== the fork over UDP (libfragnet, net_af_xdp, busy polling on CPU 1)"
ip netns exec "$S" taskset -c 1 "$fork" --port 7000 --bind 127.0.0.1 --save "" --appendonly no --dir "$work" \
	--protected-mode no --logfile "$work/fork.log" --udp-port 6380 --udp-address "$SIP/24" \
	--udp-dpdk-ports "net_af_xdp0,iface=$S,start_queue=0,queue_count=1" --udp-lcores 1 \
	--udp-busy-poll yes --udp-neighbours "$CIP=$cmac" &
pids+=($!)
wait_tcp "$S" 7000 || { tail "$work/fork.log"; exit 1; }
inC ip neigh replace "$SIP" lladdr "$smac" dev "$C" nud permanent
fill resp-udp "$SIP" 6380
for c in 1 50; do for p in 1 16; do
	fnr "fork RESP/UDP" resp-udp "$SIP" 6380 "$c" "$p"
done; done
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
grep "UDP transport" "$work/fork.log" | tail -2 | sed 's/^/  /'
inC ip neigh del "$SIP" dev "$C" 2>/dev/null || true

# Kernel phase: the same veth end now belongs to the kernel.
inS ip addr add "$SIP/24" dev "$S"

echo "== stock redis-server $(/usr/bin/redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') over kernel TCP (epoll, CPU 1)"
ip netns exec "$S" taskset -c 1 /usr/bin/redis-server --port 6379 --bind "$SIP" --save "" --appendonly no \
	--dir "$work" --protected-mode no --logfile "$work/stock.log" &
pids+=($!)
wait_tcp "$S" 6379 2>/dev/null || sleep 1
fill resp-tcp "$SIP" 6379
for c in 1 50; do for p in 1 16; do
	fnr "stock RESP/TCP" resp-tcp "$SIP" 6379 "$c" "$p"
done; done
for c in 1 50; do for p in 1 16; do
	n=$(( c * p * 20000 )); [ $n -gt 2000000 ] && n=2000000
	inC taskset -c 0 redis-benchmark -h "$SIP" -p 6379 -c "$c" -P "$p" -t get,set -r 100000 -d 64 \
		-n "$n" --csv 2>/dev/null | tail -n +2 | tr -d '"' |
	while IFS=, read -r test rps _ _ p50 _ p99 _; do
		p50us=$(awk "BEGIN{printf \"%d\", $p50*1000}"); p99us=$(awk "BEGIN{printf \"%d\", $p99*1000}")
		echo "stock RESP/TCP ($test only),redis-benchmark,$c,$p,${rps%.*},$p50us,$p99us,0" >>"$results"
		printf '  %-28s %3d clients  P=%-3d %10s req/s  p50 %6s us  p99 %6s us\n' \
			"stock RESP/TCP $test (r-b)" "$c" "$p" "${rps%.*}" "$p50us" "$p99us"
	done
done; done
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

echo "== memcached $(memcached -V | cut -d' ' -f2) over kernel UDP (epoll, one worker thread, CPU 1)"
ip netns exec "$S" taskset -c 1 memcached -u root -U 11211 -p 0 -l "$SIP" -t 1 -m 256 &
pids+=($!)
sleep 0.5
fill memcache-udp "$SIP" 11211
for c in 1 50; do for p in 1 16; do
	fnr "memcached text/UDP" memcache-udp "$SIP" 11211 "$c" "$p"
done; done
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

echo
echo "| server, transport | tool | clients | pipeline | requests/s | p50 us | p99 us | lost |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
tail -n +2 "$results" | while IFS=, read -r s tool c p rps p50 p99 lost; do
	echo "| $s | $tool | $c | $p | $rps | $p50 | $p99 | $lost |"
done
echo "(load average during the run: $(cut -d' ' -f1-3 /proc/loadavg); 2 vCPUs)"
[ -n "$out" ] && cp "$results" "$out"
exit 0
