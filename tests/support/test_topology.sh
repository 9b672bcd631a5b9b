#!/usr/bin/env bash
# scripts/lib/topology.sh itself, as the benchmarks and the demo use it: a
# pair with two queues, two client addresses and a static neighbour, a
# second link with a kernel address, nothing in the caller's namespace, and
# every namespace gone after a plain exit, a failing command under set -e,
# and SIGTERM, SIGINT or SIGHUP. Prints one line per check and
# "N passed, N failed". Needs root.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lib=$here/../../scripts/lib/topology.sh
passed=0 failed=0

check() { # NAME 'SHELL CONDITION'
	if eval "$2"; then
		passed=$((passed + 1)); echo "ok   $1"
	else
		failed=$((failed + 1)); echo "FAIL $1"
	fi
}
ours() { ls /run/netns 2>/dev/null | grep -c "^$1" || true; }
gone() { [ "$(ours "$1")" = 0 ]; }

# A child that builds the topology, prints its tag and then exits, fails or
# waits to be stopped: holder MODE (exit, fail, hold).
holder() {
	# SIGHUP at its default even under nohup: bash cannot trap a signal that
	# was ignored when it started
	env --default-signal=HUP bash -c '
		set -euo pipefail
		. "$1"
		sleeper=
		cleanup() { [ -z "$sleeper" ] || kill "$sleeper"; }
		topo_init fnu
		topo_on_exit cleanup
		topo_pair
		topo_link 10.63.0
		echo "$TOPO_TAG"
		case $2 in
		fail) false ;;
		hold) sleep 60 >/dev/null & sleeper=$!; wait ;;
		esac' holder "$lib" "$1"
}

[ "$(id -u)" = 0 ] || { echo "test_topology.sh: needs root"; exit 1; }

# The layout, in this shell.
. "$lib"
topo_init fnu
topo_on_exit true
topo_pair --no-ipv6 &&
	topo_link 10.61.0 --queues 2 --hosts "2 200" --static-neigh &&
	first=("$LINK_S" "$LINK_C" "$LINK_SIP" "$LINK_CIP" "$LINK_SMAC") &&
	topo_link 10.62.0 --server-kernel
built=$?
check "topo_pair and topo_link succeed" '[ $built = 0 ]'
check "namespaces tag+s and tag+c, named after the pid" \
	'[ "$TOPO_S" = "fnu$$s" ] && [ "$TOPO_C" = "fnu$$c" ] && [ "$(ours "fnu$$")" = 2 ]'
queues=$(ip netns exec "$TOPO_S" ls "/sys/class/net/${first[0]}/queues" | tr '\n' ' ')
check "2 queues each way on the server end" '[ "$queues" = "rx-0 rx-1 tx-0 tx-1 " ]'
addrs=$(ip -n "$TOPO_C" -o -4 addr show dev "${first[1]}")
check "client addresses .2 and .200, LINK_CIP the first" \
	'[ "${first[3]}" = 10.61.0.2 ] && [[ $addrs == *10.61.0.2/24* && $addrs == *10.61.0.200/24* ]]'
check "no kernel address on the DPDK end" \
	'[ -z "$(ip -n "$TOPO_S" -o -4 addr show dev "${first[0]}")" ]'
check "client end computes its checksums (tx off)" \
	'ip netns exec "$TOPO_C" ethtool -k "${first[1]}" | grep -q "tx-checksumming: off"'
neigh=$(ip -n "$TOPO_C" neigh show "${first[2]}")
check "the server's MAC is a permanent neighbour of the client" \
	'[[ $neigh == *"${first[4]}"*PERMANENT* ]]'
check "IPv6 off" '[ "$(ip netns exec "$TOPO_C" sysctl -n net.ipv6.conf.all.disable_ipv6)" = 1 ]'
check "second link: ends tag+2/tag+3 with the server address in the kernel" \
	'[ "$LINK_S" = "fnu$$2" ] && [ "$LINK_C" = "fnu$$3" ] &&
	 ip -n "$TOPO_S" -o -4 addr show dev "$LINK_S" | grep -q 10.62.0.1/24'
check "... and it carries traffic (ping)" \
	'ip netns exec "$TOPO_C" ping -c 1 -W 2 -q 10.62.0.1 >/dev/null'
check "nothing of it in the caller's namespace" '! ip -o link show | grep -q "fnu$$"'
topo_cleanup
check "topo_cleanup removes every namespace" 'gone "fnu$$"'

tag=$(holder exit)
check "removed at a plain exit" '[ -n "$tag" ] && gone "$tag"'
tag=$(holder fail)
check "removed when a command fails under set -e" '[ -n "$tag" ] && gone "$tag"'
for sig in TERM INT HUP; do
	exec 3< <(holder hold)
	read -r tag <&3
	present=$(ours "$tag")
	kill -"$sig" "${tag#fnu}"
	cat <&3 >/dev/null   # until the holder has gone
	exec 3<&-
	check "SIG$sig: removed (they were there: $present namespaces)" \
		'[ "$present" = 2 ] && gone "$tag"'
done

echo "$passed passed, $failed failed"
[ $failed = 0 ]
