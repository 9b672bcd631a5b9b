#!/usr/bin/env bash
# An outside program builds against the installed library with nothing but
# pkg-config: install into a scratch prefix, compile examples/echo.c there,
# and check it runs, that every version number agrees, and that the library
# exports only the public API; and one on the Redis fork's UDP client library.
set -euo pipefail
build=$1 src=$2
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT

meson install -C "$build" --destdir "$dest" --quiet >/dev/null
prefix=$(meson introspect "$build" --buildoptions |
	python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"))')
pcdir=$(dirname "$(find "$dest$prefix" -name libfragnet.pc | head -1)")
libdir=$(dirname "$(find "$dest$prefix" -name 'libfragnet.so' | head -1)")
for h in fragnet.h fragnet_version.h; do
	[ -f "$dest$prefix/include/$h" ] || { echo "FAIL $h not installed"; exit 1; }
done

# pkg-config answers for the prefix it was configured with; point it at the copy.
flags=$(PKG_CONFIG_PATH=$pcdir pkg-config --define-variable=prefix="$dest$prefix" \
	--cflags --libs libfragnet)
cc -o "$dest/echo" "$src/examples/echo.c" $flags
LD_LIBRARY_PATH=$libdir "$dest/echo" --help | grep -q "usage: fragnet-echo"
echo "ok   outside program built with pkg-config and ran"

# The header's version, the library's and the .pc's are meson's project version.
cat >"$dest/version.c" <<'EOF'
#include <stdio.h>
#include <fragnet.h>
int main(void)
{
	unsigned v = fragnet_version();

	printf("%d.%d.%d %u.%u.%u\n", FRAGNET_VERSION_MAJOR, FRAGNET_VERSION_MINOR,
	       FRAGNET_VERSION_PATCH, v >> 16, (v >> 8) & 0xff, v & 0xff);
	return 0;
}
EOF
cc -o "$dest/version" "$dest/version.c" $flags
want=$(PKG_CONFIG_PATH=$pcdir pkg-config --modversion libfragnet)
got=$(LD_LIBRARY_PATH=$libdir "$dest/version")
[ "$got" = "$want $want" ] ||
	{ echo "FAIL versions: header and library say $got, libfragnet.pc $want"; exit 1; }
echo "ok   header, library and libfragnet.pc all say version $want"

symbols=$(nm -D --defined-only "$libdir/libfragnet.so" | awk '$2 == "T" {print $3}')
exported=$(echo "$symbols" | sed 's/@.*//' | sort -u)
bad=$(echo "$exported" | grep -v '^fragnet_' || true)
unversioned=$(echo "$symbols" | grep -v '@@\?FRAGNET_' || true)
[ -z "$unversioned" ] || { echo "FAIL unversioned exports: $unversioned"; exit 1; }
[ -z "$bad" ] || { echo "FAIL exports beyond fragnet_*: $bad"; exit 1; }
# fragnet.map names each export: a function it forgets is not exported at all.
declared=$(grep -ohE '\<fragnet_[a-z0-9_]+\(' "$dest$prefix"/include/fragnet*.h | tr -d '(' | sort -u)
unexported=$(comm -23 <(echo "$declared") <(echo "$exported"))
[ -z "$unexported" ] || { echo "FAIL declared in fragnet.h, not exported: $unexported"; exit 1; }
echo "ok   $(echo "$exported" | wc -l) symbols exported, all fragnet_*, versioned, all declared ones"
# The Redis fork's UDP client library: header, static library and .pc.
cat >"$dest/redis_udp.c" <<'EOF'
#include <redis_udp.h>
int main(void)
{
	redisUdpContext *c = redisUdpConnect("127.0.0.1", 6379, NULL);
	int ok = c && !c->err;

	redisUdpFree(c);
	return !ok;
}
EOF
cc -o "$dest/redis_udp" "$dest/redis_udp.c" $(PKG_CONFIG_PATH=$pcdir pkg-config \
	--define-variable=prefix="$dest$prefix" --cflags --libs redis-udp)
"$dest/redis_udp" || { echo "FAIL a program on libredis-udp did not run"; exit 1; }
echo "ok   a program built against redis_udp.h and redis-udp.pc ran"
echo "4 passed, 0 failed"
