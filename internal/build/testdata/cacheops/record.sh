#!/usr/bin/env bash
# Re-records the cache-op fixtures: buildctl --progress=rawjson streams of the Dockerfile
# next to this script, built with cache imports and exports of each type, against the
# in-repo Actions cache server (internal/testing/cacheserver/cmd/cacheserver), with and without
# faults and ignore-error. Needs BUILDKIT_HOST (source scripts/buildkit-env.sh; setup_buildkit).
# Each stream is one client.SolveStatus a line (buildctl's stderr, JSON lines only).
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../../../.. && pwd)
buildctl=${BUILDCTL:-$root/.bin/buildctl}
base=${STAGELINE_BASE_IMAGE#oci-layout://}
work=$(mktemp -d)
srv_pid=
cleanup() {
	[ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
(cd "$root" && go build -o "$work/cacheserver" ./internal/testing/cacheserver/cmd/cacheserver)

# server [cacheserver flags...] restarts the cache server and loads its env.
server() {
	if [ -n "$srv_pid" ]; then kill "$srv_pid"; wait "$srv_pid" 2>/dev/null || true; fi
	rm -f "$work/env"
	"$work/cacheserver" -env-file "$work/env" "$@" >/dev/null 2>&1 &
	srv_pid=$!
	for _ in $(seq 50); do [ -s "$work/env" ] && break; sleep 0.1; done
	set -a; . "$work/env"; set +a
}

# build OUT [buildctl args...] records one build; a failing build is recorded too.
build() {
	local out=$1
	shift
	echo "$RANDOM $out" >"$work/ctx-stamp" # a fresh RUN input per recording: nothing comes from the local cache
	"$buildctl" --addr "$BUILDKIT_HOST" build --frontend dockerfile.v0 \
		--local context=. --local dockerfile=. \
		--oci-layout base="${base%@*}" --opt "context:diamol/base=oci-layout://base@${base#*@}" --opt build-arg:STAMP="$(cat "$work/ctx-stamp")" \
		--progress=rawjson --output type=oci,dest=/dev/null "$@" 2>"$work/log" || true
	grep '^{' "$work/log" >"$out"
}

gha() { # gha attrs for the current server
	echo "type=gha,scope=fixture,version=2,url_v2=$ACTIONS_RESULTS_URL,url=$ACTIONS_RESULTS_URL,token=$ACTIONS_RUNTIME_TOKEN$1"
}

server
build gha-cold.jsonl --import-cache "$(gha '')" --export-cache "$(gha ',mode=max,ignore-error=true')"
build gha-min.jsonl --import-cache "$(gha '')" --export-cache "$(gha ',mode=min,ignore-error=true')"
server -fault v2/CreateCacheEntry=500
build gha-export-500-ignored.jsonl --export-cache "$(gha ',mode=max,ignore-error=true')"
build gha-export-500.jsonl --export-cache "$(gha ',mode=max')"
server
url=http://127.0.0.1:9/ # discard port: nothing listens
build gha-unreachable-ignored.jsonl \
	--import-cache "type=gha,scope=fixture,version=2,url_v2=$url,url=$url,token=$ACTIONS_RUNTIME_TOKEN,timeout=5s" \
	--export-cache "type=gha,scope=fixture,version=2,url_v2=$url,url=$url,token=$ACTIONS_RUNTIME_TOKEN,timeout=5s,mode=max,ignore-error=true"
build registry-unreachable-ignored.jsonl \
	--import-cache type=registry,ref=127.0.0.1:9/stageline/cache \
	--export-cache type=registry,ref=127.0.0.1:9/stageline/cache,mode=max,ignore-error=true
build local.jsonl --import-cache "type=local,src=$work/local" --export-cache "type=local,dest=$work/local,mode=max"
build local-import.jsonl --import-cache "type=local,src=$work/local" --export-cache "$(gha ',mode=max,ignore-error=true')"
