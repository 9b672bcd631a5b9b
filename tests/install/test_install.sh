#!/usr/bin/env bash
# An outside program builds against the installed library with nothing but
# pkg-config: install into a scratch prefix, compile examples/echo.c there,
# and check it runs and exports only the public API.
set -euo pipefail
build=$1 src=$2
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT

meson install -C "$build" --destdir "$dest" --quiet >/dev/null
prefix=$(meson introspect "$build" --buildoptions |
	python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"))')
pcdir=$(dirname "$(find "$dest$prefix" -name libfragnet.pc | head -1)")
libdir=$(dirname "$(find "$dest$prefix" -name 'libfragnet.so' | head -1)")
[ -f "$dest$prefix/include/fragnet.h" ] || { echo "FAIL fragnet.h not installed"; exit 1; }

# pkg-config answers for the prefix it was configured with; point it at the copy.
flags=$(PKG_CONFIG_PATH=$pcdir pkg-config --define-variable=prefix="$dest$prefix" \
	--cflags --libs libfragnet)
cc -o "$dest/echo" "$src/examples/echo.c" $flags
LD_LIBRARY_PATH=$libdir "$dest/echo" --help | grep -q "usage: fragnet-echo"
echo "ok   outside program built with pkg-config and ran"

symbols=$(nm -D --defined-only "$libdir/libfragnet.so" | awk '$2 == "T" {print $3}')
exported=$(echo "$symbols" | sed 's/@.*//' | sort -u)
bad=$(echo "$exported" | grep -v '^fragnet_' || true)
unversioned=$(echo "$symbols" | grep -v '@@FRAGNET_' || true)
[ -z "$unversioned" ] || { echo "FAIL unversioned exports: $unversioned"; exit 1; }
[ -z "$bad" ] || { echo "FAIL exports beyond fragnet_*: $bad"; exit 1; }
echo "ok   $(echo "$exported" | wc -l) symbols exported, all fragnet_*, versioned"
echo "2 passed, 0 failed"
