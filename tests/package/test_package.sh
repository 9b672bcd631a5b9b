#!/usr/bin/env bash
# The Debian packages, built, checked and used (suite `package`, root):
#  1. dpkg-buildpackage -b -us -uc in a copy of the tree builds libfragnet0,
#     libfragnet-dev, libredis-udp-dev, fragnetd and redis-fragnet;
#  2. lintian finds no error in them (its warnings are printed);
#  3. they install with apt into a clean Debian 12 root (mmdebstrap from
#     Debian's mirror);
#  4. there, fragnetd.service's own commands run the way systemd runs them:
#     its ExecStartPre as root, its ExecStart as the user fragnetd with
#     exactly its AmbientCapabilities and NoNewPrivileges (setpriv: PID 1 on
#     the CI machine is not systemd, so the unit's sandboxing options are not
#     exercised here), in a server namespace, enforcing in XDP on a veth;
#  5. the demo against the installed files: fragnetctl checks and loads
#     rules, the installed fragnet-echo registers on an xsk port and answers
#     a client in a peer namespace, then a loaded rule drops that client.
#
#   tests/package/test_package.sh SRCDIR DEBDIR
#
# Step 1 is build_debs.sh: the .debs, .changes and .buildinfo of SRCDIR in
# DEBDIR, built only when DEBDIR does not hold this tree's already (the
# meson test passes build/tests/package/debs, shared with boot_unit.sh).
#
# Everything runs in a private mount namespace (the root's mounts vanish
# with it); namespaces are fnpkg<pid>*, removed by name; /tmp/fnpkg.* too.
set -euo pipefail
src=$(cd "$1" && pwd)
[ $# = 2 ] || { echo "usage: test_package.sh SRCDIR DEBDIR"; exit 2; }
[ "$(id -u)" = 0 ] || { echo "FAIL needs root"; exit 1; }
if [ -z "${FNPKG_UNSHARED:-}" ]; then
	FNPKG_UNSHARED=1 exec unshare --mount --propagation private "$0" "$@"
fi
. "$src/scripts/lib/topology.sh"
topo_init fnpkg
work=$(mktemp -d /tmp/fnpkg.XXXXXX)
root=$work/root
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	# the mounts go with this mount namespace; rm must not cross them
	for m in run sys dev proc; do umount -lR "$root/$m" 2>/dev/null || true; done
	rm -rf --one-file-system "$work" || echo "test_package: could not remove $work"
}
topo_on_exit cleanup
passed=0
ok() { echo "ok   $*"; passed=$((passed + 1)); }
fail() {
	echo "FAIL $*"
	for f in "$work"/*.log; do [ -s "$f" ] && { echo "--- $f"; tail -25 "$f"; }; done
	exit 1
}

# 1. Build (or find this tree's build in DEBDIR).
"$src/tests/package/build_debs.sh" "$src" "$2" || fail "the packages did not build"
cp "$2"/*.deb "$2"/*.changes "$2"/*.buildinfo "$work/"
shopt -s extglob
debs=("$work"/!(*-dbgsym_*).deb)
names=$(for d in "${debs[@]}"; do dpkg-deb -f "$d" Package; done | sort | tr '\n' ' ')
[ "$names" = "fragnetd libfragnet-dev libfragnet0 libredis-udp-dev redis-fragnet " ] ||
	fail "built: $names"
ok "dpkg-buildpackage built $names"

# 2. lintian: no errors.
lintian --fail-on error "$work"/*.changes \
	>"$work/lintian.log" 2>&1 || fail "lintian reports errors"
sed 's/^/     /' "$work/lintian.log"
ok "lintian: no errors ($(grep -c '^W:' "$work/lintian.log" || true) warnings)"

# 3. A clean Debian 12 with the packages installed by apt.
mkdir -p "$work/debs" && cp "${debs[@]}" "$work/debs/"
mmdebstrap --quiet --variant=apt --include=ca-certificates \
	--customize-hook="copy-in $work/debs /tmp" \
	--customize-hook='chroot "$1" sh -c "DEBIAN_FRONTEND=noninteractive apt-get install -y -q /tmp/debs/*.deb"' \
	bookworm "$root" http://deb.debian.org/debian >"$work/mmdebstrap.log" 2>&1 ||
	fail "mmdebstrap or apt-get install failed"
for p in libfragnet0 libfragnet-dev libredis-udp-dev fragnetd redis-fragnet; do
	chroot "$root" dpkg-query -W -f='${Status}\n' "$p" | grep -q 'install ok installed' ||
		fail "$p is not installed"
done
chroot "$root" getent passwd fragnetd | grep -q ':/nonexistent:' ||
	fail "postinst made no system user fragnetd"
ok "apt installed the five packages into a clean bookworm root; postinst made the user fragnetd"

# The root's kernel file systems; a bpffs of its own at /sys/fs/bpf, mode
# 0700 as systemd mounts it on Debian (root's alone).
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"   # with /dev/hugepages and /dev/shm, for DPDK
mount --bind /sys "$root/sys"
mount -t bpf -o mode=0700 bpf "$root/sys/fs/bpf"
mount -t tmpfs tmpfs "$root/run"

# 4. The unit, as systemd would run it.
unit=$root/lib/systemd/system/fragnetd.service
[ -f "$unit" ] || fail "no fragnetd.service in the package"
key() { sed -n "s/^$1=//p" "$unit"; }
[ "$(key User)" = fragnetd ] && [ "$(key NoNewPrivileges)" = yes ] ||
	fail "the unit does not run as fragnetd with NoNewPrivileges"
caps=$(key AmbientCapabilities)
[ "$caps" = "$(key CapabilityBoundingSet)" ] || fail "ambient and bounding sets differ"
setcaps=$(echo "$caps" | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
topo_pair
topo_link 10.96.0
S=$TOPO_S C=$TOPO_C
NS=${TOPO_TAG}d
# the packaged configuration, with this run's namespace and the veth
conf=$root/etc/fragnet/fragnetd.conf
sed -i "s/^netns = .*/netns = $NS/" "$conf"
printf 'app.echo.interface = %s\napp.echo.address = %s\n' \
	"$LINK_S" "$LINK_SIP" >>"$conf"
chroot "$root" install -d -o fragnetd -g fragnetd -m 0755 /run/fragnet   # RuntimeDirectory
pre=$(key ExecStartPre | sed 's/^+//')
set -- $pre
[ "$#" = 4 ] || fail "unexpected ExecStartPre: $pre"
chroot "$root" "$1" "$NS" "$3" "$4" >"$work/prepare.log" 2>&1 ||
	fail "ExecStartPre ($pre) failed"
env=$(key Environment)
# shellcheck disable=SC2046  # ExecStart's words
nsenter --net="/run/netns/$S" chroot "$root" env $env setpriv --reuid=fragnetd \
	--regid=fragnetd --init-groups --no-new-privs --inh-caps=-all,$setcaps \
	--ambient-caps=-all,$setcaps --bounding-set=-all,$setcaps \
	$(key ExecStart) >"$work/fragnetd.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do grep -q "ready on" "$work/fragnetd.log" && break; sleep 0.1; done
grep -q "ready on" "$work/fragnetd.log" || fail "fragnetd did not start as the unit runs it"
# nsenter, chroot, env and setpriv exec: the pid is fragnetd's
uid=$(chroot "$root" id -u fragnetd)
st=$(grep -E '^(Uid|CapEff|CapBnd|NoNewPrivs):' "/proc/${pids[0]}/status" | tr -s '\t' ' ')
want=$(printf '%016x' $(((1 << 12) | (1 << 21) | (1 << 39))))   # NET_ADMIN SYS_ADMIN BPF
echo "$st" | grep -q "^Uid: $uid $uid " && echo "$st" | grep -q "^CapEff: $want" &&
	echo "$st" | grep -q "^CapBnd: $want" && echo "$st" | grep -q "^NoNewPrivs: 1" ||
	fail "fragnetd's credentials: $st"
grep -q "XDP on $LINK_S: program [1-9]" "$work/fragnetd.log" || fail "no XDP program on $LINK_S"
ok "fragnetd ready as the unit runs it: user fragnetd, $caps, no new privileges, XDP on $LINK_S"

# 5. The demo, with the installed programs.
ctl() { chroot "$root" fragnetctl "$@"; }
examples=$root/usr/share/doc/fragnetd/examples
[ -f "$examples/echo.nft" ] || gunzip -k "$examples/echo.nft.gz"
ctl check /usr/share/doc/fragnetd/examples/echo.nft >"$work/ctl.log" 2>&1 ||
	fail "fragnetctl check (a scratch namespace made by the non-root daemon) failed"
ctl load /usr/share/doc/fragnetd/examples/echo.nft >>"$work/ctl.log" 2>&1 ||
	fail "fragnetctl load failed"
ok "fragnetctl check and load rules/echo.nft"
nsenter --net="/run/netns/$S" chroot "$root" fragnet-echo --port "xsk:$LINK_S:0" \
	--addr "$LINK_SIP/24" --udp-port 7 >"$work/echo.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do grep -q "echoing on" "$work/echo.log" && break; sleep 0.1; done
grep -q "echoing on" "$work/echo.log" || fail "fragnet-echo did not start"
ctl apps >"$work/apps.log" 2>&1 || fail "fragnetctl apps failed"
grep -q "echo" "$work/apps.log" || fail "fragnet-echo is not registered"
ok "the installed fragnet-echo registered with the installed fragnetd"

ask() { # count of 5 UDP datagrams to port 7 answered
	"$src/tests/package/ask_echo.sh" "$C" "$LINK_SIP"
}
n=$(ask)
[ "$n" -ge 3 ] || fail "the echo answered $n of 5"   # the first may wait for ARP
ok "a client in $C is answered ($n of 5)"
sed 's/^\(\s*\)udp dport 7 counter accept/\1ip saddr '"$LINK_CIP"' counter drop\n&/' \
	"$examples/echo.nft" >"$root/tmp/deny.nft"
ctl load /tmp/deny.nft >>"$work/ctl.log" 2>&1 || fail "fragnetctl load of the deny rule failed"
n=$(ask)
[ "$n" = 0 ] || fail "a dropped client was still answered $n times"
ctl list ruleset >"$work/ruleset.log" 2>&1 || fail "fragnetctl list ruleset failed"
grep -q "ip saddr $LINK_CIP counter packets [1-9]" "$work/ruleset.log" ||
	fail "the drop rule counted nothing"
ok "after fragnetctl load of a rule dropping it, the client gets nothing; the rule counted it"
echo "$passed passed, 0 failed"
