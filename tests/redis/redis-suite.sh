#!/usr/bin/env bash
# Redis's own test suite (from Debian's source package) against the fork,
# over kernel TCP. The UDP transport stays off here: the harness starts
# nested servers, which would all want the same queue; UDP is covered by
# tests/redis/test_udp.py against a server in a network namespace.
#   tests/redis/redis-suite.sh [TREE]    (TREE: redis/work/tree)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tree=${1:-$here/../../redis/work/tree}
[ -x "$tree/src/redis-server" ] || { echo "redis-suite: no fork at $tree (run redis/build.sh)" >&2; exit 1; }
units=(
	type/hash type/incr type/list type/list-2 type/list-3 type/set
	type/stream type/stream-cgroups type/string type/zset
	protocol networking introspection introspection-2 info info-command
	multi pubsub pubsubshard expire auth quit keyspace
)
args=()
for u in "${units[@]}"; do args+=(--single "unit/$u"); done
cd "$tree"
# The fork's binary must be the one under test, not a stock one on PATH.
./src/redis-server --version | grep -q 'v=7.0' || { echo "redis-suite: unexpected binary" >&2; exit 1; }
# Ports of our own: runs of the suite side by side (two builds, two trees)
# would otherwise meet on the harness's fixed 21079-21111 range.
base=$((22000 + ($$ % 30) * 1000))   # +10000 (cluster bus) stays below 65536
exec ./runtest --clients "${REDIS_SUITE_CLIENTS:-3}" --timeout 1200 --baseport $base \
	--portcount 900 "${args[@]}" "$@"
