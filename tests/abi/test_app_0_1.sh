#!/usr/bin/env bash
# A program built and linked in 0.1 days runs on today's library.
#
# The program (app_0_1.c) is compiled against 0.1/fragnet.h, the 0.1 header.
# To link it as it was linked then, it is linked against a stand-in for
# libfragnet.so.0 0.1: empty functions under the 0.1 names (0.1/symbols) at
# node FRAGNET_0.1, so that the program asks for name@FRAGNET_0.1 exactly as
# one linked against the real 0.1 did. It then runs on today's
# libfragnet.so.0, which must still answer each of those at FRAGNET_0.1 with
# 0.1's behaviour.
set -euo pipefail
build=$1 src=$2
abi=$src/tests/abi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

syms=$(grep -v '^#' "$abi/0.1/symbols")

# Every 0.1 symbol still has a FRAGNET_0.1 version.
exported=$(nm -D --defined-only "$build/lib/libfragnet.so" | awk '{print $3}')
missing=0
for s in $syms; do
	if ! grep -qE "^$s@@?FRAGNET_0\.1\$" <<<"$exported"; then
		echo "FAIL $s@FRAGNET_0.1 is gone: programs linked against 0.1 cannot load"
		missing=$((missing + 1))
	fi
done
[ "$missing" = 0 ] && echo "ok   all $(wc -w <<<"$syms") symbols of 0.1 still at FRAGNET_0.1"

# The 0.1 library as a linker sees it.
mkdir "$tmp/lib-0.1"
for s in $syms; do echo "void $s(void); void $s(void) {}"; done >"$tmp/stub.c"
printf 'FRAGNET_0.1 {\n\tglobal:\n%s\tlocal: *;\n};\n' "$(printf '\t\t%s;\n' $syms)" >"$tmp/stub.map"
cc -shared -fPIC -o "$tmp/lib-0.1/libfragnet.so" "$tmp/stub.c" \
	-Wl,-soname,libfragnet.so.0 -Wl,--version-script="$tmp/stub.map"

cc -std=gnu11 -Wall -Wextra -Werror -I "$abi/0.1" -o "$tmp/app_0_1" "$abi/app_0_1.c" \
	-L "$tmp/lib-0.1" -lfragnet -pthread
# The proof that it was linked as in 0.1 days: it needs FRAGNET_0.1, nothing newer.
needs=$(readelf -V "$tmp/app_0_1" | grep -oE 'Name: FRAGNET_[0-9.]+' | sort -u | tr '\n' ' ')
[ "$needs" = "Name: FRAGNET_0.1 " ] || { echo "FAIL app_0_1 needs: $needs"; exit 1; }
echo "ok   app_0_1 built against the 0.1 header, needs FRAGNET_0.1 only"

# Today's library, under the soname the program asks for.
LD_LIBRARY_PATH=$build/lib "$tmp/app_0_1" "$tmp/no-fragnetd.sock"
[ "$missing" = 0 ]
