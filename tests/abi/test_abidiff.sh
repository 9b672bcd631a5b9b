#!/usr/bin/env bash
# The ABI of the built libfragnet.so against the checked-in baseline
# (libfragnet.abi), with libabigail: abidw describes the library's exported
# functions and the types they reach, abidiff compares the two descriptions.
#
#   test_abidiff.sh BUILD SRC            compare; fails on any ABI change
#   test_abidiff.sh BUILD SRC --update   rewrite the baseline (see README.md)
#
# Only types defined in the public headers count (--hd, --drop-private-types):
# struct fragnet is opaque to programs, so what the library keeps in it is no
# business of the ABI. Everything else abidiff reports fails the test,
# additions too, so that the baseline always describes what is exported.
set -euo pipefail
build=$1 src=$2 mode=${3:-}
so=$build/lib/libfragnet.so
baseline=$src/tests/abi/libfragnet.abi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Without DWARF, abidw sees symbols but no types: no layout would be checked.
sections=$(readelf -S "$so")
grep -q '\.debug_info' <<<"$sections" ||
	{ echo "FAIL $so has no debug info (build with -Ddebug=true)"; exit 1; }

# The same options make the baseline and today's description.
abidw --headers-dir "$src/include" --headers-dir "$build/include" \
	--drop-private-types --exported-interfaces-only \
	--no-corpus-path --no-comp-dir-path --short-locs --no-elf-needed \
	--type-id-style hash --out-file "$tmp/current.abi" "$so"

if [ "$mode" = --update ]; then
	cp "$tmp/current.abi" "$baseline"
	echo "baseline written: $baseline"
	exit 0
fi

# abidiff's status is a bit set: 1 error, 2 usage, 4 ABI change, 8 incompatible.
set +e
abidiff --no-show-locs "$baseline" "$tmp/current.abi" >"$tmp/report"
status=$?
set -e
cat "$tmp/report"
if [ $status = 0 ]; then
	echo "ok   libfragnet.so matches tests/abi/libfragnet.abi"
	echo "1 passed, 0 failed"
	exit 0
fi
if [ $((status & 3)) != 0 ]; then
	echo "FAIL abidiff could not compare (status $status)"
elif [ $((status & 8)) != 0 ]; then
	echo "FAIL incompatible ABI change: something programs link against is gone."
	echo "     Keep the old implementation under its old node (lib/fragnet.map)."
else
	# abidiff flags a moved struct field as it flags an added function.
	echo "FAIL the ABI changed (report above). A change that only adds (a function"
	echo "     at a new node, a field at the end of a struct with sz) is meant to be"
	echo "     recorded: update the baseline (tests/abi/README.md). Anything else"
	echo "     breaks programs built against the baseline."
fi
echo "0 passed, 1 failed"
exit 1
