# shellcheck shell=bash
# Sourced by scripts/demo and scripts/test: sets up a local BuildKit from the project's own files.
#
# - installs runc and busybox-static from Debian when missing (root only),
# - builds buildkitd and buildctl at the version go.mod pins into .bin/,
# - starts buildkitd as root on a unix socket (unless BUILDKIT_HOST already answers),
# - makes the offline base image (busybox on scratch) as an OCI layout for linux/amd64 and linux/386.
#
# Exports BUILDKIT_HOST, STAGELINE_BIN and STAGELINE_BASE_IMAGE (an oci-layout:// reference).

set -euo pipefail

STAGELINE_ROOT=${STAGELINE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
STAGELINE_BIN=${STAGELINE_BIN:-$STAGELINE_ROOT/.bin}
STAGELINE_RUN=${STAGELINE_RUN:-/tmp/stageline-buildkit}
export STAGELINE_ROOT STAGELINE_BIN STAGELINE_RUN

log() { printf '==> %s\n' "$*" >&2; }

# install_debian_packages PKG... installs the packages from Debian (root only); none given, nothing.
install_debian_packages() {
	[ $# -eq 0 ] && return 0
	if [ "$(id -u)" != 0 ]; then
		log "missing $*: install them (apt-get install $*) or run as root"
		return 1
	fi
	log "installing $* from Debian"
	apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_debian_packages() {
	local missing=()
	command -v runc >/dev/null 2>&1 || missing+=(runc)
	[ -x /bin/busybox ] || missing+=(busybox-static)
	install_debian_packages "${missing[@]}"
}

buildkit_version() {
	(cd "$STAGELINE_ROOT" && go list -m -f '{{.Version}}' github.com/moby/buildkit)
}

ensure_buildkit_binaries() {
	local want stamp="$STAGELINE_BIN/.buildkit-version"
	want=$(buildkit_version)
	if [ -x "$STAGELINE_BIN/buildkitd" ] && [ -x "$STAGELINE_BIN/buildctl" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
		return 0
	fi
	log "building buildkitd and buildctl $want into $STAGELINE_BIN (takes a few minutes the first time)"
	mkdir -p "$STAGELINE_BIN"
	(cd "$STAGELINE_ROOT" && CGO_ENABLED=0 go build -trimpath -o "$STAGELINE_BIN/" \
		github.com/moby/buildkit/cmd/buildkitd github.com/moby/buildkit/cmd/buildctl)
	echo "$want" >"$stamp"
}

buildkit_answers() {
	timeout 5 "$STAGELINE_BIN/buildctl" --addr "$1" debug workers >/dev/null 2>&1
}

start_buildkitd() {
	if [ -n "${BUILDKIT_HOST:-}" ] && buildkit_answers "$BUILDKIT_HOST"; then
		log "using BuildKit at $BUILDKIT_HOST"
		return 0
	fi
	local addr="unix://$STAGELINE_RUN/buildkitd.sock"
	if buildkit_answers "$addr"; then
		export BUILDKIT_HOST=$addr
		log "using running buildkitd at $addr"
		return 0
	fi
	if [ "$(id -u)" != 0 ]; then
		log "buildkitd must run as root here: run as root, or set BUILDKIT_HOST to a running BuildKit"
		return 1
	fi
	mkdir -p "$STAGELINE_RUN/state"
	log "starting buildkitd on $addr (log: $STAGELINE_RUN/buildkitd.log)"
	setsid "$STAGELINE_BIN/buildkitd" \
		--root "$STAGELINE_RUN/state" \
		--addr "$addr" \
		--oci-worker=true --containerd-worker=false \
		--oci-worker-snapshotter=overlayfs \
		--oci-worker-binary="$(command -v runc)" \
		>"$STAGELINE_RUN/buildkitd.log" 2>&1 </dev/null &
	echo $! >"$STAGELINE_RUN/buildkitd.pid"
	local i
	for i in $(seq 1 60); do
		if buildkit_answers "$addr"; then
			export BUILDKIT_HOST=$addr
			return 0
		fi
		sleep 0.5
	done
	log "buildkitd did not answer within 30s; its log:"
	tail -n 30 "$STAGELINE_RUN/buildkitd.log" >&2
	return 1
}

# make_base_image builds the offline stand-in for diamol/base: busybox (static) and its applet links on
# scratch, for linux/amd64 and linux/386, exported as an OCI layout. No registry is needed.
make_base_image() {
	local dir="$STAGELINE_RUN/base" ctx="$STAGELINE_RUN/base-context"
	if [ ! -f "$dir/index.json" ]; then
		log "making the offline base image (busybox on scratch) in $dir"
		rm -rf "$ctx" "$dir"
		mkdir -p "$ctx/rootfs/bin" "$ctx/rootfs/tmp" "$dir"
		cp /bin/busybox "$ctx/rootfs/bin/busybox"
		local applet
		for applet in $(/bin/busybox --list); do
			[ "$applet" = busybox ] || ln -sf busybox "$ctx/rootfs/bin/$applet"
		done
		printf 'FROM scratch\nCOPY rootfs/ /\nENV PATH=/bin\n' >"$ctx/Dockerfile"
		"$STAGELINE_BIN/buildctl" --addr "$BUILDKIT_HOST" build --progress=quiet \
			--frontend dockerfile.v0 --local context="$ctx" --local dockerfile="$ctx" \
			--opt platform=linux/amd64,linux/386 \
			--output "type=oci,dest=$STAGELINE_RUN/base.tar"
		tar -xf "$STAGELINE_RUN/base.tar" -C "$dir"
		rm -f "$STAGELINE_RUN/base.tar"
	fi
	local digest
	digest=$(sed -n 's/.*"digest":"\(sha256:[0-9a-f]*\)".*/\1/p' "$dir/index.json" | head -n 1)
	export STAGELINE_BASE_IMAGE="oci-layout://$dir@$digest"
}

setup_buildkit() {
	ensure_debian_packages
	ensure_buildkit_binaries
	start_buildkitd
	make_base_image
}
