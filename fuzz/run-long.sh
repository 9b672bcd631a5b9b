#!/usr/bin/env bash
# Long fuzzing: every libFuzzer target of the fuzz build for SECONDS each,
# with ASan and UBSan (UB stops the run like a crash), keeping what it finds
# in the tree.
#
#   fuzz/run-long.sh SECONDS [TARGET...]     e.g. fuzz/run-long.sh 3600 rx ctl
#   fuzz/run-long.sh --runs N SECONDS [TARGET...]
#       stop each target after N executions (SECONDS still caps the time):
#       the way to record "10M executions in one run" on a machine whose
#       speed varies several-fold with the other load on it.
#
# The fuzz build (./build-fuzz, or $FRAGNET_FUZZ_BUILD) is set up if missing:
#   CC=clang meson setup build-fuzz -Dfuzz=true -Db_lundef=false
# Targets are the fuzz_* binaries under build-fuzz/fuzz/; TARGET is the name
# without "fuzz_" (rx, ctl, config, screen, nft_image, nft_packet).
#
# Corpus: fuzz/corpus/TARGET/ is the kept corpus (committed). A run starts
# from it plus the target's seeds (the directory meson gives it, if any),
# fuzzes into a scratch directory, then merges into fuzz/corpus/TARGET/ only
# the inputs that add coverage (libFuzzer -merge=1). Crashes are written to
# fuzz/crash-TARGET-* and make the script exit 1 after the other targets ran.
# Prints executions and corpus size per target.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FRAGNET_FUZZ_BUILD:-$root/build-fuzz}

runs=()
if [ "${1:-}" = --runs ]; then
	if ! [[ ${2:-} =~ ^[0-9]+$ ]] || [ "$2" -lt 1 ]; then
		echo "run-long.sh: --runs needs a positive number of executions" >&2
		exit 2
	fi
	runs=(-runs="$2")
	shift 2
fi
if [ $# -lt 1 ] || ! [[ $1 =~ ^[0-9]+$ ]] || [ "$1" -lt 1 ]; then
	echo "usage: $0 [--runs N] SECONDS [TARGET...]" >&2
	exit 2
fi
seconds=$1
shift

if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" -Dfuzz=true -Db_lundef=false >/dev/null
fi
# Only the fuzz targets: the rest of the fuzz build (tests, tools) is not
# needed here, and takes long with ASan on a loaded machine.
mapfile -t targets < <(meson introspect --targets "$build" | python3 -c '
import json, os, sys
for t in json.load(sys.stdin):
    if t["type"] == "executable" and t["name"].startswith("fuzz_"):
        for f in t["filename"]:
            print(os.path.relpath(f, sys.argv[1]))' "$build")
nice ninja -C "$build" "${targets[@]}" >/dev/null

# The seed directories meson gives a target's short run: its directory
# arguments outside the build tree, but for the kept corpus (given anyway).
seeds_of() {
	meson introspect --tests "$build" | python3 -c '
import json, os, sys
name, build, kept = sys.argv[1], os.path.realpath(sys.argv[2]), os.path.realpath(sys.argv[3])
for t in json.load(sys.stdin):
    if os.path.basename(t["cmd"][0]) == "fuzz_" + name:
        for a in t["cmd"][1:]:
            p = os.path.realpath(a)
            if not a.startswith("-") and os.path.isdir(p) and p != kept \
                    and not p.startswith(build + os.sep):
                print(a)' "$1" "$build" "$root/fuzz/corpus/$1"
}

mapfile -t bins < <(find "$build/fuzz" -maxdepth 2 -type f -name 'fuzz_*' ! -name '*.*' -perm -u+x | sort)
if [ $# -gt 0 ]; then
	want=" $* "
	keep=()
	for b in "${bins[@]}"; do
		n=$(basename "$b")
		[[ $want == *" ${n#fuzz_} "* ]] && keep+=("$b")
	done
	bins=("${keep[@]}")
fi
if [ ${#bins[@]} -eq 0 ]; then
	echo "run-long.sh: no fuzz targets found in $build/fuzz" >&2
	exit 1
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
scratch=$(mktemp -d /tmp/fuzz-long.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

failed=0
report=()
for bin in "${bins[@]}"; do
	name=$(basename "$bin")
	name=${name#fuzz_}
	kept=$root/fuzz/corpus/$name
	mkdir -p "$kept" "$scratch/$name"
	mapfile -t seeds < <(seeds_of "$name")
	log=$scratch/$name.log
	echo "== $name: ${seconds}s from $(find "$kept" -type f | wc -l) kept inputs and ${#seeds[@]} seed dir(s)"
	rc=0
	start=$SECONDS
	"$bin" -max_total_time="$seconds" "${runs[@]}" -rss_limit_mb=4096 -print_final_stats=1 \
		-artifact_prefix="$root/fuzz/crash-$name-" \
		"$scratch/$name" "$kept" "${seeds[@]}" >"$log" 2>&1 || rc=$?
	execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -1)
	took=$((SECONDS - start))
	if [ $rc -ne 0 ]; then
		failed=1
		tail -40 "$log"
		report+=("$(printf '%-12s FAILED (exit %d) after %s executions' "$name" "$rc" "${execs:-?}")")
		continue
	fi
	"$bin" -merge=1 -rss_limit_mb=4096 "$kept" "$scratch/$name" >>"$log" 2>&1
	report+=("$(printf '%-12s %12s executions in %ss, corpus %d inputs' "$name" "${execs:-?}" \
		"$took" "$(find "$kept" -type f | wc -l)")")
done

echo "== executions per target"
printf '%s\n' "${report[@]}"
exit $failed
