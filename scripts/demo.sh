#!/usr/bin/env bash
# The demo: the Redis fork serving RESP over UDP on an AF_XDP queue of one end
# of a veth pair, filtered by rules from fragnetd (in the kernel, by
# fragnetd's XDP program, where they can run there), while the kernel keeps
# the same veth for its own address; load from kernel clients in a peer
# network namespace; results and fragnetctl counters on screen.
#
#   scripts/demo.sh   (as root)
#
# Everything it creates is named fndemo<pid>* (namespaces ...s for the fork,
# ...c for the clients and fragnetd's ...d, made by scripts/lib/topology.sh;
# /tmp/fndemo.*; the XDP program on the veth and its pins in
# /sys/fs/bpf/fndemo<pid>) and is removed on exit, also on Ctrl-C; it stops
# every process it started.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
[ "$(id -u)" = 0 ] || { echo "demo: run as root (e.g. sudo scripts/demo.sh)" >&2; exit 1; }
. scripts/lib/topology.sh

topo_init fndemo
D=${TOPO_TAG}d                               # fragnetd's namespace (the daemon's own)
PORT=6379                                    # UDP (the fork's transport) and TCP (kernel)
work=
pids=()

stop_pid() { # pid: SIGTERM, up to 10 s, then SIGKILL
	kill "$1" 2>/dev/null || return 0
	for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
cleanup() {
	local i
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop_pid "${pids[i]}"; done
	pids=()
	ip netns del $D 2>/dev/null || true
	[ -n "$work" ] && rm -rf "$work"
	work=
	# fragnetd leaves its XDP program and pins for a restart to adopt
	rm -rf "/sys/fs/bpf/$TOPO_TAG"
}
# On any exit; a second Ctrl-C does not cut the cleanup short.
topo_on_exit cleanup
trap 'echo; echo "demo: interrupted, cleaning up"; exit 130' INT TERM
if [ -t 1 ]; then
	say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	say() { printf '\n== %s\n' "$*"; }
fi
fail() { # message, then the logs that explain it
	echo "demo: $1" >&2
	for f in "$work"/*.log "$work"/*.stderr; do
		[ -s "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }
	done
	exit 1
}

echo "demo: set up and build (scripts/setup.sh), then run the Redis fork on a DPDK port with"
echo "      fragnetd's rules and load it from a peer namespace (about 20 s after the build)"
scripts/setup.sh
fork=$root/redis/work/bin/redis-server
fnr_bench=$root/build/bench/redis/fnr-bench
fragnetd=$root/build/daemon/fragnetd
fragnetctl=$root/build/tools/fragnetctl/fragnetctl
for b in "$fork" "$fnr_bench" "$fragnetd" "$fragnetctl"; do
	[ -x "$b" ] || fail "missing $b after scripts/setup.sh"
done
ctl() { "$fragnetctl" -s "$work/fragnetd.sock" "$@"; }

work=$(mktemp -d /tmp/fndemo.XXXXXX)
chmod 755 "$work"
# Two CPUs or more: the fork polls on the last one, the load runs elsewhere.
ncpu=$(nproc)
lcore=$((ncpu - 1))
load_cpus=0
[ "$ncpu" -gt 2 ] && load_cpus="0-$((ncpu - 2))"
[ "$ncpu" -eq 1 ] && load_cpus=0

# The clients compute their own UDP checksums: veth leaves them to the
# "device", and a DPDK port reads the raw frame (real NICs do it in hardware).
topo_pair
topo_link 10.98.0 --hosts "2 200"
S=$TOPO_S C=$TOPO_C SIP=$LINK_SIP CIP=$LINK_CIP OUTSIDER=10.98.0.200 HOST=10.98.0.3
ip -n $S addr add $HOST/24 dev $LINK_S    # the kernel's own address, on the same veth
say "network: namespaces $S (the fork) and $C (clients), veth $LINK_S <-> $LINK_C"
echo "fork: $SIP/24 on $LINK_S through an AF_XDP queue; the kernel: $HOST/24 on the same"
echo "veth; clients: $CIP and $OUTSIDER on $LINK_C"

say "fragnetd with rules/redis.nft, owning $LINK_S's XDP program (socket $work/fragnetd.sock)"
printf 'socket = %s\nnetns = %s\nrules = %s\nxdp_pin_dir = %s\napp.redis.interface = %s\napp.redis.address = %s\n' \
	"$work/fragnetd.sock" $D "$root/rules/redis.nft" "/sys/fs/bpf/$TOPO_TAG" $LINK_S $SIP \
	>"$work/fragnetd.conf"
sed 's/^/  /' "$work/fragnetd.conf"
# in $S's network namespace, but with the host's /sys: its bpffs keeps the pins
nsenter --net=/run/netns/$S "$fragnetd" -c "$work/fragnetd.conf" >"$work/fragnetd.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do grep -q "ready on" "$work/fragnetd.log" && break; sleep 0.1; done
grep -q "ready on" "$work/fragnetd.log" || fail "fragnetd did not start"
sed 's/^/  /' "$work/fragnetd.log"

say "the Redis fork: UDP $PORT on xsk:$LINK_S:0 (core $lcore), TCP $PORT on the kernel's $HOST"
ip netns exec $S "$fork" --port $PORT --bind 127.0.0.1 $HOST --save "" --appendonly no \
	--dir "$work" --logfile "$work/redis.log" --protected-mode no \
	--udp-port $PORT --udp-address $SIP/24 \
	--udp-dpdk-ports "xsk:$LINK_S:0" \
	--udp-lcores $lcore --udp-daemon-socket "$work/fragnetd.sock" \
	2>"$work/redis.stderr" &
pids+=($!)
for _ in $(seq 300); do
	grep -q "Ready to accept" "$work/redis.log" 2>/dev/null && break
	kill -0 "${pids[-1]}" 2>/dev/null || fail "the fork exited"
	sleep 0.1
done
grep -q "Ready to accept" "$work/redis.log" 2>/dev/null || fail "the fork did not start"
grep -h "UDP transport\|UNFILTERED" "$work/redis.log" | sed 's/^[0-9]*:M [^*#]*[*#] /  /'

say "a ping, and a few commands over UDP from $C"
ip netns exec $C ping -c 3 -i 0.2 -W 1 $SIP | sed -n 's/^/  /; /packets transmitted/p'
ip netns exec $C python3 - "$SIP" $PORT "$CIP" "$OUTSIDER" <<'PY'
import socket, sys
server, port, inside, outside = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def resp(*args):
    return b"".join([b"*%d\r\n" % len(args)] + [b"$%d\r\n%s\r\n" % (len(a), a.encode()) for a in args])
def ask(src, *args, s=None):
    if s is None:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # a new flow
        s.bind((src, 0))
    s.settimeout(1.0)
    s.sendto(resp(*args), (server, port))
    try:
        reply = s.recv(65536)
        return reply.decode()
    except socket.timeout:
        return "no answer (dropped by the rules)"
def show(src, cmd, reply):
    if len(reply) > 60:
        reply = "%s... (%d bytes)" % (reply[:20], len(reply))
    print("  from %-12s %-30s -> %r" % (src, cmd, reply))
try:
    for cmd in (["PING"], ["SET", "demo", "hello over UDP"], ["GET", "demo"], ["INCR", "visits"],
                ["SET", "demo:big", "x" * 1200]):
        show(inside, " ".join(cmd)[:30], ask(inside, *cmd))
    show(outside, "PING", ask(outside, "PING"))
    print("  a 1.2 KB reply to a 30-byte request is over 3x: an unvalidated flow gets an error,")
    show(inside, "GET demo:big", ask(inside, "GET", "demo:big"))
    print("  a flow validated by the UDPCOOKIE handshake (redis/README.md) gets the value:")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((inside, 0))
    cookie = ask(inside, "UDPCOOKIE", s=s)
    show(inside, "UDPCOOKIE", cookie)
    show(inside, "UDPCOOKIE <cookie>", ask(inside, "UDPCOOKIE", cookie[1:-2], s=s))
    show(inside, "GET demo:big", ask(inside, "GET", "demo:big", s=s))
except KeyboardInterrupt:
    sys.exit(130)
PY

say "load: fnr-bench in $C (CPU $load_cpus), 50 UDP flows, 90% GET / 10% SET, 100k keys, 64-byte values"
ip netns exec $C "$fnr_bench" --proto resp-udp -h $SIP -p $PORT -c 1 -T 0.1 --warmup 0 \
	-r 100000 -d 64 --fill --csv >/dev/null || fail "fnr-bench could not fill the keys"
for p in 1 16; do
	ip netns exec $C taskset -c "$load_cpus" "$fnr_bench" --proto resp-udp -h $SIP -p $PORT \
		-c 50 -P $p -T 5 --warmup 1 -r 100000 -d 64 --get-ratio 0.9 |
		sed 's/^/  /' || fail "fnr-bench failed"
done
echo "  (one Redis core; clients are kernel UDP sockets over veth, which costs more than"
echo "   the server side here: see bench/redis/run.sh for the comparison with stock Redis)"

say "fragnetctl apps   (the kernel line: fragnetd's XDP program on $LINK_S)"
ctl apps | sed 's/^/  /'
say "fragnetctl stats   (the fork's queue: packets, and drops by reason)"
ctl stats | sed 's/^/  /'
echo "  (only what fragnetd's XDP program hands over reaches the fork: the kernel's"
echo "   own traffic and what a kernel rule dropped never do)"
say "fragnetctl list ruleset   (counters: the kernel's and the fork's; where each rule runs)"
ctl list ruleset | sed 's/^/  /'
echo "  (# kernel: fragnetd's XDP program runs the rule before the fork sees the packet;"
echo "   the PING from $OUTSIDER never reached the fork. # in-process: the fork runs it)"
say "the kernel keeps the same veth: ping and redis-cli over TCP to $HOST from $C"
ip netns exec $C ping -c 2 -i 0.2 -W 1 $HOST | sed -n 's/^/  /; /packets transmitted/p'
echo "  DBSIZE -> $(ip netns exec $C redis-cli -h $HOST -p $PORT DBSIZE) keys (written over UDP)"
echo "  GET demo -> $(ip netns exec $C redis-cli -h $HOST -p $PORT GET demo)"

say "done: stopping the fork and fragnetd, removing $TOPO_TAG*"
cleanup
topo_cleanup
echo "  clean. Next: redis/README.md; docs/security.md (what the kernel enforces); bench/redis/run.sh"
