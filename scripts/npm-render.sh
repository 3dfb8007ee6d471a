#!/usr/bin/env bash
# Installs what the browser tests render Markdown with, as GitHub would: marked (GFM), GitHub's
# Markdown CSS (github-markdown-css) and Mermaid, pinned in internal/testing/browser/testdata/npm,
# into .tmp/npm-render (internal/testing/browser). Idempotent, like scripts/npm-fixtures.sh.
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/npm-fixtures.sh" internal/testing/browser/testdata/npm npm-render mermaid
