#!/usr/bin/env bash
# The Redis fork over UDP (libfragnet, DPDK net_af_xdp) against Debian's stock
# redis-server over kernel TCP and memcached over kernel UDP, side by side in
# one run, on one veth pair between two network namespaces.
#
#   bench/redis/run.sh [-T SECONDS] [-o CSV]
#
# Where things run (2 vCPUs): every server is pinned to CPU 1; the load
# generator runs on CPU 0 in the peer namespace and talks through the
# kernel's veth (one pair for the fork's DPDK port, one for the kernel's
# servers), so the client side is the same path for every server.
# Who polls: the fork polls its queue from its event loop (spinning while
# traffic flows); stock Redis and memcached sleep in epoll_wait; the load
# generators (fnr-bench and redis-benchmark) sleep in epoll_wait.
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
S=fnrb${tag}s C=fnrb${tag}c              # namespaces: servers, load generator
FS=fnrb${tag}f FC=fnrb${tag}g            # veth pair of the fork (DPDK side: FS)
KS=fnrb${tag}k KC=fnrb${tag}l            # veth pair of the kernel servers
FIP=10.78.0.1 FCIP=10.78.0.2 KIP=10.78.1.1 KCIP=10.78.1.2
work=$(mktemp -d /tmp/fnr-bench.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for _ in $(seq 30); do
		alive=0
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$S" 2>/dev/null || true
	ip netns del "$C" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
inS() { ip netns exec "$S" "$@"; }
inC() { ip netns exec "$C" "$@"; }

ip netns add "$S"
ip netns add "$C"
inS ip link set lo up
inC ip link set lo up
# One queue each way: the fork's one net_af_xdp port sees every flow.
for pair in "$FS $FC" "$KS $KC"; do
	set -- $pair
	ip link add "$1" type veth peer name "$2"
	ip link set "$1" netns "$S"
	ip link set "$2" netns "$C"
	inS ip link set "$1" up
	inC ip link set "$2" up
	inC ethtool -K "$2" tx off >/dev/null 2>&1 || true
done
inC ip addr add "$FCIP/24" dev "$FC"
inS ip addr add "$KIP/24" dev "$KS"
inC ip addr add "$KCIP/24" dev "$KC"
fmac=$(inS cat /sys/class/net/"$FS"/address)
fcmac=$(inC cat /sys/class/net/"$FC"/address)
inC ip neigh replace "$FIP" lladdr "$fmac" dev "$FC" nud permanent

wait_tcp() { # ns addr port
	for _ in $(seq 100); do
		ip netns exec "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "no server on $2:$3" >&2
	return 1
}

results=$work/results.csv
echo "server,tool,clients,pipeline,rps,p50_us,p99_us,lost" >"$results"
fnr() { # label proto host port clients pipeline
	local line
	line=$(inC taskset -c 0 "$bench" --proto "$2" -h "$3" -p "$4" -c "$5" -P "$6" -T "$T" \
		--warmup 1 -r 100000 -d 64 --get-ratio 0.9 --csv --label x) || { echo "fnr-bench failed: $1" >&2; return 1; }
	IFS=, read -r _ _ _ _ rps p50 p99 _ lost <<<"$line"
	echo "$1,fnr-bench,$5,$6,$rps,$p50,$p99,$lost" >>"$results"
	printf '  %-30s %3d clients  P=%-3d %10s req/s  p50 %6s us  p99 %6s us  lost %s\n' \
		"$1" "$5" "$6" "$rps" "$p50" "$p99" "$lost"
}
rbench() { # clients pipeline
	local n=$(( $1 * $2 * 20000 )); [ $n -gt 2000000 ] && n=2000000
	inC taskset -c 0 redis-benchmark -h "$KIP" -p 6379 -c "$1" -P "$2" -t get,set -r 100000 -d 64 \
		-n "$n" --csv 2>/dev/null | tail -n +2 | tr -d '"' |
	while IFS=, read -r test rps _ _ p50 _ p99 _; do
		p50us=$(awk "BEGIN{printf \"%d\", $p50*1000}"); p99us=$(awk "BEGIN{printf \"%d\", $p99*1000}")
		echo "stock RESP/TCP ($test only),redis-benchmark,$1,$2,${rps%.*},$p50us,$p99us,0" >>"$results"
		printf '  %-30s %3d clients  P=%-3d %10s req/s  p50 %6s us  p99 %6s us\n' \
			"stock RESP/TCP ($test, r-b)" "$1" "$2" "${rps%.*}" "$p50us" "$p99us"
	done
}
fill() { # proto host port
	inC "$bench" --proto "$1" -h "$2" -p "$3" -c 1 -T 0.1 --warmup 0 -r 100000 -d 64 --fill --csv >/dev/null
}

# All three servers run at once, each pinned to CPU 1, and every
# configuration is measured on all three back to back, so that a noisy
# machine shifts them together. The fork polls adaptively here (spinning
# while traffic flows, sleeping 1 ms at a time after 50 ms of silence) so
# that it does not take CPU 1 from the others during their turns.
ip netns exec "$S" taskset -c 1 "$fork" --port 7000 --bind 127.0.0.1 --save "" --appendonly no \
	--dir "$work" --protected-mode no --logfile "$work/fork.log" --udp-port 6380 \
	--udp-address "$FIP/24" --udp-dpdk-ports "net_af_xdp0,iface=$FS,start_queue=0,queue_count=1" \
	--udp-lcores 1 --udp-neighbours "$FCIP=$fcmac" &
pids+=($!)
ip netns exec "$S" taskset -c 1 /usr/bin/redis-server --port 6379 --bind "$KIP" --save "" \
	--appendonly no --dir "$work" --protected-mode no --logfile "$work/stock.log" &
pids+=($!)
ip netns exec "$S" taskset -c 1 memcached -u root -U 11211 -p 11211 -l "$KIP" -t 1 -m 256 &
pids+=($!)
wait_tcp "$S" 127.0.0.1 7000 || { tail "$work/fork.log"; exit 1; }
wait_tcp "$S" "$KIP" 6379
wait_tcp "$S" "$KIP" 11211
echo "fork: $(/usr/bin/redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')+fragnet over UDP (net_af_xdp);" \
	"stock: Debian redis-server over kernel TCP; memcached $(memcached -V | cut -d' ' -f2) over kernel UDP"
fill resp-udp "$FIP" 6380
fill resp-tcp "$KIP" 6379
fill memcache-udp "$KIP" 11211
for c in 1 50; do for p in 1 16; do
	fnr "fork RESP/UDP" resp-udp "$FIP" 6380 "$c" "$p"
	fnr "stock RESP/TCP" resp-tcp "$KIP" 6379 "$c" "$p"
	rbench "$c" "$p"
	fnr "memcached text/UDP" memcache-udp "$KIP" 11211 "$c" "$p"
done; done
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true
grep "UDP transport" "$work/fork.log" | tail -2 | sed 's/^[0-9]*:M [^*]*\* /  fork: /'

echo
echo "| server, transport | tool | clients | pipeline | requests/s | p50 us | p99 us | lost |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
tail -n +2 "$results" | while IFS=, read -r s tool c p rps p50 p99 lost; do
	echo "| $s | $tool | $c | $p | $rps | $p50 | $p99 | $lost |"
done
echo "(load average during the run: $(cut -d' ' -f1-3 /proc/loadavg); 2 vCPUs)"
[ -n "$out" ] && cp "$results" "$out"
exit 0
