#!/usr/bin/env bash
# Build the Redis fork: Debian's redis source package + redis/patches/*.patch
# + redis/src/* (the UDP transport, redis-cli --udp), linked with libfragnet
# through pkg-config.
#
#   redis/build.sh            build (incremental) -> redis/work/bin/redis-server
#   redis/build.sh --clean    forget the patched tree and start again
#
# Layout under redis/work/ (git-ignored):
#   pkg/     apt-get source output (kept, so later builds need no network)
#   tree/    a copy of the Debian tree with our patches applied; rebuilt only
#            when the package version or the patch series changes
#   bin/     redis-server (the fork); tests/ and runtest stay in tree/
#
# Environment: FRAGNET_BUILD (meson build dir, default ./build), REDIS_WORK
#              (instead of redis/work; debian/rules uses its own),
#              REDIS_MAKE_JOBS (default 2).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
work=${REDIS_WORK:-$here/work}
say() { printf 'redis/build.sh: %s\n' "$*"; }
die() { printf 'redis/build.sh: %s\n' "$*" >&2; exit 1; }

if [ "${1:-}" = --clean ]; then
	rm -rf "$work/tree" "$work/bin"
	shift
fi

fbuild=${FRAGNET_BUILD:-$root/build}
jobs=${REDIS_MAKE_JOBS:-2}

# 1. Debian's source package, fetched once.
fetch_source() {
	mkdir -p "$work/pkg"
	if ls "$work"/pkg/redis_*.dsc >/dev/null 2>&1 && [ -d "$(src_dir)" ]; then
		return
	fi
	command -v dpkg-source >/dev/null || die "dpkg-dev is missing (apt-get install dpkg-dev)"
	if ! grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		[ "$(id -u)" = 0 ] || die "no deb-src entry in /etc/apt; run as root once to add it"
		local f=/etc/apt/sources.list.d/fragnet-deb-src.sources
		if [ -f /etc/apt/sources.list.d/debian.sources ]; then
			say "adding deb-src entries ($f)"
			sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources >"$f"
		elif [ -f /etc/apt/sources.list ]; then
			say "adding deb-src entries (/etc/apt/sources.list.d/fragnet-deb-src.list)"
			sed -n 's/^deb /deb-src /p' /etc/apt/sources.list \
				>/etc/apt/sources.list.d/fragnet-deb-src.list
		else
			die "cannot find the apt sources to derive a deb-src entry from"
		fi
		apt-get update -qq
	fi
	say "apt-get source redis"
	(cd "$work/pkg" && apt-get source -qq redis >/dev/null 2>"$work/pkg/apt-source.log") ||
		{ cat "$work/pkg/apt-source.log" >&2; die "apt-get source redis failed"; }
	[ -d "$(src_dir)" ] || die "no redis-7.0.* tree after apt-get source"
}
src_dir() { ls -d "$work"/pkg/redis-7.0.*/ 2>/dev/null | head -1 | sed 's:/$::'; }

fetch_source
src=$(src_dir)
version=$(sed -n 's/^Version: //p' "$work"/pkg/redis_*.dsc | head -1)
case "$version" in 5:7.0.*|7.0.*) ;; *) die "expected redis 7.0.x, got $version" ;; esac

# 2. The patched tree. Its stamp names the package version and the patches'
#    hash: when either changes the tree is made again from the pristine copy.
stamp="$version $(cat "$here"/patches/*.patch | sha256sum | cut -c1-16)"
tree=$work/tree
if [ ! -f "$tree/.fragnet-stamp" ] || [ "$(cat "$tree/.fragnet-stamp")" != "$stamp" ]; then
	say "preparing tree from redis $version"
	rm -rf "$tree" "$tree.tmp"
	cp -a "$src" "$tree.tmp"
	for p in "$here"/patches/*.patch; do
		patch -d "$tree.tmp" -p1 --quiet --no-backup-if-mismatch <"$p" ||
			die "patch $(basename "$p") does not apply to redis $version"
	done
	echo "$stamp" >"$tree.tmp/.fragnet-stamp"
	mv "$tree.tmp" "$tree"
fi

# 3. Our new source files: copied only when they differ, so make rebuilds
#    just what changed. redis-cli --udp also takes the client library's flow
#    and RESP scanner from redis/client/.
for f in "$here"/src/*.[ch] "$here"/client/udp_flow.[ch] "$here"/client/resp_scan.[ch]; do
	cmp -s "$f" "$tree/src/$(basename "$f")" || cp "$f" "$tree/src/"
done

# 4. libfragnet through pkg-config (the meson build's uninstalled .pc file).
#    FRAGNET_CFLAGS/FRAGNET_LIBS in the environment override it.
if [ -z "${FRAGNET_LIBS:-}" ]; then
	export PKG_CONFIG_PATH=$fbuild/meson-uninstalled${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
	pkg-config --exists libfragnet ||
		die "libfragnet not found by pkg-config (build it first: meson setup build && ninja -C build)"
	FRAGNET_CFLAGS="$(pkg-config --cflags libfragnet)"
	FRAGNET_LIBS="$(pkg-config --libs libfragnet)"
	libdir=$(printf '%s\n' $FRAGNET_LIBS | sed -n 's/^-L//p' | head -1)
	[ -n "$libdir" ] && FRAGNET_LIBS="$FRAGNET_LIBS -Wl,-rpath,$libdir"
fi
# A different library means a relink, not a rebuild.
if [ "$(cat "$tree/.fragnet-libs" 2>/dev/null)" != "$FRAGNET_LIBS" ]; then
	rm -f "$tree/src/redis-server"
	echo "$FRAGNET_LIBS" >"$tree/.fragnet-libs"
fi

say "make -j$jobs"
log=$work/make.log
if ! make -C "$tree" -j"$jobs" USE_SYSTEM_JEMALLOC=yes USE_JEMALLOC=yes BUILD_TLS=no USE_SYSTEMD=no \
	FRAGNET_CFLAGS="$FRAGNET_CFLAGS" FRAGNET_LIBS="$FRAGNET_LIBS" >"$log" 2>&1; then
	grep -E 'error|Error|undefined' "$log" | head -30 >&2
	die "make failed (full log: $log)"
fi
mkdir -p "$work/bin"
for b in redis-server redis-cli redis-benchmark; do
	# Replace, not overwrite: a running server keeps its old inode.
	cmp -s "$tree/src/$b" "$work/bin/$b" 2>/dev/null ||
		{ cp "$tree/src/$b" "$work/bin/$b.tmp" && mv -f "$work/bin/$b.tmp" "$work/bin/$b"; }
done
say "built $work/bin/redis-server (redis $version + fragnet UDP transport)"
