#!/usr/bin/env bash
# Prepare this machine for libfragnet and build it: Debian packages (only the
# missing ones), hugepages and bpffs (when the kernel lets us), then the build
# in ./build. Idempotent: a second run only rebuilds what changed.
# Used by the README's two commands and by CI. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
	echo "setup: run as root (DPDK, hugepages and network namespaces need it)" >&2
	exit 1
fi

packages=(
	build-essential pkg-config meson ninja-build clang llvm libclang-rt-14-dev
	dpdk dpdk-dev libdpdk-dev libbpf-dev libxdp-dev
	libnftnl-dev libmnl-dev libnftables-dev nftables
	libcmocka-dev iproute2 iputils-ping ethtool procps kmod python3
	valgrind tcpdump tshark libpcap-dev gnuplot-nox
	redis-server redis-tools memcached tcl dpkg-dev libjemalloc-dev strace libhiredis-dev
	abigail-tools python3-prometheus-client man-db groff-base
	debhelper lintian mmdebstrap systemd-container
)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian starts these on install; the benchmarks start their own instances.
for svc in redis-server memcached; do
	systemctl is-active -q "$svc" 2>/dev/null && systemctl stop "$svc" 2>/dev/null || true
done

# Hugepages make DPDK several times faster; without them the library falls back
# to --no-huge by itself and says so.
want=256
have=$(cat /proc/sys/vm/nr_hugepages 2>/dev/null || echo 0)
if [ "$have" -lt "$want" ]; then
	echo "$want" >/proc/sys/vm/nr_hugepages 2>/dev/null || true
fi
mountpoint -q /dev/hugepages 2>/dev/null || {
	mkdir -p /dev/hugepages
	mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null || true
}
free_pages=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
if [ "${free_pages:-0}" -ge 64 ] && mountpoint -q /dev/hugepages; then
	say "hugepages: ${free_pages} free 2 MB pages"
else
	say "hugepages unavailable: DPDK will run with --no-huge (slower, still correct)"
fi
# libxdp keeps the af_xdp program in bpffs; without it, it warns and falls back.
mountpoint -q /sys/fs/bpf 2>/dev/null || mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true

buildtype=${FRAGNET_BUILDTYPE:-debugoptimized}
if [ ! -f build/build.ninja ]; then
	meson setup build --buildtype="$buildtype" >/dev/null
fi
say "building"
ninja -C build >/dev/null
if [ -x redis/build.sh ]; then
	redis/build.sh
fi
say "ready"
