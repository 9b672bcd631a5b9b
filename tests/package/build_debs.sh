#!/usr/bin/env bash
# The Debian packages of a source tree, built once and shared by the tests of
# suite `package` (test_package.sh, boot_unit.sh):
#
#   tests/package/build_debs.sh SRCDIR DEBDIR
#
# leaves in DEBDIR the .debs, .changes and .buildinfo of
# `dpkg-buildpackage -b -us -uc` run in a copy of SRCDIR's files (git's
# tracked and untracked ones, not the ignored build directories). DEBDIR
# also holds the SHA-256 of those files, names and contents: when it equals
# the tree's, the .debs there are the tree's and nothing is built (a full
# build takes about half an hour on the 2-core CI machine). Any change,
# addition or removal of a file builds again, except of this suite's own
# scripts (tests/package/*.sh), which the package build never reads; a
# failed build leaves DEBDIR empty, with the log in DEBDIR/build.log.
set -euo pipefail
src=$(cd "$1" && pwd)
mkdir -p "$2"
debdir=$(cd "$2" && pwd)

files() { # the tree's files, NUL-separated, in a fixed order
	git -C "$src" ls-files -co --exclude-standard -z | sort -z |
		while IFS= read -r -d '' f; do [ -f "$src/$f" ] && printf '%s\0' "$f"; done
}
tree_hash=$(cd "$src" && files | grep -zv '^tests/package/[^/]*\.sh$' | xargs -0 sha256sum |
	sha256sum | cut -d' ' -f1)
if [ "$(cat "$debdir/tree.sha256" 2>/dev/null)" = "$tree_hash" ]; then
	echo "build_debs: the .debs in $debdir are this tree's (sha256 $tree_hash)"
	exit 0
fi

rm -rf "${debdir:?}"/*
work=$(mktemp -d /tmp/fndebs.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/src"
files | tar -C "$src" --null -T - -cf - | tar -C "$work/src" -xf -
echo "build_debs: building the packages (log: $debdir/build.log)"
if ! (cd "$work/src" && DEB_BUILD_OPTIONS="parallel=$(nproc)" dpkg-buildpackage -b -us -uc) \
	>"$debdir/build.log" 2>&1; then
	echo "build_debs: dpkg-buildpackage failed; the end of $debdir/build.log:"
	tail -25 "$debdir/build.log"
	exit 1
fi
cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$debdir/"
echo "$tree_hash" >"$debdir/tree.sha256"
debs=("$debdir"/*.deb)
echo "build_debs: built ${#debs[@]} .debs into $debdir"
