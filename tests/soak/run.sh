#!/usr/bin/env bash
# The soak and fault suite (tests/soak/soak.py says what it does and checks).
#
#   tests/soak/run.sh [--minutes N]     default 30 minutes, 2 when $CI is set
#
# Uses the build in ./build (or $FRAGNET_BUILD) and the Redis fork built by
# redis/build.sh. Needs root. `meson test -C build --suite soak` runs the
# 2-minute form.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${FRAGNET_BUILD:-$root/build}
minutes=30
[ -n "${CI:-}" ] && minutes=2
exec python3 "$root/tests/soak/soak.py" --minutes "$minutes" \
	--fragnetd "$build/daemon/fragnetd" --fragnetctl "$build/tools/fragnetctl/fragnetctl" "$@"
