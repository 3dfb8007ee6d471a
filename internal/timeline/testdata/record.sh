#!/usr/bin/env bash
# Re-records the fixtures from a running buildkitd: BUILDKIT_HOST and STAGELINE_BASE_IMAGE as set by
# scripts/buildkit-env.sh (source it, then call setup_buildkit). Each case's Dockerfile sits in its
# directory; streams are buildctl --progress=rawjson output (stderr), one client.SolveStatus a line.
set -euo pipefail
cd "$(dirname "$0")"
buildctl=${BUILDCTL:-../../../.bin/buildctl}
base=${STAGELINE_BASE_IMAGE#oci-layout://}
layout=${base%@*}
digest=${base#*@}
ctx=$(mktemp -d)
trap 'rm -rf "$ctx" "$ctx.log"' EXIT

build() { # dir out [extra buildctl args...]
	local dir=$1 out=$2
	shift 2
	"$buildctl" --addr "$BUILDKIT_HOST" build --frontend dockerfile.v0 \
		--local context="$ctx" --local dockerfile="$dir" \
		--oci-layout base="$layout" --opt "context:diamol/base=oci-layout://base@$digest" \
		--progress=rawjson --output type=oci,dest=/dev/null "$@" 2>"$ctx.log" || true
	keep_json "$dir/$out"
}

# keep_json keeps only the JSON lines of buildctl's stderr: it also logs warnings and the error there.
keep_json() {
	grep '^{' "$ctx.log" >"$1"
	rm -f "$ctx.log"
}

build seed cold.jsonl --opt no-cache=
build seed cached.jsonl
build fail stream.jsonl --opt no-cache=
build parallel stream.jsonl --opt no-cache=
build multiplatform stream.jsonl --opt no-cache= --opt platform=linux/amd64,linux/386

# Cancel mid-RUN: SIGINT buildctl (by its pid) while the slow stage sleeps.
"$buildctl" --addr "$BUILDKIT_HOST" build --frontend dockerfile.v0 \
	--local context="$ctx" --local dockerfile=cancel \
	--oci-layout base="$layout" --opt "context:diamol/base=oci-layout://base@$digest" \
	--progress=rawjson --output type=oci,dest=/dev/null --opt no-cache= 2>"$ctx.log" &
pid=$!
sleep 4
kill -INT "$pid"
wait "$pid" || true
keep_json cancel/stream.jsonl
