#!/usr/bin/env bash
# Installs GitHub's own npm clients that stageline's tests check against (@actions/artifact,
# @actions/workflow-parser) into .tmp/npm-artifact, at the versions pinned by
# scripts/npm-artifact/package.json and package-lock.json.
#
# Idempotent: a stamp holding the lock file's hash makes a second run a no-op; a changed lock
# file reinstalls from scratch with `npm ci`, so what runs is exactly what the lock says.
#
# Tests find the packages through STAGELINE_NPM_ARTIFACT_DIR (default: .tmp/npm-artifact).

set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src=$root/scripts/npm-artifact
dest=${STAGELINE_NPM_ARTIFACT_DIR:-$root/.tmp/npm-artifact}
stamp=$dest/.installed

command -v npm >/dev/null 2>&1 || { echo "npm-artifact.sh: npm not found; install Node.js 20+ and npm" >&2; exit 1; }

want=$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -d "$dest/node_modules/@actions/artifact" ]; then
	echo "npm-artifact.sh: $dest is up to date" >&2
	exit 0
fi

mkdir -p "$dest"
cp "$src/package.json" "$src/package-lock.json" "$dest/"
# --ignore-scripts: nothing we test needs install scripts, and none should run on CI machines.
# The engine warning for content-type (>=22) is harmless on Node 20: it is not on any path we use.
(cd "$dest" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
echo "$want" >"$stamp"
echo "npm-artifact.sh: installed into $dest" >&2
