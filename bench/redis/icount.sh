#!/usr/bin/env bash
# Instructions per GET in the Redis fork over UDP, under callgrind, split by
# where they are spent: the stack (libfragnet and DPDK's memif driver), the
# RESP over UDP transport (redis/src/fragnet_udp.c), Redis (its event loop,
# client and RESP handling, the command), and the C library and allocator.
#
#   bench/redis/icount.sh [-n GETS] [-k DIR]
#
# The fork runs under valgrind --tool=callgrind on net_memif0 role=server
# (EAL without hugepages), fnr-gen drives it natively from the other end:
# first its fill (10000 keys, not counted), then GETs only (get-ratio 1),
# 64-byte values, pipeline 1, 256 flows with 4 requests in flight each, so
# that under valgrind (some 50 times slower) every poll of the fork finds a
# full burst, as on a saturated core, and idle polling adds nothing. The
# counters are zeroed (callgrind_control -z) once the fill is over and
# dumped (-d) after at least GETS more GETs; INFO commandstats, read over
# the unix socket at both points, gives the GETs in between. Costs are
# instructions (Ir) of every thread of the fork, by the object and source
# file that executed them (self cost: nothing counted twice), divided by
# those GETs. Kernel work (syscalls, memif's eventfd) is not an instruction
# callgrind sees. -k DIR keeps the callgrind dump there. The table also
# goes to bench/results/redis-icount.csv (or $RESULTS) with a plot.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
GETS=20000
keep=
while getopts "n:k:" o; do
	case $o in
	n) GETS=$OPTARG ;;
	k) keep=$OPTARG ;;
	*) echo "usage: $0 [-n GETS] [-k DIR]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "run as root (hugepages for fnr-gen)" >&2; exit 1; }
fork=${FNR_REDIS_SERVER:-$root/redis/work/bin/redis-server}
gen=${FNR_GEN:-$root/build/bench/redis/fnr-gen}
cli=${FNR_REDIS_CLI:-/usr/bin/redis-cli}
for b in "$fork" "$gen" "$cli" /usr/bin/valgrind /usr/bin/callgrind_control /usr/bin/callgrind_annotate; do
	[ -x "$b" ] || { echo "missing $b" >&2; exit 1; }
done
work=$(mktemp -d /tmp/fnr-icount.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
SMAC=02:fe:00:00:00:01 GMAC=02:fe:00:00:00:02
sock=$work/memif.sock
valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
	"$fork" --port 0 --unixsocket "$work/redis.sock" --save "" --appendonly no --dir "$work" \
	--protected-mode no --logfile "$work/fork.log" --udp-port 6380 --udp-address 10.0.0.1/24 \
	--udp-eal-args "--no-huge -m 512 --no-shconf --no-telemetry" \
	--udp-dpdk-ports "net_memif0,role=server,id=0,socket=$sock,socket-abstract=no,mac=$SMAC" \
	--udp-neighbours "10.0.0.2=$GMAC" --udp-require-rules no --udp-trusted-prefixes 10.0.0.2/32 \
	>"$work/valgrind.log" 2>&1 &
vp=$!
pids+=("$vp")
for _ in $(seq 600); do [ -S "$sock" ] && [ -S "$work/redis.sock" ] && break; sleep 0.1; done
[ -S "$sock" ] || { tail "$work/valgrind.log" "$work/fork.log" >&2; echo "the fork did not start under valgrind" >&2; exit 1; }
gets() { "$cli" -s "$work/redis.sock" info commandstats | sed -n 's/^cmdstat_get:calls=\([0-9]*\),.*/\1/p'; }
# Long warm-up: the measurement is what happens between -z and -d; the
# generator only has to keep the load on meanwhile.
"$gen" -l 0 --in-memory --no-pci --no-telemetry --log-level='*:error' \
	--vdev "net_memif0,role=client,id=0,socket=$sock,socket-abstract=no,mac=$GMAC" -- \
	--dst-mac $SMAC --src-ip 10.0.0.2 --dst-ip 10.0.0.1 --flows 256 --window 4 --pipeline 1 \
	--keys 10000 --value-size 64 --get-ratio 1 --timeout-ms 5000 --warmup 300 --duration 1 \
	>"$work/gen.out" 2>"$work/gen.err" &
gp=$!
pids+=("$gp")
for _ in $(seq 3000); do grep -q "keys written" "$work/gen.err" && break; sleep 0.1; done
grep -q "keys written" "$work/gen.err" || { cat "$work/gen.err" >&2; echo "fill did not finish" >&2; exit 1; }
callgrind_control -z "$vp" >/dev/null 2>&1
g0=$(gets)
for _ in $(seq 1200); do
	g=$(gets)
	[ $((g - g0)) -ge "$GETS" ] && break
	sleep 0.5
done
callgrind_control -d "$vp" >/dev/null 2>&1
g1=$(gets)
n=$((g1 - g0))
dump=$(ls "$work"/cg.out.* 2>/dev/null | head -1)
[ -n "$dump" ] || { echo "callgrind wrote no dump" >&2; exit 1; }
[ -n "$keep" ] && mkdir -p "$keep" && cp "$dump" "$keep/callgrind.out"
echo "GETs between zero and dump: $n (64-byte values, pipeline 1, 256 flows x 4 in flight)"
# Inclusive costs of the functions where the layers meet, computed from the
# dump itself: a function's own instructions plus the inclusive costs of the
# calls it makes, whatever source files (inlined headers) they came from.
# Each layer is what runs inside its entry points minus what it calls of the
# others.
out_dir=${RESULTS:-$root/bench/results}
mkdir -p "$out_dir"
python3 - "$n" "$dump" "$out_dir/redis-icount.csv" <<'PY'
import csv, re, sys
n = int(sys.argv[1])
names, incl, edge = {}, {}, {}
fn = cfn = None
call = False
for line in open(sys.argv[2]):
    m = re.match(r"(c?fn)=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
    if m:
        if m.group(3):
            names[m.group(2)] = m.group(3)
        if m.group(1) == "fn":
            fn = names[m.group(2)]
        else:
            cfn = names[m.group(2)]
        continue
    if line.startswith("calls="):
        call = True
        continue
    if fn and line[:1] in "0123456789+-*":
        # A cost line: the function's own instructions, or (after a calls=
        # line) the inclusive cost of one of its calls; both count.
        f = line.split()
        if len(f) >= 2:
            incl[fn] = incl.get(fn, 0) + int(f[1])
            if call:
                edge[fn, cfn] = edge.get((fn, cfn), 0) + int(f[1])
        call = False
def c(*names):
    return sum(incl.get(x, 0) for x in names)
# The script's own INFO commandstats polls (over the unix socket, a few
# dozen in the window) must not count: UDP requests are the reads that
# udpProcessEvents dispatches, and the command layer leaves infoCommand out.
# (Without this, INFO's 30 to 60 instructions per GET went to the command
# and were taken off the transport.)
udp_reads = edge.get(("udpProcessEvents", "readQueryFromClient"), 0)
loop = c("aeProcessEvents.part.0", "aeProcessEvents")
cron = c("serverCron")
stack_rx = c("fragnet_poll") - c("udpRecv")
stack_tx = c("fragnet_udp_send", "fragnet_udp_send_buf", "fragnet_flush")
transport = (c("udpRecv")
             + c("udpProcessEvents") - c("fragnet_poll") - udp_reads
             + c("udpConnRead") + c("udpCommandRefusal")
             + c("udpConnWrite") - c("fragnet_udp_send", "fragnet_udp_send_buf")
             + c("udpFlush") - c("fragnet_flush"))
command = c("call") - c("infoCommand")
request = udp_reads - command - c("udpConnRead") - c("udpCommandRefusal")
replies = c("handleClientsWithPendingWrites") - c("udpConnWrite")
work = loop - cron
rows = [
    ("stack, receive: libfragnet and the memif driver (fragnet_poll, less the transport callback)", stack_rx),
    ("stack, send: fragnet_udp_send, fragnet_flush", stack_tx),
    ("RESP over UDP transport (fragnet_udp.c: flows, queueing, reads, datagram writes)", transport),
    ("Redis: request (read, RESP parsing, command lookup and checks)", request),
    ("Redis: the command (call(): GET)", command),
    ("Redis: replies to the transport (handleClientsWithPendingWrites)", replies),
    ("Redis: rest of the event loop (beforeSleep, epoll_wait wrapper, timers, the INFO polls)", work - stack_rx - stack_tx - transport - request - command - replies),
]
print("| where | instructions per GET | share |")
print("|---|---:|---:|")
for name, ir in rows:
    print("| %s | %.0f | %.0f%% |" % (name, ir / n, 100.0 * ir / work))
print("| **all, per GET** | **%.0f** | |" % (work / n))
with open(sys.argv[3], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["where", "instructions per GET"])
    short = ["stack receive", "stack send", "RESP/UDP transport", "Redis request",
             "Redis command", "Redis replies", "Redis event loop"]
    for label, (_, ir) in zip(short, rows):
        w.writerow([label, "%.0f" % (ir / n)])
    w.writerow(["all", "%.0f" % (work / n)])
print()
print("Left out: serverCron, %.0f per GET here; it runs 10 times a second whatever the load, so under" % (cron / n))
print("valgrind (some 50 times slower) it weighs 50 times what it does natively.")
PY
"$root/bench/plot.sh" "$out_dir/redis-icount.csv" "$out_dir/redis-icount.png" \
	"Redis fork over UDP: instructions per GET by layer, callgrind ($(date +%F))" \
	"instructions per GET" 2 || true
