#!/usr/bin/env bash
# Set up this machine (scripts/setup.sh) and run every test: the full build,
# the stripped UDP-only build (-Dicmp=false -Dip_frag=false -Darp=static
# -Dip_options=false -Dconntrack=false; release, LTO) on its own stack tests
# and the ABI checks, and a short libFuzzer run of every fuzz target (clang build with
# sanitizers), with the XDP code generator's tests under the same sanitizers.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || exit 1

udponly=(-Dicmp=false -Dip_frag=false -Darp=static -Dip_options=false -Dconntrack=false)
# Built as a distribution ships a library: optimized, with debug info (the
# ABI check reads its types) and link-time optimization, which Ubuntu's
# and Fedora's packaging flags turn on and which once broke the symbol
# versions (lib/runtime/export.h). Options set again on an existing tree.
udponly+=(-Dbuildtype=release -Ddebug=true -Db_lto=true)
if [ ! -f build-udponly/build.ninja ]; then
	meson setup build-udponly "${udponly[@]}" >/dev/null || exit 1
else
	meson configure build-udponly "${udponly[@]}" >/dev/null || exit 1
fi
ninja -C build-udponly >/dev/null || exit 1
# The fuzz targets under libFuzzer (clang, sanitizers), a short run each.
if [ ! -f build-fuzz/build.ninja ]; then
	CC=clang meson setup build-fuzz -Dfuzz=true -Db_lundef=false >/dev/null || exit 1
fi
ninja -C build-fuzz >/dev/null || exit 1

status=0
summary=()
run() {
	local name=$1; shift
	echo "=== $name: meson test $*"
	meson test --print-errorlogs "$@" | tee "/tmp/fragnet-test-$name.log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
	summary+=("$name: $(awk '/^Ok:/{ok=$2} /^Fail:/{f=$2} /^Timeout:/{t=$2} END{printf "%d passed, %d failed", ok, f+t}' "/tmp/fragnet-test-$name.log")")
}
run full -C build
# The public ABI must not depend on which protocols are built in.
run udp-only -C build-udponly --suite unit --suite integration --suite abi
run fuzz -C build-fuzz --suite fuzz --suite xdp

echo "=== summary"
printf '%s\n' "${summary[@]}"
exit $status
