#!/usr/bin/env bash
# Installs what the browser tests render Markdown with, as GitHub would: marked (GFM), GitHub's
# Markdown CSS (github-markdown-css) and Mermaid, pinned in internal/testing/browser/testdata/npm,
# into .tmp/npm-render. Idempotent: reinstalls only when the lock file changed (hash stamp).
#
# Usage: scripts/npm-render.sh        (from anywhere inside the repository)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/internal/testing/browser/testdata/npm"
dst="$root/.tmp/npm-render"
stamp="$dst/.installed-lock-sha256"

command -v npm >/dev/null || { echo "npm-render: npm not found (node >= 20 and npm are required)" >&2; exit 1; }

want="$(sha256sum "$src/package-lock.json" "$src/package.json" | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -d "$dst/node_modules/mermaid" ]]; then
	echo "npm-render: up to date in $dst"
	exit 0
fi
mkdir -p "$dst"
cp "$src/package.json" "$src/package-lock.json" "$dst/"
(cd "$dst" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
echo "$want" >"$stamp"
echo "npm-render: installed into $dst"
