#!/usr/bin/env bash
# The demo: fragnet-echo on a DPDK af_xdp port (two queues) at one end of a veth
# pair, kernel UDP clients in a peer network namespace, results on screen.
# Everything it creates is named fndemo* and removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

S=fndemos C=fndemoc
cleanup() {
	[ -n "${server:-}" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
	ip netns del $S 2>/dev/null || true
	ip netns del $C 2>/dev/null || true
}
trap cleanup EXIT
cleanup

ip netns add $S
ip netns add $C
ip link add fndemo0 numtxqueues 2 numrxqueues 2 type veth peer name fndemo1 numtxqueues 2 numrxqueues 2
ip link set fndemo0 netns $S
ip link set fndemo1 netns $C
ip -n $S link set fndemo0 up
ip -n $C link set fndemo1 up
ip -n $C addr add 10.98.0.2/24 dev fndemo1
ip netns exec $C ethtool -K fndemo1 tx off >/dev/null

echo "== starting fragnet-echo on net_af_xdp (2 queues) in namespace $S"
ip netns exec $S sh -c 'mount -t bpf bpf /sys/fs/bpf 2>/dev/null; exec build/examples/fragnet-echo \
	--port net_af_xdp0,iface=fndemo0,start_queue=0,queue_count=1 \
	--port net_af_xdp1,iface=fndemo0,start_queue=1,queue_count=1 \
	--addr 10.98.0.1/24 --udp-port 7 --unfiltered' > /tmp/fndemo-server.log 2>&1 &
server=$!
for _ in $(seq 50); do grep -q "echoing on" /tmp/fndemo-server.log && break; sleep 0.2; done

echo "== ping from $C"
ip netns exec $C ping -c 3 -i 0.2 10.98.0.1
echo "== UDP echo load from $C: 32 flows, closed loop, 3 seconds"
ip netns exec $C python3 - <<'PY'
import socket, time, select
socks = []
for _ in range(32):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    s.connect(("10.98.0.1", 7))
    socks.append(s)
for s in socks:
    s.send(b"x" * 64)
done, lat, t0 = 0, [], time.time()
sent_at = {s.fileno(): time.perf_counter() for s in socks}
by_fd = {s.fileno(): s for s in socks}
while time.time() - t0 < 3:
    r, _, _ = select.select(socks, [], [], 0.5)
    for s in r:
        s.recv(2048)
        now = time.perf_counter()
        lat.append(now - sent_at[s.fileno()])
        done += 1
        sent_at[s.fileno()] = now
        s.send(b"x" * 64)
lat.sort()
print(f"{done / 3:.0f} echoes/s, latency p50 {lat[len(lat) // 2] * 1e6:.0f} us, "
      f"p99 {lat[int(len(lat) * 0.99)] * 1e6:.0f} us (kernel client in Python: the client is the bottleneck)")
PY
kill "$server"; wait "$server" 2>/dev/null || true; server=
echo "== server counters"
grep -E "^queue|fragnet" /tmp/fndemo-server.log
