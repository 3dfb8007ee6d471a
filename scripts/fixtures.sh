#!/usr/bin/env bash
# Fetches the App's test fixtures from the npm registry, pinned by version
# and sha256, into .tmp/fixtures (gitignored): GitHub's OpenAPI description
# and GitHub's webhook examples. Idempotent: files already in place with the
# right pin are kept. Tests that need them fail, not skip, without them.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dir=${STAGELINE_FIXTURES_DIR:-$root/.tmp/fixtures}

# package  version  sha256-of-tarball  file-inside-package
pins=(
	"@octokit/openapi 23.0.2 71a18407dd5e8464f4e0525daf03deabbe65abd9287d6adc7b5d98f516cd0d0c generated/api.github.com.json"
	"@octokit/webhooks-examples 7.6.1 89e6cb1c6345d32e3dd775617fa54effbdc26c859e514898d7728e95e9738280 api.github.com/index.json"
)

mkdir -p "$dir"
for pin in "${pins[@]}"; do
	read -r pkg version sum file <<<"$pin"
	name=${pkg#@octokit/}
	dest="$dir/$name/$file"
	stamp="$dir/$name/.pin"
	if [ -f "$dest" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version $sum" ]; then
		continue
	fi
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	(cd "$work" && npm pack --silent "$pkg@$version" >/dev/null)
	tgz=$(ls "$work"/*.tgz)
	got=$(sha256sum "$tgz" | cut -d' ' -f1)
	if [ "$got" != "$sum" ]; then
		echo "fixtures: $pkg@$version sha256 $got, want $sum" >&2
		exit 1
	fi
	rm -rf "$dir/$name"
	mkdir -p "$dir/$name"
	tar -xzf "$tgz" -C "$work" "package/$file"
	mkdir -p "$(dirname "$dest")"
	mv "$work/package/$file" "$dest"
	echo "$version $sum" >"$stamp"
	rm -rf "$work"
	trap - EXIT
	echo "fixtures: $pkg@$version -> $dest" >&2
done
