#!/usr/bin/env bash
# fragnetd.service under a real systemd (suite `package`, test package-boot,
# root): the unit's User=, capabilities and sandbox as systemd applies them,
# which test_package.sh can only imitate with setpriv.
#  1. the packages (build_debs.sh, shared with test_package.sh) installed by
#     apt into a clean Debian 12 root with systemd (mmdebstrap);
#  2. that root booted with systemd-nspawn --boot, in a network namespace of
#     its own that holds one end of a veth pair; the other end is in a peer
#     namespace on the host, the client's;
#  3. `systemctl start fragnetd`, then against the running service: active,
#     its process not root but the user fragnetd, its effective, permitted,
#     bounding and ambient capabilities exactly the unit's three, no new
#     privileges, a seccomp filter, /usr, /etc and /var read-only to it and
#     /run/fragnet writable (ProtectSystem=strict);
#  4. the installed fragnet-echo, kernel-enforced on the veth, answers the
#     client (rules.d holds rules/echo.nft: generation 1);
#  5. rules.d changed to drop port 7, `systemctl reload fragnetd`: the same
#     fragnetd serves generation 2, the echo applies it, the client gets
#     nothing, the drop rule counted it.
#
#   tests/package/boot_unit.sh SRCDIR DEBDIR
#
# The container's PID 1 runs in the host's init user namespace with
# nspawn's capabilities plus CAP_NET_ADMIN and CAP_BPF (the unit asks for
# them). The host's PID 1 need not be systemd (it is not on the CI machine):
# nspawn runs with --register=no --keep-unit, and the test reaches the
# container through its leader's namespaces (nsenter), not machinectl. Cleanup, also on
# failure: the container is halted through nspawn (SIGTERM), the namespaces
# fnboot<pid>* are removed by name, and /tmp/fnboot.* with the root.
set -euo pipefail
src=$(cd "$1" && pwd)
debdir=$2
[ "$(id -u)" = 0 ] || { echo "FAIL needs root"; exit 1; }
. "$src/scripts/lib/topology.sh"
topo_init fnboot
work=$(mktemp -d /tmp/fnboot.XXXXXX)
root=$work/root
nspawn=
echo_pid=
# The echo runs under nsenter, which stops itself whenever its child stops
# (and so stayed behind, stopped, once the container was gone): continue it,
# then end it; the echo inside ends with the container.
stop_echo() {
	[ -n "$echo_pid" ] || return 0
	kill -CONT "$echo_pid" 2>/dev/null || true
	kill -TERM "$echo_pid" 2>/dev/null || true
	for _ in $(seq 50); do   # until it has exited (a zombie until waited for)
		case $(ps -o stat= -p "$echo_pid" 2>/dev/null) in "" | Z*) break ;; esac
		sleep 0.1
	done
	kill -KILL "$echo_pid" 2>/dev/null || true
	wait "$echo_pid" 2>/dev/null || true
	echo_pid=
}
cleanup() {
	stop_echo
	if [ -n "$nspawn" ] && kill -0 "$nspawn" 2>/dev/null; then
		kill -TERM "$nspawn"   # nspawn asks the container's systemd to halt
		for _ in $(seq 900); do kill -0 "$nspawn" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$nspawn" 2>/dev/null; then
			echo "boot_unit: the container did not halt in 90 s; killing its PID 1"
			tail -15 "$work/boot.log"
			# the namespace's init: every process in the container dies with it
			[ -z "${leader:-}" ] || kill -KILL "$leader" 2>/dev/null || true
			sleep 1
			kill -KILL "$nspawn" 2>/dev/null || true
			# what nspawn removes when it exits by itself
			rm -f "/run/systemd/nspawn/locks/$(stat -c 'inode-%d:%i' "$root")"
			rmdir "/run/systemd/nspawn/propagate/$TOPO_TAG" 2>/dev/null || true
		fi
		wait "$nspawn" 2>/dev/null || true
	fi
	rm -rf --one-file-system "$work" || echo "boot_unit: could not remove $work"
}
topo_on_exit cleanup
passed=0
ok() { echo "ok   $*"; passed=$((passed + 1)); }
fail() {
	echo "FAIL $*"
	for f in "$work"/*.log; do [ -s "$f" ] && { echo "--- $f"; tail -25 "$f"; }; done
	[ -z "${leader:-}" ] || inside journalctl -b -u fragnetd --no-pager 2>/dev/null | tail -25
	exit 1
}

# 1. The packages, and a Debian 12 root with systemd and them.
"$src/tests/package/build_debs.sh" "$src" "$debdir" || fail "the packages did not build"
mkdir "$work/debs"
cp "$debdir"/libfragnet0_*.deb "$debdir"/fragnetd_*.deb "$work/debs/"
mmdebstrap --quiet --variant=apt \
	--include=ca-certificates,systemd,systemd-sysv,dbus,iproute2,nftables \
	--customize-hook="copy-in $work/debs /tmp" \
	--customize-hook='chroot "$1" sh -c "DEBIAN_FRONTEND=noninteractive apt-get install -y -q /tmp/debs/*.deb && rm -r /tmp/debs"' \
	bookworm "$root" http://deb.debian.org/debian >"$work/mmdebstrap.log" 2>&1 ||
	fail "mmdebstrap or apt-get install failed"
ok "a bookworm root with systemd, libfragnet0 and fragnetd installed by apt"

# The peer namespaces: the container's ($S) and the client's ($C), joined
# by a veth; the packaged configuration, with kernel enforcement for the
# echo on the container's end and rules.d holding the echo's rules.
topo_pair --no-ipv6
topo_link 10.96.1
S=$TOPO_S C=$TOPO_C
conf=$root/etc/fragnet/fragnetd.conf
printf 'app.echo.interface = %s\napp.echo.address = %s\n' "$LINK_S" "$LINK_SIP" >>"$conf"
examples=$root/usr/share/doc/fragnetd/examples
[ -f "$examples/echo.nft" ] || gunzip -k "$examples/echo.nft.gz"
cp "$examples/echo.nft" "$root/etc/fragnet/rules.d/echo.nft"

# 2. Boot.
# --register=no --keep-unit: no machined nor a systemd on the host's bus
# needed; CAP_NET_ADMIN, which a namespace of the caller's does not bring,
# and CAP_BPF, which nspawn does not give, for the unit's three; bpf(2),
# which nspawn's seccomp filter refuses otherwise (EPERM at the first
# program fragnetd loads).
systemd-nspawn --quiet --boot --register=no --keep-unit --directory="$root" \
	--machine="$TOPO_TAG" --network-namespace-path="/run/netns/$S" \
	--capability=CAP_NET_ADMIN,CAP_BPF --system-call-filter=bpf \
	--console=read-only >"$work/boot.log" 2>&1 &
nspawn=$!
leader=
for _ in $(seq 100); do
	leader=$(pgrep -P "$nspawn" -x systemd || true)
	[ -n "$leader" ] && break
	sleep 0.1
done
[ -n "$leader" ] || fail "systemd-nspawn started no systemd"
in_container=(nsenter --target "$leader" --all --root --wd --
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin)
inside() { # a command in the container, as its root
	"${in_container[@]}" "$@"
}
# systemctl answers once systemd listens on its private socket
state=
for _ in $(seq 600); do
	state=$(inside timeout 120 systemctl is-system-running --wait 2>/dev/null || true)
	[ -n "$state" ] && break
	sleep 0.2
done
case $state in
running) ;;
degraded) inside systemctl --failed --no-pager || true ;;
*) fail "the container's systemd is $state" ;;
esac
ok "the root booted under systemd-nspawn ($state)"

# 3. The service, as systemd runs it.
inside systemctl start fragnetd >"$work/start.log" 2>&1 || fail "systemctl start fragnetd failed"
[ "$(inside systemctl is-active fragnetd)" = active ] || fail "fragnetd.service is not active"
pid=$(inside systemctl show -p MainPID --value fragnetd)
[ "$pid" -gt 0 ] || fail "fragnetd.service has no main process"
uid=$(inside id -u fragnetd)
[ "$uid" != 0 ] || fail "the user fragnetd is root"
st=$(inside cat "/proc/$pid/status" | tr -s '\t' ' ')
field() { echo "$st" | sed -n "s/^$1: //p"; }
[ "$(field Uid)" = "$uid $uid $uid $uid" ] && [ "$(field Gid | cut -d' ' -f1)" != 0 ] ||
	fail "fragnetd runs as uid $(field Uid), gid $(field Gid), not the user fragnetd ($uid)"
want=$(printf '%016x' $(((1 << 12) | (1 << 21) | (1 << 39))))   # NET_ADMIN SYS_ADMIN BPF
for c in CapEff CapPrm CapBnd CapAmb; do
	[ "$(field $c)" = "$want" ] || fail "fragnetd's $c is $(field $c), not $want"
done
[ "$(field NoNewPrivs)" = 1 ] || fail "fragnetd's NoNewPrivs is $(field NoNewPrivs)"
# SystemCallArchitectures=, MemoryDenyWriteExecute=, RestrictNamespaces= and
# the other Restrict*= options are seccomp filters
[ "$(field Seccomp)" = 2 ] || fail "fragnetd has no seccomp filter (Seccomp $(field Seccomp))"
ok "fragnetd.service active: pid $pid, uid $uid (fragnetd), capabilities $want (SYS_ADMIN NET_ADMIN BPF) effective, permitted, bounding and ambient, NoNewPrivs, seccomp"
# test -w is access(2): a read-only mount refuses even root
in_unit() { inside nsenter --target "$pid" --mount -- "$@"; }
for d in /usr /etc /var; do
	! in_unit test -w "$d" || fail "$d is writable in fragnetd's mount namespace"
done
in_unit test -w /run/fragnet || fail "/run/fragnet is not writable in fragnetd's mount namespace"
ok "in fragnetd's mount namespace /usr, /etc and /var are read-only, /run/fragnet writable"

# 4. The echo, answered from the peer namespace.
ctl() { inside fragnetctl "$@"; }
# In a subshell that execs: $! is then nsenter itself, which stop_echo ends
# (a function run in the background is a subshell with nsenter its child).
(exec "${in_container[@]}" fragnet-echo --port "xsk:$LINK_S:0" --addr "$LINK_SIP/24" \
	--udp-port 7) >"$work/echo.log" 2>&1 &
echo_pid=$!
for _ in $(seq 300); do grep -q "echoing on" "$work/echo.log" && break; sleep 0.1; done
grep -q "echoing on" "$work/echo.log" || fail "fragnet-echo did not start"
echo_generation() {
	ctl -j apps | python3 -c '
import json, sys
print(" ".join(str(a["generation"]) for a in json.load(sys.stdin)["apps"] if a["name"] == "echo"))'
}
[ "$(echo_generation)" = 1 ] || fail "the echo applies generation '$(echo_generation)', not 1"
ask() { # count of 5 UDP datagrams to port 7 answered
	"$src/tests/package/ask_echo.sh" "$C" "$LINK_SIP"
}
n=$(ask)
[ "$n" = 5 ] || fail "the echo answered $n of 5"
ok "fragnet-echo, kernel-enforced on $LINK_S, answers $C 5 of 5 (generation 1)"

# 5. A rule change, made effective by systemctl reload.
sed -i 's/udp dport 7 counter accept/udp dport 7 counter drop/' "$root/etc/fragnet/rules.d/echo.nft"
grep -q 'udp dport 7 counter drop' "$root/etc/fragnet/rules.d/echo.nft" || fail "no drop rule written"
inside systemctl reload fragnetd || fail "systemctl reload fragnetd failed"
for _ in $(seq 50); do [ "$(echo_generation)" = 2 ] && break; sleep 0.1; done
[ "$(echo_generation)" = 2 ] || fail "after reload the echo applies generation '$(echo_generation)', not 2"
[ "$(inside systemctl show -p MainPID --value fragnetd)" = "$pid" ] &&
	[ "$(inside systemctl is-active fragnetd)" = active ] ||
	fail "the reload restarted or stopped fragnetd"
n=$(ask)
[ "$n" = 0 ] || fail "port 7, dropped, was still answered $n times"
ctl list ruleset >"$work/ruleset.log" 2>&1 || fail "fragnetctl list ruleset failed"
grep -q 'udp dport 7 counter packets [1-9][0-9]* bytes [0-9]* drop' "$work/ruleset.log" ||
	fail "the drop rule counted nothing"
ok "systemctl reload: the same fragnetd serves generation 2, port 7 gets nothing, the drop rule counted it"
echo "$passed passed, 0 failed"
