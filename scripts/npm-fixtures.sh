#!/usr/bin/env bash
# Installs the pinned npm packages that protocol tests drive (today: @actions/cache,
# GitHub's own cache client, used by internal/testing/cacheserver's tests) into .tmp/npm.
#
# The manifest and lock file live in internal/testing/cacheserver/testdata/npm/ and are committed;
# node_modules never is. The script is idempotent: it reinstalls only when the lock file
# changed since the last successful install (a hash stamp sits next to node_modules).
#
# Usage: scripts/npm-fixtures.sh        (from anywhere inside the repository)
#        scripts/npm-fixtures.sh SRC DST PACKAGE   installs another pinned set (scripts/npm-render.sh):
#        SRC holds package.json and package-lock.json (relative to the repository), DST is under
#        .tmp, PACKAGE is one of its packages, whose presence marks a finished install.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/${1:-internal/testing/cacheserver/testdata/npm}"
dst="$root/.tmp/${2:-npm}"
probe="${3:-@actions/cache}"
stamp="$dst/.installed-lock-sha256"
me="npm-fixtures"
[[ $# -gt 0 ]] && me="npm-fixtures ($probe)"

command -v npm >/dev/null || { echo "$me: npm not found (node >= 20 and npm are required)" >&2; exit 1; }

want="$(sha256sum "$src/package-lock.json" "$src/package.json" | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -d "$dst/node_modules/$probe" ]]; then
	echo "$me: up to date in $dst"
	exit 0
fi

mkdir -p "$dst"
cp "$src/package.json" "$src/package-lock.json" "$dst/"
# npm ci installs exactly what the lock file pins; --ignore-scripts because the tests need no
# install hooks.
(cd "$dst" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
echo "$want" >"$stamp"
echo "$me: installed into $dst"
