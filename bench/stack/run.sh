#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The stack benchmark: one command, one table, five comparisons
# measured side by side in one run.
#
#   1. fragnet-echo on one lcore against testpmd macswap (the ceiling) on the
#      same memif pair, both driven by fn-gen (a DPDK generator, other CPU).
#   2. fragnet-echo (net_af_xdp, net_af_packet) against a kernel UDP echo
#      server (recvmmsg/sendmmsg) on the same veth, loaded by fn-udpload from
#      the peer namespace; open-loop rows show the load tool's own ceiling.
#   3. Instructions per echoed packet under callgrind, full and UDP-only builds.
#   4. Code size of the stack, full and UDP-only builds.
#   5. fragnet-echo (net_af_xdp) against the kernel UDP echo on the same veth,
#      both driven by fn-gen on net_af_xdp of the peer end: echoes per
#      CPU-second of the serving thread, with no kernel-socket client as bound.
#
#   sudo bench/stack/run.sh [--reps N] [--duration S] [--window W] [--udp-window W]
#                           [--only 1,2,3,4,5]
#
# Builds build-bench/ (full) and build-bench-udponly/ (the UDP-only options),
# both --buildtype=release. Everything it creates (namespaces and veths named
# fnp<pid>* by scripts/lib/topology.sh, processes, a temp dir for memif
# sockets and logs) is removed on exit, also on Ctrl-C. Needs root, hugepages (2 MB, about 200 MB free), valgrind, testpmd.
set -uo pipefail

REPS=5          # runs per throughput figure, interleaved; the median is reported
DURATION=2      # measured seconds per run (after WARMUP)
WARMUP=1
GEN_WINDOW=256  # fn-gen frames in flight (memif and af_xdp rings hold 1024)
UDP_FLOWS=16    # fn-udpload sockets
UDP_WINDOW=64   # fn-udpload requests in flight, over all flows
FRAME=60        # Ethernet frame without FCS: 18 bytes of UDP payload
SERVER_CPU=1    # servers (fragnet lcore, testpmd forwarding lcore, kernel echo)
CLIENT_CPU=0    # generators
ONLY=1,2,3,4,5  # which comparisons to run

while [ $# -gt 0 ]; do
	case $1 in
	--reps) REPS=$2; shift 2 ;;
	--duration) DURATION=$2; shift 2 ;;
	--window) GEN_WINDOW=$2; shift 2 ;;
	--udp-window) UDP_WINDOW=$2; shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	-h|--help) sed -n '3,/^set -uo/{/^#/p}' "$0"; exit 0 ;;
	*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done

SRC=$(cd "$(dirname "$0")/../.." && pwd)
. "$SRC/scripts/lib/topology.sh"
FULL=$SRC/build-bench
UDPO=$SRC/build-bench-udponly
UDPONLY_OPTS=(-Dicmp=false -Dip_frag=false -Darp=static -Dip_options=false -Dconntrack=false)
topo_init fnp
SUBNET=10.95.0
RUN_TIMEOUT=$((WARMUP + DURATION + 30))
PIDS=()
RUN_N=0         # numbers the logs and memif sockets of each run
TMP=

say() { echo "[bench/stack] $*" >&2; }
want() { [[ ",$ONLY," == *",$1,"* ]]; }
die() { say "error: $*"; exit 1; }

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	rm -rf "/sys/fs/bpf/fnbench$$"
	ip netns del "fnbench$$d" 2>/dev/null
	[ -n "$TMP" ] && rm -rf "$TMP"
}
topo_on_exit cleanup

# ------------------------------------------------------------------ helpers

# kv KEY "k=v k=v": the value of KEY.
kv() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2" | head -1; }

median() {
	printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -g |
		awk '{a[NR]=$1} END {if (NR == 0) print "nan";   # %.10g: no exponent
			else printf "%.10g\n", (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'
}

best() { printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -g | tail -1; }
# echo_counters LOG: "RX BUSY_S" from fragnet-echo's exit line for queue 0.
echo_counters() { sed -n 's|^queue 0: rx \([0-9]*\) pkts.*busy \([0-9.]*\) s.*|\1 \2|p' "$1"; }
# busy_per_pkt KIND LOG: nanoseconds of busy polling per packet the server
# received over its whole run, from its own count: fragnet-echo's queue 0
# line (busy_ns of fragnet_queue_stats: polls that received, each to the
# next poll), testpmd's --record-core-cycles (polls that received, rx to
# tx). Neither counts empty polls, so a server held below its capacity by
# its generator still shows what each packet cost it.
busy_per_pkt() {
	case $1 in
	testpmd) sed -n 's|.*CPU cycles/packet=\([0-9.]*\) .* at \([0-9]*\) MHz.*|\1 \2|p' "$2" |
		tail -1 | awk '{if ($2 > 0) printf "%.2f", $1 * 1000 / $2; else print "nan"}' ;;
	*) echo_counters "$2" |
		awk '{if ($1 > 0) printf "%.2f", $2 * 1e9 / $1; else print "nan"}' ;;
	esac
}
# per_cpu RATE CPU%: the rate per CPU-second the server was given.
per_cpu() { awk -v r="$1" -v c="$2" 'BEGIN {if (c > 5) printf "%.0f", r * 100 / c; else print "nan"}'; }
# Figures are numbers, or "nan"/empty when not measured (shown as "-").
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b + 0 == 0)
	print "-"; else printf "%.2f", a / b}'; }
scale() { awk -v a="$1" -v d="$2" -v p="$3" 'BEGIN {if (a !~ /^[0-9.]+$/) print "-";
	else printf "%.*f", p, a / d}'; }

# start NAME CMD...: run in the background, output in $TMP/NAME.log.
start() {
	local name=$1; shift
	: >"$TMP/$name.log"   # there before anyone waits on it
	"$@" >"$TMP/$name.log" 2>&1 &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
}

# stop PID: SIGTERM (the servers print their counters), then wait; the exit
# status is left in STOP_RC (timeout passes its command's on: 139 = SIGSEGV).
stop() {
	local pid=$1 i keep=()
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then   # hung: its child (under timeout) first
		pkill -KILL -P "$pid" 2>/dev/null
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	STOP_RC=$?
	for i in "${PIDS[@]}"; do
		[ "$i" = "$pid" ] || keep+=("$i")
	done
	PIDS=("${keep[@]}")
}

# server_up KIND N TEST...: right after start, wait (30 s at most) until TEST
# holds (the server's ready line, its socket); SERVER is then the started
# pid and SPID the server's own (under timeout).
server_up() {
	local kind=$1 n=$2; shift 2
	SERVER=$LAST_PID
	wait_for 30 "$@" || { cat "$TMP/srv$n.log" >&2; die "$kind echo server did not start"; }
	SPID=$(pgrep -P "$SERVER" | head -1)
}

# server_down KIND N: stop SERVER; a crash ends the run, with its log.
server_down() {
	stop "$SERVER"
	case $STOP_RC in 134|136|139) cat "$TMP/srv$2.log" >&2; die "$1 crashed (exit $STOP_RC)" ;; esac
}

wait_for() {   # wait_for SECONDS TEST...
	local deadline=$((SECONDS + $1)); shift
	until "$@"; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.1
	done
}

# ------------------------------------------------------------------ checks

[ "$(id -u)" -eq 0 ] || die "needs root (hugepages, network namespaces, XDP)"
for tool in meson ninja valgrind callgrind_annotate dpdk-testpmd ethtool taskset size; do
	command -v $tool >/dev/null || die "$tool not found"
done
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (server and generator on different CPUs)"
free_mb=$(awk '/HugePages_Free/ {f=$2} /Hugepagesize/ {s=$2} END {print int(f*s/1024)}' /proc/meminfo)
[ "$free_mb" -ge 200 ] || die "needs about 200 MB of free hugepages, has ${free_mb} MB " \
	"(echo 256 > /proc/sys/vm/nr_hugepages)"
case ${MESON_BUILD_ROOT:-} in
"$FULL"|"$UDPO") die "run it from another build dir or directly: it builds $MESON_BUILD_ROOT itself" ;;
esac
TMP=$(mktemp -d /tmp/fnp-stack.XXXXXX)

# ------------------------------------------------------------------ builds

build() {   # build DIR [meson options]
	local dir=$1; shift
	if [ ! -f "$dir/build.ninja" ]; then
		say "configuring $dir"
		meson setup "$dir" "$SRC" --buildtype=release "$@" >"$TMP/setup.log" 2>&1 ||
			{ cat "$TMP/setup.log" >&2; die "meson setup $dir failed"; }
	fi
	# bench/stack is picked up at configure time; an older dir may lack it.
	# (libfragnet.so is built as a dependency of fragnet-echo and fn-icount.)
	if ! ninja -C "$dir" -t targets all 2>/dev/null | grep -q 'bench/stack/fn-gen:'; then
		meson setup --reconfigure "$dir" >"$TMP/setup.log" 2>&1 ||
			{ cat "$TMP/setup.log" >&2; die "meson reconfigure $dir failed"; }
	fi
	say "building $dir"
	ninja -C "$dir" -j2 examples/fragnet-echo daemon/fragnetd bench/stack/fn-gen \
		bench/stack/fn-kecho bench/stack/fn-udpload bench/stack/fn-icount \
		>"$TMP/build.log" 2>&1 || { tail -30 "$TMP/build.log" >&2; die "build of $dir failed"; }
}
build "$FULL"
want 1 || want 3 || want 4 && build "$UDPO" "${UDPONLY_OPTS[@]}"
B=$FULL/bench/stack

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$SECONDS

# ------------------------------------------------------------------ 4. code size
if want 4; then

# .text of the library's own objects (lib/runtime, stack, filter and ctl; not
# lib/nft/, the interpreter, counted apart), and of the shared library.
# meson names an object FOLDER_FILE.c.o.
text_of() { size -A "$@" 2>/dev/null | awk '$1 == ".text" {s += $2} END {print s + 0}'; }
objs() {   # objs BUILD_DIR stack|nft
	local a=$1/lib/libfragnet_internal.a.p dirs dir f
	if [ "$2" = stack ]; then dirs="runtime stack filter ctl"; else dirs=nft; fi
	for dir in $dirs; do
		for f in "$SRC/lib/$dir"/*.c; do
			[ -f "$a/${dir}_$(basename "$f").o" ] && echo "$a/${dir}_$(basename "$f").o"
		done
	done
}
SZ_FULL=$(text_of $(objs "$FULL" stack))
SZ_UDPO=$(text_of $(objs "$UDPO" stack))
SZ_SO_FULL=$(text_of "$FULL/lib/libfragnet.so")
SZ_SO_UDPO=$(text_of "$UDPO/lib/libfragnet.so")
NFT_OBJS=$(objs "$FULL" nft)
SZ_NFT=$( [ -n "$NFT_OBJS" ] && text_of $NFT_OBJS || echo "")
N_OBJ_FULL=$(objs "$FULL" stack | wc -l)
N_OBJ_UDPO=$(objs "$UDPO" stack | wc -l)


fi
# ------------------------------------------------------------------ 3. callgrind
if want 3; then

# fn-icount polls a net_ring loopback; callgrind collects inside fragnet_poll().
ICOUNT_BURSTS=1000
icount() {   # icount BUILD_DIR NAME: sets IC (per packet) and IC_STACK
	local out=$TMP/cg-$2.out pkts total stack
	say "callgrind: $2 build, $ICOUNT_BURSTS bursts of 32"
	timeout 300 valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$out" \
		"$1/bench/stack/fn-icount" --bursts $ICOUNT_BURSTS >"$TMP/icount-$2.log" 2>&1 ||
		{ tail "$TMP/icount-$2.log" >&2; die "fn-icount under callgrind failed ($2)"; }
	pkts=$(kv packets "$(grep packets= "$TMP/icount-$2.log")")
	total=$(awk '/^totals:/ {print $2}' "$out")
	# With debug info callgrind_annotate lists the function once per source
	# file its inlined code came from; the whole is the largest entry.
	stack=$(callgrind_annotate --inclusive=yes "$out" 2>/dev/null |
		awk '/:fn_eth_input_burst / {gsub(",", "", $1); if ($1 + 0 > m) m = $1 + 0}
			END {if (m) print m}')
	# Top functions by self count, per packet: "udp_sum 204.0 (libfragnet.so)".
	callgrind_annotate "$out" 2>/dev/null |
		awk -v p="$pkts" '/^ *[0-9,]+ +\(/ && !/PROGRAM TOTALS/ {
			n = $1; gsub(",", "", n); sub(/^[^)]*\) +/, "");
			f = $1; sub(/^.*:/, "", f); o = $2; gsub(/[][]/, "", o); sub(/^.*\//, "", o);
			printf "%7.1f  %s (%s)\n", n / p, f, o }' | head -10 >"$TMP/hot-$2.txt"
	IC=$(scale "$total" "$pkts" 0)
	IC_STACK=$(scale "${stack:-nan}" "$pkts" 0)
}
icount "$FULL" full
IC_FULL=$IC IC_FULL_STACK=$IC_STACK
icount "$UDPO" udponly
IC_UDPO=$IC IC_UDPO_STACK=$IC_STACK


fi
# ------------------------------------------------------------------ 1. memif
if want 1; then

SMAC=02:fe:00:00:00:01 GMAC=02:fe:00:00:00:02
memif() {   # memif ROLE N -> devargs of one end of the pair, socket N
	echo "net_memif0,role=$1,id=0,socket=$TMP/memif$2.sock,socket-abstract=no,mac=$3"
}

# memif_run KIND [fn-gen options]: sets RES to the generator's result line.
memif_run() {
	local kind=$1; shift
	local n=$((++RUN_N)) gen res
	local sock=$TMP/memif$n.sock
	case $kind in
	testpmd|rxonly)
		# Main lcore and forwarding lcore both on SERVER_CPU; the main one
		# sleeps (--stats-period) while the other polls.
		local mode=macswap
		[ "$kind" = rxonly ] && mode=rxonly
		start "srv$n" timeout $RUN_TIMEOUT dpdk-testpmd --lcores "0@$SERVER_CPU,1@$SERVER_CPU" \
			--in-memory --no-pci --no-telemetry --vdev "$(memif server $n $SMAC)" -- \
			--forward-mode=$mode --nb-cores=1 --total-num-mbufs=8192 \
			--stats-period=60 --no-mlockall --record-core-cycles ;;
	full|udponly)
		local dir=$FULL
		[ "$kind" = udponly ] && dir=$UDPO
		start "srv$n" timeout $RUN_TIMEOUT "$dir/examples/fragnet-echo" \
			--port "$(memif server $n $SMAC)" --addr "$SUBNET.1/24" --busy --unfiltered \
			--lcores $SERVER_CPU --eal "--in-memory" ;;
	esac
	server_up $kind $n test -S "$sock"
	# The generator lingers after its result so that the server stops first:
	# memif crashes a peer that is still polling when the other end leaves.
	start "gen$n" timeout $RUN_TIMEOUT "$B/fn-gen" -l $CLIENT_CPU --in-memory --no-pci \
		--no-telemetry --log-level='*:error' --vdev "$(memif client $n $GMAC)" -- \
		--dst-mac $SMAC --src-ip "$SUBNET.2" --dst-ip "$SUBNET.1" --size $FRAME \
		--warmup $WARMUP --duration $DURATION --linger --watch-pid "${SPID:-0}" "$@"
	gen=$LAST_PID
	wait_for $RUN_TIMEOUT grep -q '^rx_pps=' "$TMP/gen$n.log"
	server_down $kind $n
	stop "$gen"
	res=$(grep '^rx_pps=' "$TMP/gen$n.log")
	[ -n "$res" ] || { cat "$TMP/gen$n.log" "$TMP/srv$n.log" >&2; die "fn-gen against $kind failed"; }
	cp "$TMP/srv$n.log" "$TMP/last-$kind.log"
	RES=$res
}

declare -A PPS SAMPLES GEN_IDLE GEN_LOST SCPU PER_CPU BUSY_PP
for r in $(seq "$REPS"); do
	for kind in testpmd full udponly; do
		say "memif: $kind, run $r/$REPS"
		memif_run $kind --window $GEN_WINDOW
		BUSY_PP[$kind]+=" $(busy_per_pkt $kind "$TMP/last-$kind.log")"
		PPS[$kind]+=" $(kv rx_pps "$RES")"
		SAMPLES[$kind]+=" $(kv samples "$RES" | tr , ' ')"
		GEN_IDLE[$kind]+=" $(kv idle "$RES")"
		SCPU[$kind]+=" $(kv server_cpu "$RES")"
		PER_CPU[$kind]+=" $(per_cpu "$(kv rx_pps "$RES")" "$(kv server_cpu "$RES")")"
		GEN_LOST[$kind]=$(( ${GEN_LOST[$kind]:-0} + $(kv lost "$RES") ))
	done
done
say "memif: fn-gen open loop into testpmd rxonly"
memif_run rxonly --open
GEN_OPEN=$RES
M_TP=$(median ${PPS[testpmd]}) M_FULL=$(median ${PPS[full]}) M_UDPO=$(median ${PPS[udponly]})
FN_MEMIF_COUNTERS=$(grep '^queue 0' "$TMP/last-full.log")


fi
# ------------------------------------------------------------------ 2. veth
if want 2; then

# One queue each way: everything lands on rx queue 0, the one af_xdp binds.
# No IPv6 (no stray ND/MLD frames); the client finishes its UDP checksums
# and knows the server's MAC (README, "Virtual ports").
topo_pair --no-ipv6 && topo_link "$SUBNET" --static-neigh || die "cannot create the veth pair"
NS_S=$TOPO_S NS_C=$TOPO_C IF_S=$LINK_S IF_C=$LINK_C
say "veth: namespaces $NS_S/$NS_C, veth $IF_S/$IF_C"

# fnd_start / fnd_stop: fragnetd in the server's namespace (nsenter keeps
# bpffs in view, ip netns exec does not), owning the veth's XDP program for
# the application "echo" at $SUBNET.1, with a ruleset that accepts all.
FND_PINS=/sys/fs/bpf/fnbench$$ FND_NS=fnbench$$d
fnd_start() {
	mkdir -p "$TMP/fnd"
	printf 'table inet echo {\n\tchain input { type filter hook input priority filter; policy accept; }\n}\n' \
		>"$TMP/fnd/accept.nft"
	printf 'socket = %s\nnetns = %s\nrules = %s\nxdp_pin_dir = %s\napp.echo.interface = %s\napp.echo.address = %s\n' \
		"$TMP/fnd/sock" $FND_NS "$TMP/fnd/accept.nft" $FND_PINS "$IF_S" "$SUBNET.1" >"$TMP/fnd/conf"
	start fragnetd nsenter --net=/run/netns/"$NS_S" "$FULL/daemon/fragnetd" -c "$TMP/fnd/conf"
	FND_PID=$LAST_PID
	wait_for 30 grep -q "ready on" "$TMP/fragnetd.log" ||
		{ cat "$TMP/fragnetd.log" >&2; die "fragnetd did not start"; }
}
fnd_stop() {   # and its program and pins: the next server is the PMD's
	stop "$FND_PID"
	ip -n "$NS_S" link set dev "$IF_S" xdp off 2>/dev/null || true
	rm -rf "$FND_PINS"
	ip netns del $FND_NS 2>/dev/null || true
}

udp_run() {   # udp_run KIND [fn-udpload options]: sets RES to the load tool's result line
	local kind=$1; shift
	local n=$((++RUN_N)) res ready="echoing on"
	case $kind in
	af_xdp|af_packet)
		local port="net_af_xdp0,iface=$IF_S,start_queue=0,queue_count=1"
		[ "$kind" = af_packet ] && port="net_af_packet0,iface=$IF_S,qpairs=1"
		# ip netns exec gives a private /sys without bpffs; libxdp wants it.
		start "srv$n" ip netns exec "$NS_S" sh -c 'mount -t bpf bpf /sys/fs/bpf 2>/dev/null;
			exec "$@"' sh timeout $RUN_TIMEOUT "$FULL/examples/fragnet-echo" --port "$port" \
			--addr "$SUBNET.1/24" --busy --unfiltered --lcores $SERVER_CPU --eal "--in-memory" ;;
	xsk)
		# The same server on libfragnet's own xsk port: fragnetd owns the
		# veth's XDP program, steers to the socket only what is for the
		# server's address and runs its rules program (empty here: the
		# cost measured is the steering) before the copy into the ring.
		fnd_start
		start "srv$n" ip netns exec "$NS_S" env FRAGNET_DAEMON_SOCKET="$TMP/fnd/sock" \
			timeout $RUN_TIMEOUT "$FULL/examples/fragnet-echo" --port "xsk:$IF_S:0" \
			--addr "$SUBNET.1/24" --busy --lcores $SERVER_CPU --eal "--in-memory" ;;
	kernel)
		ip -n "$NS_S" addr add "$SUBNET.1/24" dev "$IF_S"
		start "srv$n" ip netns exec "$NS_S" taskset -c $SERVER_CPU timeout $RUN_TIMEOUT \
			"$B/fn-kecho" --port 7 ;;
	esac
	server_up $kind $n grep -q "$ready" "$TMP/srv$n.log"
	res=$(ip netns exec "$NS_C" taskset -c $CLIENT_CPU timeout $RUN_TIMEOUT "$B/fn-udpload" \
		--dst "$SUBNET.1:7" --flows $UDP_FLOWS --size $((FRAME - 42)) --warmup $WARMUP \
		--duration $DURATION --watch-pid "${SPID:-0}" "$@" 2>>"$TMP/load$n.log")
	server_down $kind $n
	[ "$kind" = kernel ] && ip -n "$NS_S" addr del "$SUBNET.1/24" dev "$IF_S"
	[ "$kind" = xsk ] && fnd_stop
	[ -n "$res" ] || { cat "$TMP/load$n.log" "$TMP/srv$n.log" >&2; die "fn-udpload against $kind failed"; }
	cp "$TMP/srv$n.log" "$TMP/last-$kind.log"
	RES=$res
}

declare -A RPS P50 P99 UCPU UBUSY UDP_LOST SCPU2
for r in $(seq "$REPS"); do
	for kind in af_xdp xsk kernel af_packet; do
		say "veth: $kind, run $r/$REPS"
		udp_run $kind --window $UDP_WINDOW
		RPS[$kind]+=" $(kv rps "$RES")"
		P50[$kind]+=" $(kv p50_us "$RES")"
		P99[$kind]+=" $(kv p99_us "$RES")"
		UCPU[$kind]+=" $(kv cpu "$RES")"
		UBUSY[$kind]+=" $(kv cpu_busy "$RES")"
		SCPU2[$kind]+=" $(kv server_cpu "$RES")"
		UDP_LOST[$kind]=$(( ${UDP_LOST[$kind]:-0} + $(kv lost "$RES") ))
	done
done
declare -A OPEN
for kind in af_xdp kernel; do
	say "veth: fn-udpload open loop against $kind"
	udp_run $kind --window $UDP_FLOWS --open
	OPEN[$kind]=$RES
done
FN_VETH_COUNTERS=$(grep '^queue 0' "$TMP/last-af_xdp.log")
topo_cleanup


fi
# ------------------------------------------------------------------ 5. veth, DPDK generator
if want 5; then

# Step 2 without the kernel-socket client as the bound: fn-gen (a DPDK lcore
# on CPU $CLIENT_CPU) on net_af_xdp of the client's veth end keeps a window
# of frames in flight to the server, fragnet-echo on net_af_xdp or fn-kecho
# (recvmmsg/sendmmsg) on the server's end. The client end has no address:
# its XDP program takes every frame of the queue to fn-gen. The kernel
# server knows the generator's MAC by a permanent entry (fragnet learns it
# from the requests). fragnet runs with --sleep (FRAGNET_IDLE_SLEEP: no
# spin, a sleep from the first empty poll), not --busy: like the blocking
# kernel server, its thread then takes the CPU it needs, not all it is
# given, and its CPU time is its cost.
topo_pair --no-ipv6 && topo_link "$SUBNET" --hosts "" || die "cannot create the veth pair"
NS_S=$TOPO_S NS_C=$TOPO_C IF_S=$LINK_S IF_C=$LINK_C
say "veth, DPDK generator: namespaces $NS_S/$NS_C, veth $IF_S/$IF_C"

# Each side's receive path on its own CPU. veth runs a frame's receive side
# where it was sent: the server's receive (XDP and the copy into its AF_XDP
# ring, or IP/UDP input up to the socket) on the generator's CPU, and the
# generator's receive (its XDP program and copy) inside the server's send.
# Threaded NAPI on both ends (GRO on gives a veth its NAPI before any XDP
# program is attached) moves that work to a kernel thread per end, pinned:
# the server end's to CPU $SERVER_CPU, counted as the server's; the client
# end's to CPU $CLIENT_CPU, the generator's own. The same for both servers.
napi_thread() {   # napi_thread NS IFACE CPU: threaded NAPI, pinned
	ip netns exec "$1" ethtool -K "$2" gro on >/dev/null &&
		ip netns exec "$1" sh -c "echo 1 > /sys/class/net/$2/threaded" ||
		die "cannot give $2 a threaded NAPI"
	pin_napi "$2" "$3"
}
napi_tid() {   # napi_tid IFACE: the thread id of IFACE's NAPI kthread
	local t comm
	for t in /proc/[0-9]*; do
		comm=$(cat "$t/comm" 2>/dev/null) || continue
		case $comm in "napi/${1:0:10}"*) echo "${t#/proc/}"; return ;; esac
	done
}
pin_napi() {   # pin_napi IFACE CPU (again after an XDP program came or went)
	local tid
	tid=$(napi_tid "$1")
	[ -n "$tid" ] && taskset -pc "$2" "$tid" >/dev/null || die "no NAPI thread of $1 to pin"
}
thread_cpu() {   # thread_cpu PID TID: its user + system seconds
	awk '{sub(/.*\) /, ""); printf "%.2f", ($12 + $13) / '"$(getconf CLK_TCK)"'}' \
		"/proc/$1/task/$2/stat" 2>/dev/null || echo nan
}
napi_thread "$NS_C" "$IF_C" $CLIENT_CPU
napi_thread "$NS_S" "$IF_S" $SERVER_CPU

# ip netns exec gives a private /sys without bpffs; libxdp (under the af_xdp
# PMD) wants it: sh -c "$MOUNT_BPF" sh CMD... mounts it, then runs CMD.
MOUNT_BPF='mount -t bpf bpf /sys/fs/bpf 2>/dev/null; exec "$@"'

# How long the serving thread was runnable but waited for a CPU (schedstat's
# run delay), as a share of the wall time from runq_mark to runq_share: on
# a shared CPU this is the time the others took from it.
runq_mark() {   # runq_mark PID -> "run-delay-ns wall-us"
	echo "$(cut -d' ' -f2 "/proc/$1/task/$1/schedstat" 2>/dev/null || echo x) ${EPOCHREALTIME/./}"
}
runq_share() {   # runq_share PID MARK -> percent
	local now
	now=$(runq_mark "$1")
	awk -v a="$2" -v b="$now" 'BEGIN {split(a, x, " "); split(b, y, " ");
		if (x[1] !~ /^[0-9]+$/ || y[1] !~ /^[0-9]+$/ || y[2] <= x[2]) print "nan";
		else printf "%.0f", (y[1] - x[1]) / 10 / (y[2] - x[2]) }'
}

gen_run() {   # gen_run KIND: sets RES to fn-gen's result line against KIND
	local kind=$1 n=$((++RUN_N)) server spid gen res ready="echoing on"
	case $kind in
	fragnet)
		start "srv$n" ip netns exec "$NS_S" sh -c "$MOUNT_BPF" sh timeout $RUN_TIMEOUT \
			"$FULL/examples/fragnet-echo" \
			--port "net_af_xdp0,iface=$IF_S,start_queue=0,queue_count=1,busy_budget=0" \
			--addr "$SUBNET.1/24" --unfiltered --sleep --lcores $SERVER_CPU --eal "--in-memory" ;;
	kernel)
		# Deleting the last address flushes the neighbours, permanent too.
		ip -n "$NS_S" addr add "$SUBNET.1/24" dev "$IF_S"
		ip -n "$NS_S" neigh replace "$SUBNET.2" lladdr "$LINK_CMAC" dev "$IF_S" nud permanent
		start "srv$n" ip netns exec "$NS_S" taskset -c $SERVER_CPU timeout $RUN_TIMEOUT \
			"$B/fn-kecho" --port 7 ;;
	esac
	server_up $kind $n grep -q "$ready" "$TMP/srv$n.log"
	pin_napi "$IF_S" $SERVER_CPU
	napi=$(napi_tid "$IF_S") napi0=$(thread_cpu "$napi" "$napi")
	# The serving thread is the process's main thread in both: fragnet's
	# main lcore, fn-kecho's only thread.
	runq0=$(runq_mark "${SPID:-0}")
	start "gen$n" ip netns exec "$NS_C" sh -c "$MOUNT_BPF" sh timeout $RUN_TIMEOUT \
		"$B/fn-gen" -l $CLIENT_CPU --in-memory --no-pci --no-telemetry --log-level='*:error' \
		--vdev "net_af_xdp1,iface=$IF_C,start_queue=0,queue_count=1" -- \
		--dst-mac "$LINK_SMAC" --src-ip "$SUBNET.2" --dst-ip "$SUBNET.1" --size $FRAME \
		--window $GEN_WINDOW --warmup $WARMUP --duration $DURATION \
		--watch-pid "${SPID:-0}" --watch-tid "${SPID:-0}"
	gen=$LAST_PID
	sleep 0.5
	pin_napi "$IF_C" $CLIENT_CPU
	wait_for $RUN_TIMEOUT grep -q '^rx_pps=' "$TMP/gen$n.log"
	RUNQ=$(runq_share "${SPID:-0}" "$runq0")
	stop "$gen"
	# The server side's CPU over the server's whole run: its receive (the
	# server end's NAPI thread) and its serving thread (fragnet: the busy
	# time it counts; fn-kecho: its CPU time, as it sleeps when idle).
	napi_cpu=$(awk -v a="$napi0" -v b="$(thread_cpu "$napi" "$napi")" 'BEGIN {printf "%.2f", b - a}')
	serve_cpu=$(thread_cpu "${SPID:-0}" "${SPID:-0}")
	server_down $kind $n
	if [ "$kind" = fragnet ]; then
		# Its CPU time is its cost: under --sleep it does not spin. (Its
		# busy time is wall time: it also holds the moments the NAPI
		# thread preempted it inside a busy poll; printed, not used.)
		local counters
		counters=$(echo_counters "$TMP/srv$n.log")
		V_FN_CPU_BUSY+=" $serve_cpu/${counters#* }"
		served=${counters% *}
	else
		served=$(sed -n 's|^echoed=\([0-9]*\).*|\1|p' "$TMP/srv$n.log")
	fi
	SIDE=$(awk -v s="$serve_cpu" -v n="$napi_cpu" -v p="$served" 'BEGIN {
		if (p > 0 && s ~ /^[0-9.]+$/ && n ~ /^-?[0-9.]+$/) printf "%.0f %.2f %.2f", p / (s + n), s, n;
		else print "nan nan nan" }')
	[ "$kind" = kernel ] && ip -n "$NS_S" addr del "$SUBNET.1/24" dev "$IF_S"
	res=$(grep '^rx_pps=' "$TMP/gen$n.log")
	[ -n "$res" ] || { cat "$TMP/gen$n.log" "$TMP/srv$n.log" >&2; die "fn-gen against $kind failed"; }
	cp "$TMP/srv$n.log" "$TMP/last-veth-$kind.log"
	RES=$res
}

declare -A V_PPS V_SCPU V_PER_CPU V_IDLE V_LOST V_RATIO V_RUNQ V_SIDE V_SIDE_RATIO V_SERVE_S V_NAPI_S
for r in $(seq "$REPS"); do
	order="fragnet kernel"
	[ $((r % 2)) = 0 ] && order="kernel fragnet"   # neither always runs first
	for kind in $order; do
		say "veth, DPDK generator: $kind, run $r/$REPS"
		gen_run $kind
		V_PPS[$kind]+=" $(kv rx_pps "$RES")"
		V_IDLE[$kind]+=" $(kv idle "$RES")"
		V_SCPU[$kind]+=" $(kv server_cpu "$RES")"
		V_RUNQ[$kind]+=" $RUNQ"
		V_PER_CPU[$kind]+=" $(per_cpu "$(kv rx_pps "$RES")" "$(kv server_cpu "$RES")")"
		V_LOST[$kind]=$(( ${V_LOST[$kind]:-0} + $(kv lost "$RES") ))
		read -r side serve napi_s <<<"$SIDE"
		V_SIDE[$kind]+=" $side" V_SERVE_S[$kind]+=" $serve" V_NAPI_S[$kind]+=" $napi_s"
	done
	V_SIDE_RATIO[round]+=" $(ratio "${V_SIDE[fragnet]##* }" "${V_SIDE[kernel]##* }")"
	# The round's ratio, from its two runs side by side.
	V_RATIO[round]+=" $(ratio "${V_PER_CPU[fragnet]##* }" "${V_PER_CPU[kernel]##* }")"
done
FN_VETH_GEN_COUNTERS=$(grep '^queue 0' "$TMP/last-veth-fragnet.log")
topo_cleanup


fi
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ------------------------------------------------------------------ the table

# Skipped comparisons (--only) leave their figures unset: print them as "-".
set +u
md() { local m; m=$(median ${1:-}); [ "$m" = nan ] && echo - || echo "$m"; }
pct() { local m; m=$(md "${1:-}"); [ "$m" = - ] && echo - || echo "$m%"; }
# runs DIVISOR "R1 R2.." ["C1 C2.."]: every run's figure, with the per-CPU
# figure in brackets when given.
runs() {
	awk -v d="$1" -v r="$2" -v c="${3:-}" 'BEGIN {
		n = split(r, a, " "); split(c, b, " ");
		for (i = 1; i <= n; i++) {
			printf "%s%.2f", (i > 1 ? " " : ""), a[i] / d;
			if (c != "") printf " (%.2f)", b[i] / d;
		} }'
}
R_XDP=$(md "${RPS[af_xdp]}") R_XSK=$(md "${RPS[xsk]}") R_KER=$(md "${RPS[kernel]}") R_PKT=$(md "${RPS[af_packet]}")
OPEN_X_SENT=$(kv sent_pps "${OPEN[af_xdp]}") OPEN_X_RPS=$(kv rps "${OPEN[af_xdp]}")
OPEN_K_SENT=$(kv sent_pps "${OPEN[kernel]}") OPEN_K_RPS=$(kv rps "${OPEN[kernel]}")
lat() { echo "$(md "${P50[$1]}")/$(md "${P99[$1]}")"; }
V_F=$(md "${V_PPS[fragnet]}") V_K=$(md "${V_PPS[kernel]}")
V_F_C=$(md "${V_PER_CPU[fragnet]}") V_K_C=$(md "${V_PER_CPU[kernel]}")
spread() {   # spread DIVISOR DECIMALS "R1 R2..": lowest-highest run
	printf '%s\n' $3 | grep -E '^[0-9.]+$' | sort -g | awk -v d="$1" -v p="$2" \
		'NR == 1 {lo = $1} {hi = $1} END {if (NR) printf "%.*f-%.*f", p, lo / d, p, hi / d; else print "-"}'
}
# Which side limited a step-5 run: a generator that was never idle was the
# bound; a serving thread near all of its CPU was; one that waited a quarter
# of the run for its CPU was held back by the CPU's other tenants; else each
# waited on the other (the kernel work between them).
verdict5() {
	awk -v i="$(md "${V_IDLE[$1]}")" -v c="$(md "${V_SCPU[$1]}")" -v q="$(md "${V_RUNQ[$1]}")" 'BEGIN {
		if (i !~ /^[0-9.]+$/) print "-";
		else if (i < 5) printf "generator (idle %d%%)", i;
		else if (c >= 90) printf "server thread (cpu %d%%)", c;
		else if (q >= 25) printf "CPU %d shared (server waited %d%%)", '$SERVER_CPU', q;
		else printf "neither (gen idle %d%%, server %d%%)", i, c }'
}

row() { printf '  %-2s %-50s %-24s %-26s %s\n' "$@"; }
hr() { printf '  %s\n' "$(printf '%.0s-' $(seq 112))"; }

cat <<EOF

libfragnet stack benchmark (bench/stack/run.sh), $(date -u '+%Y-%m-%d %H:%M UTC')
host: $(nproc) vCPU $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), kernel $(uname -r), DPDK $(pkg-config --modversion libdpdk), git $(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo '?')
load average: $LOAD_START at start, $LOAD_END at end (shared VM: absolute rates are noisy, the ratios were taken side by side)
medians of $REPS runs of ${DURATION}s (after ${WARMUP}s warm-up); servers on CPU $SERVER_CPU, generators on CPU $CLIENT_CPU; $FRAME-byte frames (18 B of UDP payload)

EOF
row "#" "measurement" "fragnet" "reference" "fragnet/reference"
hr
row 1 "UDP echo, one lcore, memif pair, Mpps" "full     $(scale "$M_FULL" 1e6 2)" \
	"testpmd macswap $(scale "$M_TP" 1e6 2)" "$(ratio "$M_FULL" "$M_TP")"
row "" "  same, UDP-only build" "udp-only $(scale "$M_UDPO" 1e6 2)" \
	"testpmd macswap $(scale "$M_TP" 1e6 2)" "$(ratio "$M_UDPO" "$M_TP")"
M_FULL_C=$(median ${PER_CPU[full]}) M_UDPO_C=$(median ${PER_CPU[udponly]}) M_TP_C=$(median ${PER_CPU[testpmd]})
row "" "  per CPU-second the server was given, Mpps" "full     $(scale "$M_FULL_C" 1e6 2)" \
	"testpmd macswap $(scale "$M_TP_C" 1e6 2)" "$(ratio "$M_FULL_C" "$M_TP_C")"
row "" "  same, UDP-only build" "udp-only $(scale "$M_UDPO_C" 1e6 2)" \
	"testpmd macswap $(scale "$M_TP_C" 1e6 2)" "$(ratio "$M_UDPO_C" "$M_TP_C")"
# Busy time per packet as a capacity: 1000 / ns = Mpps at 100 % busy.
cap() { awk -v n="$1" 'BEGIN {if (n > 0) printf "%.1f ns (%.2f Mpps)", n, 1000 / n; else print "-"}'; }
B_FULL=$(md "${BUSY_PP[full]}") B_UDPO=$(md "${BUSY_PP[udponly]}") B_TP=$(md "${BUSY_PP[testpmd]}")
row "" "  busy time per packet (capacity at 100 % busy)" "full     $(cap "$B_FULL")" \
	"testpmd $(cap "$B_TP")" "$(ratio "$B_TP" "$B_FULL")"
row "" "  same, UDP-only build" "udp-only $(cap "$B_UDPO")" \
	"testpmd $(cap "$B_TP")" "$(ratio "$B_TP" "$B_UDPO")"
row "" "  CPU the server was given (% of CPU $SERVER_CPU)" \
	"full $(pct "${SCPU[full]}"), udp-only $(pct "${SCPU[udponly]}")" "testpmd $(pct "${SCPU[testpmd]}")" ""
row "" "  best 1-second sample of all runs, Mpps" \
	"full $(scale "$(best ${SAMPLES[full]})" 1e6 2), udp-only $(scale "$(best ${SAMPLES[udponly]})" 1e6 2)" \
	"testpmd macswap $(scale "$(best ${SAMPLES[testpmd]})" 1e6 2)" \
	"$(ratio "$(best ${SAMPLES[full]})" "$(best ${SAMPLES[testpmd]})")"
row "" "  generator check: fn-gen idle time, closed loop" "full $(pct "${GEN_IDLE[full]}"), udp-only $(pct "${GEN_IDLE[udponly]}")" \
	"testpmd $(pct "${GEN_IDLE[testpmd]}")" ""
row "" "  generator check: fn-gen open loop, Mpps" "sends $(scale "$(kv tx_pps "$GEN_OPEN")" 1e6 3)" \
	"(into testpmd rxonly)" ""
row 2 "UDP echo over veth, kreq/s (closed loop, w=$UDP_WINDOW)" "af_xdp    $(scale "$R_XDP" 1e3 1)" \
	"kernel recvmmsg $(scale "$R_KER" 1e3 1)" "$(ratio "$R_XDP" "$R_KER")"
row "" "  latency p50/p99, us" "af_xdp    $(lat af_xdp)" "kernel $(lat kernel)" ""
row "" "  on xsk (fragnetd's XDP steering), kreq/s" "xsk       $(scale "$R_XSK" 1e3 1)" \
	"af_xdp PMD's own $(scale "$R_XDP" 1e3 1)" "$(ratio "$R_XSK" "$R_XDP")"
row "" "  latency p50/p99, us" "xsk       $(lat xsk)" "" ""
row "" "  same server on net_af_packet, kreq/s" "af_packet $(scale "$R_PKT" 1e3 1)" \
	"kernel recvmmsg $(scale "$R_KER" 1e3 1)" "$(ratio "$R_PKT" "$R_KER")"
row "" "  latency p50/p99, us" "af_packet $(lat af_packet)" "" ""
row "" "  CPU the server process got (% of CPU $SERVER_CPU)" \
	"xdp $(pct "${SCPU2[af_xdp]}"), xsk $(pct "${SCPU2[xsk]}"), packet $(pct "${SCPU2[af_packet]}")" "kernel $(pct "${SCPU2[kernel]}")" ""
row "" "  load tool check: fn-udpload CPU%, its CPU busy%" \
	"af_xdp $(pct "${UCPU[af_xdp]}"), $(pct "${UBUSY[af_xdp]}"); xsk $(pct "${UCPU[xsk]}"), $(pct "${UBUSY[xsk]}")" \
	"kernel $(pct "${UCPU[kernel]}"), $(pct "${UBUSY[kernel]}")" ""
# Which side limited the closed loop: a load tool near 100% of its CPU was
# the bottleneck itself (a kernel UDP client core manages a few 100 kpps).
verdict() {   # verdict KIND OPEN_SENT
	awk -v c="$(md "${UCPU[$1]}")" -v r="$(md "${RPS[$1]}")" -v o="$2" 'BEGIN {
		if (c !~ /^[0-9.]+$/) { print "-"; exit }
		if (c >= 90) printf "TOOL (its cpu %d%%)", c;
		else printf "server (%d%% of offer)", (o > 0 ? 100 * r / o : 0) }'
}
row "" "  which side limited the closed loop" "$(verdict af_xdp "$OPEN_X_SENT")" \
	"$(verdict kernel "$OPEN_K_SENT")" ""
row "" "  load tool check: open loop offers/served, kpps" \
	"$(scale "$OPEN_X_SENT" 1e3 0)/$(scale "$OPEN_X_RPS" 1e3 0) af_xdp" \
	"$(scale "$OPEN_K_SENT" 1e3 0)/$(scale "$OPEN_K_RPS" 1e3 0) kernel" ""
row 3 "instructions per echoed packet (callgrind)" "udp-only $IC_UDPO" "full build $IC_FULL" \
	"$(ratio "$IC_UDPO" "$IC_FULL")"
row "" "  of which fn_eth_input_burst and below" "udp-only $IC_UDPO_STACK" "full build $IC_FULL_STACK" \
	"$(ratio "$IC_UDPO_STACK" "$IC_FULL_STACK")"
row 4 "stack code: .text of lib/ objects but nft/, bytes" "udp-only $SZ_UDPO" "full build $SZ_FULL" \
	"$(ratio "$SZ_UDPO" "$SZ_FULL")"
row "" "  .text of libfragnet.so, bytes" "udp-only $SZ_SO_UDPO" "full build $SZ_SO_FULL" \
	"$(ratio "$SZ_SO_UDPO" "$SZ_SO_FULL")"
row "" "  lib/nft/ interpreter objects, .text bytes" \
	"${SZ_NFT:-not in this tree}" "" ""
row 5 "veth echo per server-thread CPU-second, Mpps" "af_xdp $(scale "$V_F_C" 1e6 2)" \
	"kernel recvmmsg $(scale "$V_K_C" 1e6 2)" "$(ratio "$V_F_C" "$V_K_C")"
V_F_S=$(md "${V_SIDE[fragnet]}") V_K_S=$(md "${V_SIDE[kernel]}")
row "" "  per server-side CPU-second (serving + receive), Mpps" "af_xdp $(scale "$V_F_S" 1e6 2)" \
	"kernel recvmmsg $(scale "$V_K_S" 1e6 2)" "$(md "${V_SIDE_RATIO[round]}")"
row "" "  rounds lowest-highest" "af_xdp $(spread 1e6 2 "${V_SIDE[fragnet]}")" \
	"kernel $(spread 1e6 2 "${V_SIDE[kernel]}")" "$(spread 1 2 "${V_SIDE_RATIO[round]}")"
row "" "  (fn-gen on af_xdp, w=$GEN_WINDOW) runs lowest-highest" \
	"af_xdp $(spread 1e6 2 "${V_PER_CPU[fragnet]}")" "kernel $(spread 1e6 2 "${V_PER_CPU[kernel]}")" \
	"$(spread 1 2 "${V_RATIO[round]}")"
row "" "  echoed, Mpps" "af_xdp $(scale "$V_F" 1e6 3)" "kernel $(scale "$V_K" 1e6 3)" \
	"$(ratio "$V_F" "$V_K")"
row "" "  CPU the serving thread got (% of CPU $SERVER_CPU)" "af_xdp $(pct "${V_SCPU[fragnet]}")" \
	"kernel $(pct "${V_SCPU[kernel]}")" ""
row "" "  serving thread waiting for a CPU (% of the run)" "af_xdp $(pct "${V_RUNQ[fragnet]}")" \
	"kernel $(pct "${V_RUNQ[kernel]}")" ""
row "" "  generator check: fn-gen idle time" "af_xdp $(pct "${V_IDLE[fragnet]}")" \
	"kernel $(pct "${V_IDLE[kernel]}")" ""
row "" "  which side limited it" "$(verdict5 fragnet)" "$(verdict5 kernel)" ""
hr
cat <<EOF

How each figure was measured
 1. Server: fragnet-echo (--busy, one queue, EAL main lcore pinned to CPU $SERVER_CPU, --in-memory
    hugepages) on net_memif0 role=server, or dpdk-testpmd --forward-mode=macswap with its forwarding
    lcore on CPU $SERVER_CPU, on an identical memif (copy mode, default rings). Generator: fn-gen,
    one lcore on CPU $CLIENT_CPU, memif role=client, keeps $GEN_WINDOW frames in flight (64 UDP flows,
    valid IPv4 and UDP checksums) and counts replies per second; each reply is rewritten into the
    next request. Both ends poll; a memif copy costs the same on each side, so the generator and
    testpmd do similar work per packet: the macswap figure is the ceiling of this pair, not of a NIC.
    Generator check: "idle" is the share of fn-gen's measured time spent in loop iterations that
    found nothing to receive and nothing to send, i.e. waiting for the server; "open loop" is
    fn-gen sending bursts as fast as memif takes them, into testpmd rxonly.
    "Per CPU-second": fn-gen reads the server's CPU time (/proc/PID/stat, all threads) at the start
    and end of its measured seconds; the rate divided by that share of one CPU is what the server
    echoes per second of CPU it actually got. Both servers spin, so on this shared CPU each only
    gets its slice; this is the figure that is stable across runs, the raw rate is what came back.
    Every run, in order (Mpps; per CPU-second in brackets):
      testpmd $(runs 1e6 "${PPS[testpmd]:-}" "${PER_CPU[testpmd]:-}")
      full    $(runs 1e6 "${PPS[full]:-}" "${PER_CPU[full]:-}")
      udp-only $(runs 1e6 "${PPS[udponly]:-}" "${PER_CPU[udponly]:-}")
    "Busy time per packet": what each server's own count says one packet cost it, over its whole
    run: testpmd --record-core-cycles (cycles of the polls that received packets, rx burst to tx
    burst, over packets received, at its TSC rate), fragnet-echo's busy_ns (polls that received
    packets, each from its start to the next poll's start) over packets received. Empty polls
    count in neither, so the figure holds when the generator is the bound (1000 / ns: the Mpps
    the server would echo at 100 % busy); the ratio is testpmd's time over fragnet's, i.e.
    fragnet's capacity as a share of testpmd's. Every run: testpmd ${BUSY_PP[testpmd]:-}; full
    ${BUSY_PP[full]:-}; udp-only ${BUSY_PP[udponly]:-} (ns per packet).
    Frames written off after 250 ms without a reply (all runs): testpmd ${GEN_LOST[testpmd]:-0},
    full ${GEN_LOST[full]:-0}, udp-only ${GEN_LOST[udponly]:-0}.
    fragnet counters of its last run: ${FN_MEMIF_COUNTERS:-none}
 2. veth pair $IF_S/$IF_C between namespaces, one queue each way, client finishes checksums
    (ethtool -K tx off), static neighbour entry on the client. Server side, one at a time on
    CPU $SERVER_CPU: fragnet-echo --busy on net_af_xdp (queue 0, native XDP in copy mode, the PMD's
    own XDP program redirecting every frame of the queue), on libfragnet's xsk port (copy mode;
    fragnetd's steering program, which passes to the kernel what is not for the server, and an
    empty rules program), or on net_af_packet (qpairs=1), or fn-kecho (one UDP socket, blocking recvmmsg then sendmmsg of the
    same batch, up to 64) with the address on the veth. Load: fn-udpload on CPU $CLIENT_CPU, $UDP_FLOWS
    connected sockets, $UDP_WINDOW requests in flight in all, sendmmsg/recvmmsg, latency from a
    timestamp in each request. Server CPU: what the server process got during the measured seconds
    (fragnet spins, so it takes all it is given; the kernel server's figure is what it needed,
    without its softirq work on CPU $CLIENT_CPU). On veth the receiving side's kernel work (XDP and the copy into the
    AF_XDP ring, or IP/UDP input for the kernel server) runs in softirq on the sender's CPU, so
    both servers pay for the client's receive path and the client pays for theirs alike.
    Load tool check: fn-udpload's own CPU time, and how busy CPU $CLIENT_CPU was in all (its softirqs
    for the server's receive path and other tenants included) during the closed-loop runs; below
    100% the tool was waiting for the server. Open loop: batches of 32 back to back, offered vs
    served (the offer depends on the server: its receive path runs on the client CPU).
    "TOOL" (the tool at 90% of its CPU or more) means the closed-loop figures measure the load
    tool: one kernel-socket client core manages a few hundred kpps (notes/platform.md); the ratio
    then only says that both servers kept up with it. "server" gives the closed-loop rate
    as a share of what the tool offers open loop against the same server.
    Every run, in order (kreq/s): af_xdp $(runs 1e3 "${RPS[af_xdp]:-}"); xsk $(runs 1e3 "${RPS[xsk]:-}"); kernel $(runs 1e3 "${RPS[kernel]:-}");
      af_packet $(runs 1e3 "${RPS[af_packet]:-}")
    Requests written off after 250 ms without a reply (all runs): af_xdp ${UDP_LOST[af_xdp]:-0},
    kernel ${UDP_LOST[kernel]:-0}, af_packet ${UDP_LOST[af_packet]:-0}.
    fragnet counters of its last af_xdp run: ${FN_VETH_COUNTERS:-none}
 3. fn-icount on a net_ring port whose rx and tx ring are one ring (the ring PMD loopback), under
    valgrind --tool=callgrind --collect-atstart=no, collecting only inside fragnet_poll() (client
    requests): $ICOUNT_BURSTS bursts of 32 requests (after 100 uncounted), each one poll: rx burst,
    Ethernet, IPv4 and UDP input with software checksums (the ring PMD offloads nothing), the
    echo callback of examples/echo.c (fragnet_udp_send of the request's payload: sent in the
    request's own mbuf, no alloc, no copy, UDP checksum kept), UDP/IPv4/Ethernet
    output, tx burst. Counted: stack + callback + poll-loop overhead + the ring PMD (a ring
    dequeue/enqueue, about 13 instructions per packet); not counted: building the requests and
    freeing the replies (a NIC's tx completion). "of which" is the inclusive count of
    fn_eth_input_burst (stack and callback only, no PMD, no poll loop).
 4. size -A, sum of .text over the objects of lib/runtime, lib/stack, lib/filter and lib/ctl in libfragnet_internal.a
    ($N_OBJ_FULL objects full, $N_OBJ_UDPO UDP-only), release build, and .text of libfragnet.so.
    UDP-only: ${UDPONLY_OPTS[*]}.
 5. The veth of 2, but the load is fn-gen (one DPDK lcore on CPU $CLIENT_CPU, $GEN_WINDOW frames in flight,
    64 flows, valid checksums) on net_af_xdp of the client end, whose XDP program takes every
    frame of the queue; the client end has no address. Servers on CPU $SERVER_CPU: fragnet-echo on
    net_af_xdp (--sleep: no spin, it sleeps from the first empty poll, 10 us doubling up to 1 ms), or fn-kecho (blocking recvmmsg/sendmmsg, batches up to 64) with the address on
    the veth and a permanent neighbour entry for the generator. Rounds alternate which server runs
    first; each round gives a ratio, the medians and lowest-highest are over rounds. "Per
    server-thread CPU-second": the rate divided by the CPU time of the serving thread alone
    (fragnet's main lcore, fn-kecho's one thread; /proc/PID/task/TID/stat) during the measured
    seconds: what each needed, its receive left out (fragnet's thread also holds its spin before
    it sleeps). Each veth end has threaded NAPI, pinned: a frame's receive side (veth runs it
    on the sending CPU otherwise) runs in the server end's NAPI thread on CPU $SERVER_CPU for the
    server (XDP and the copy into the AF_XDP ring, or GRO and IP/UDP input up to the socket),
    in the client end's on CPU $CLIENT_CPU for the generator. fn-gen idle: share of its measured time in loop
    iterations that found nothing to do (waiting for the server); near 0 the generator was the bound.
    Waiting for a CPU: the serving thread's run delay (/proc/PID/task/TID/schedstat) from the
    generator's start to its result, in % of that wall time: runnable, but CPU $SERVER_CPU ran others.
    "Per server-side CPU-second": the server side's whole cost, over each server's whole run: its
    serving thread (its CPU time: both sleep when idle, fragnet-echo without a spin) plus
    the CPU time of the server end's NAPI thread (threaded NAPI pinned to CPU $SERVER_CPU: the
    server's receive, XDP and the copy into the AF_XDP ring, or GRO and IP/UDP input up to the
    socket), over the packets it echoed. The generator's receive runs in the client end's NAPI
    thread on CPU $CLIENT_CPU. fragnet-echo's af_xdp port has busy_budget=0: no busy-poll system
    call in empty polls, its receive stays in that NAPI thread. Every run, serving and receive
    seconds: af_xdp ${V_SERVE_S[fragnet]:-} / ${V_NAPI_S[fragnet]:-}; kernel ${V_SERVE_S[kernel]:-} /
    ${V_NAPI_S[kernel]:-}; round ratios ${V_SIDE_RATIO[round]:-}. fragnet-echo's CPU time / busy
    time, every run: ${V_FN_CPU_BUSY:-}.
    Every run, in order (Mpps per server-thread CPU-second; echoed Mpps in brackets):
      af_xdp $(runs 1e6 "${V_PER_CPU[fragnet]:-}" "${V_PPS[fragnet]:-}")
      kernel $(runs 1e6 "${V_PER_CPU[kernel]:-}" "${V_PPS[kernel]:-}")
    Frames written off after 250 ms without a reply (all runs): af_xdp ${V_LOST[fragnet]:-0},
    kernel ${V_LOST[kernel]:-0}.
    fragnet counters of its last run: ${FN_VETH_GEN_COUNTERS:-none}

Callgrind hot spots, full build (self instructions per packet, function, object):
$(sed 's/^/  /' "$TMP/hot-full.txt" 2>/dev/null)
Callgrind hot spots, UDP-only build:
$(sed 's/^/  /' "$TMP/hot-udponly.txt" 2>/dev/null)

run time $((SECONDS - T_START)) s (plus builds)
EOF

# The main rows as CSV, and their ratios as a plot; "-" (not measured) is
# left empty.
results=${RESULTS:-$SRC/bench/results}
mkdir -p "$results"
csv_row() {
	local f out=$1; shift
	for f in "$@"; do [ "$f" = - ] && f=; out+=",$f"; done
	echo "$out"
}
if want 1 || want 2 || want 3 || want 4; then
{
	echo "measurement,fragnet,reference,fragnet/reference"
	csv_row "memif echo Mpps: full vs testpmd macswap" "$(scale "$M_FULL" 1e6 2)" \
		"$(scale "$M_TP" 1e6 2)" "$(ratio "$M_FULL" "$M_TP")"
	csv_row "memif echo Mpps: UDP-only vs testpmd macswap" "$(scale "$M_UDPO" 1e6 2)" \
		"$(scale "$M_TP" 1e6 2)" "$(ratio "$M_UDPO" "$M_TP")"
	csv_row "memif echo Mpps per server CPU-second: full vs testpmd" "$(scale "$M_FULL_C" 1e6 2)" \
		"$(scale "$M_TP_C" 1e6 2)" "$(ratio "$M_FULL_C" "$M_TP_C")"
	csv_row "memif echo capacity (busy ns per packet): full vs testpmd" \
		"$(awk -v n="$B_FULL" 'BEGIN {if (n > 0) printf "%.2f", 1000 / n}')" \
		"$(awk -v n="$B_TP" 'BEGIN {if (n > 0) printf "%.2f", 1000 / n}')" "$(ratio "$B_TP" "$B_FULL")"
	csv_row "veth echo kreq/s: af_xdp vs kernel" "$(scale "$R_XDP" 1e3 1)" "$(scale "$R_KER" 1e3 1)" \
		"$(ratio "$R_XDP" "$R_KER")"
	csv_row "veth echo kreq/s: xsk (fragnetd steering) vs af_xdp PMD" "$(scale "$R_XSK" 1e3 1)" \
		"$(scale "$R_XDP" 1e3 1)" "$(ratio "$R_XSK" "$R_XDP")"
	csv_row "veth echo kreq/s: af_packet vs kernel" "$(scale "$R_PKT" 1e3 1)" "$(scale "$R_KER" 1e3 1)" \
		"$(ratio "$R_PKT" "$R_KER")"
	csv_row "instructions per packet: UDP-only vs full" "$IC_UDPO" "$IC_FULL" "$(ratio "$IC_UDPO" "$IC_FULL")"
	csv_row "stack .text bytes: UDP-only vs full" "$SZ_UDPO" "$SZ_FULL" "$(ratio "$SZ_UDPO" "$SZ_FULL")"
} >"$results/stack.csv"
"$SRC/bench/plot.sh" "$results/stack.csv" "$results/stack.png" \
	"libfragnet stack against its references ($(date +%F))" "fragnet / reference" 4 || true
fi
# Step 5 has a file of its own: one row per round and the medians.
if want 5; then
	{
		echo "round,fragnet echoes per serving-thread CPU-second,kernel echoes per serving-thread CPU-second,fragnet/kernel,fragnet pps,kernel pps,fragnet echoes per server-side CPU-second,kernel echoes per server-side CPU-second,fragnet/kernel server-side"
		fc=(${V_PER_CPU[fragnet]}) kc=(${V_PER_CPU[kernel]}) fp=(${V_PPS[fragnet]}) kp=(${V_PPS[kernel]})
		fs=(${V_SIDE[fragnet]}) ks=(${V_SIDE[kernel]}) sr=(${V_SIDE_RATIO[round]})
		for ((i = 0; i < ${#fc[@]}; i++)); do
			csv_row "$((i + 1))" "${fc[i]}" "${kc[i]}" "$(ratio "${fc[i]}" "${kc[i]}")" "${fp[i]}" "${kp[i]}" \
				"${fs[i]}" "${ks[i]}" "${sr[i]}"
		done
		csv_row median "$V_F_C" "$V_K_C" "$(md "${V_RATIO[round]}")" "$V_F" "$V_K" \
			"$V_F_S" "$V_K_S" "$(md "${V_SIDE_RATIO[round]}")"
	} >"$results/stack-veth.csv"
	"$SRC/bench/plot.sh" "$results/stack-veth.csv" "$results/stack-veth.png" \
		"UDP echo over veth, DPDK generator: per server CPU-second ($(date +%F))" \
		"echoes per CPU-second: serving thread (2, 3), server side (7, 8)" 2,3,7,8 || true
fi
