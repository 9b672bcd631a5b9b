# shellcheck shell=bash
# Network namespaces joined by veth pairs, for the benchmarks and the demo
# (the shell twin of tests/support/topology.py). Source it, then:
#
#   topo_init PREFIX          names start with PREFIX and this shell's pid
#   topo_on_exit FUNC         on exit, also by SIGINT/SIGTERM/SIGHUP: FUNC
#                             (the script's own cleanup), then topo_cleanup
#   topo_netns SUFFIX [--no-ipv6]
#                             namespace $TOPO_TAG$SUFFIX, loopback up
#   topo_pair [--no-ipv6]     the server namespace $TOPO_S (tag+s) and the
#                             client namespace $TOPO_C (tag+c)
#   topo_link SUBNET [--queues N] [--hosts "2 200"] [--static-neigh]
#             [--server-kernel]
#                             a veth pair between them (ends tag+0 and tag+1,
#                             then tag+2 and tag+3, ...): the client end gets
#                             SUBNET.H/24 for each host H (default 2) and
#                             computes its own UDP checksums (ethtool tx off:
#                             a DPDK port reads raw frames); the server end
#                             (SUBNET.1) is left to a DPDK port unless
#                             --server-kernel gives it the address. Sets
#                             LINK_S LINK_C (interfaces), LINK_SIP LINK_CIP
#                             (the first client address), LINK_SMAC LINK_CMAC.
#                             --static-neigh: the client knows the server's
#                             MAC by a permanent entry instead of ARP.
#   topo_cleanup              delete every namespace made here, by name
#
# The veth ends are created inside the namespaces, never in the caller's,
# so nothing outside them is touched. Functions return non-zero on failure.

TOPO_TAG=
TOPO_NS=()
TOPO_LINKS=0
TOPO_S=
TOPO_C=

topo_init() {
	TOPO_TAG=$1$$
	# interface names are TAG + a digit or two: IFNAMSIZ is 16
	[ ${#TOPO_TAG} -le 13 ] || { echo "topology: prefix '$1' too long" >&2; return 1; }
}

topo_on_exit() {
	# shellcheck disable=SC2064  # FUNC is expanded now, on purpose
	trap "trap '' INT TERM HUP; $1; topo_cleanup" EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

topo_netns() {
	local ns=$TOPO_TAG$1
	ip netns add "$ns" || return 1
	TOPO_NS+=("$ns")
	ip -n "$ns" link set lo up || return 1
	if [ "${2:-}" = --no-ipv6 ]; then
		# no router solicitations, DAD or MLD frames on the links
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 || return 1
	fi
}

topo_pair() {
	TOPO_S=${TOPO_TAG}s TOPO_C=${TOPO_TAG}c
	topo_netns s "$@" && topo_netns c "$@"
}

topo_link() {
	local subnet=$1 queues=1 hosts=2 neigh=0 kernel=0 h
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--queues) queues=$2; shift 2 ;;
		--hosts) hosts=$2; shift 2 ;;
		--static-neigh) neigh=1; shift ;;
		--server-kernel) kernel=1; shift ;;
		*) echo "topo_link: unknown option $1" >&2; return 2 ;;
		esac
	done
	LINK_S=$TOPO_TAG$((2 * TOPO_LINKS)) LINK_C=$TOPO_TAG$((2 * TOPO_LINKS + 1))
	TOPO_LINKS=$((TOPO_LINKS + 1))
	LINK_SIP=$subnet.1
	ip -n "$TOPO_S" link add "$LINK_S" numtxqueues "$queues" numrxqueues "$queues" type veth \
		peer name "$LINK_C" numtxqueues "$queues" numrxqueues "$queues" netns "$TOPO_C" ||
		return 1
	ip -n "$TOPO_S" link set "$LINK_S" up && ip -n "$TOPO_C" link set "$LINK_C" up || return 1
	LINK_CIP=
	for h in $hosts; do
		ip -n "$TOPO_C" addr add "$subnet.$h/24" dev "$LINK_C" || return 1
		LINK_CIP=${LINK_CIP:-$subnet.$h}
	done
	if [ $kernel = 1 ]; then
		ip -n "$TOPO_S" addr add "$LINK_SIP/24" dev "$LINK_S" || return 1
	fi
	ip netns exec "$TOPO_C" ethtool -K "$LINK_C" tx off >/dev/null || return 1
	LINK_SMAC=$(ip netns exec "$TOPO_S" cat "/sys/class/net/$LINK_S/address") || return 1
	LINK_CMAC=$(ip netns exec "$TOPO_C" cat "/sys/class/net/$LINK_C/address") || return 1
	if [ $neigh = 1 ]; then
		ip -n "$TOPO_C" neigh replace "$LINK_SIP" lladdr "$LINK_SMAC" dev "$LINK_C" \
			nud permanent || return 1
	fi
}

topo_cleanup() {
	local i
	for ((i = ${#TOPO_NS[@]} - 1; i >= 0; i--)); do
		ip netns del "${TOPO_NS[i]}" 2>/dev/null
	done
	TOPO_NS=()
	TOPO_LINKS=0
	return 0
}
