# shellcheck shell=bash
# Sourced by scripts/test after scripts/buildkit-env.sh (needs BUILDKIT_HOST, STAGELINE_BIN,
# STAGELINE_RUN and log). Idempotent. Sets up what the BuildKit bootstrap tests need:
#
# - installs Debian's docker.io when dockerd is missing (root only),
# - starts a private dockerd (own data-root, exec-root and socket under $STAGELINE_DOCKER_RUN, no
#   bridge, no iptables: test containers use host networking) unless it already answers,
# - builds a buildkitd image here, with no registry: a FROM scratch image holding the static buildkitd
#   and buildctl from $STAGELINE_BIN, Debian's runc with its libraries, busybox and /tmp, exported with
#   type=docker and `docker load`ed into that dockerd.
#
# Exports STAGELINE_DOCKER_HOST (unix:// address of that dockerd) and STAGELINE_BUILDKIT_IMAGE (the
# loaded image's name). DOCKER_HOST is left alone so nothing else talks to this dockerd by accident.

STAGELINE_DOCKER_RUN=${STAGELINE_DOCKER_RUN:-/tmp/stageline-docker}
export STAGELINE_DOCKER_RUN

ensure_docker_packages() {
	command -v dockerd >/dev/null 2>&1 && return 0
	if [ "$(id -u)" != 0 ]; then
		log "dockerd is missing: install docker.io (apt-get install docker.io) or run as root"
		return 1
	fi
	log "installing docker.io from Debian"
	apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
}

# docker_cli runs Debian's docker CLI (matching its dockerd) against our dockerd.
docker_cli() {
	DOCKER_HOST=$STAGELINE_DOCKER_HOST /usr/bin/docker "$@"
}

dockerd_answers() {
	DOCKER_HOST=$1 timeout 5 /usr/bin/docker version >/dev/null 2>&1
}

start_dockerd() {
	STAGELINE_DOCKER_HOST="unix://$STAGELINE_DOCKER_RUN/docker.sock"
	export STAGELINE_DOCKER_HOST
	if dockerd_answers "$STAGELINE_DOCKER_HOST"; then
		log "using running dockerd at $STAGELINE_DOCKER_HOST"
		return 0
	fi
	if [ "$(id -u)" != 0 ]; then
		log "dockerd must run as root here: run as root"
		return 1
	fi
	mkdir -p "$STAGELINE_DOCKER_RUN/data" "$STAGELINE_DOCKER_RUN/exec"
	log "starting dockerd on $STAGELINE_DOCKER_HOST (log: $STAGELINE_DOCKER_RUN/dockerd.log)"
	# --bridge=none --iptables=false: this machine's network is left as it is; containers use
	# --network host.
	setsid dockerd \
		--host "$STAGELINE_DOCKER_HOST" \
		--data-root "$STAGELINE_DOCKER_RUN/data" \
		--exec-root "$STAGELINE_DOCKER_RUN/exec" \
		--pidfile "$STAGELINE_DOCKER_RUN/dockerd.pid" \
		--bridge=none --iptables=false --ip-masq=false \
		>"$STAGELINE_DOCKER_RUN/dockerd.log" 2>&1 </dev/null &
	local i
	for i in $(seq 1 60); do
		dockerd_answers "$STAGELINE_DOCKER_HOST" && return 0
		sleep 0.5
	done
	log "dockerd did not answer within 30s; its log:"
	tail -n 30 "$STAGELINE_DOCKER_RUN/dockerd.log" >&2
	return 1
}

# load_docker_image CTXDIR NAME builds CTXDIR/Dockerfile for linux/amd64 on BUILDKIT_HOST and loads it
# into our dockerd as NAME.
load_docker_image() {
	local tar="$1.image.tar"
	"$STAGELINE_BIN/buildctl" --addr "$BUILDKIT_HOST" build --progress=quiet \
		--frontend dockerfile.v0 --local context="$1" --local dockerfile="$1" \
		--opt platform=linux/amd64 \
		--output "type=docker,name=$2,dest=$tar"
	docker_cli load -q -i "$tar" >/dev/null
	rm -f "$tar"
}

# busybox_rootfs DIR puts busybox with its applets in DIR/bin and a root user in DIR/etc.
busybox_rootfs() {
	mkdir -p "$1/bin" "$1/etc"
	cp /bin/busybox "$1/bin/busybox"
	local applet
	for applet in $(/bin/busybox --list); do
		[ "$applet" = busybox ] || ln -sf busybox "$1/bin/$applet"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$1/etc/passwd"
	printf 'root:x:0:\n' >"$1/etc/group"
}

# make_buildkit_docker_image builds and loads the offline buildkitd image, tagged with the BuildKit
# version go.mod pins; it is rebuilt when the binaries in $STAGELINE_BIN change.
make_buildkit_docker_image() {
	local version name ctx="$STAGELINE_DOCKER_RUN/buildkit-image-context" stamp want
	version=$(cat "$STAGELINE_BIN/.buildkit-version")
	name="stageline.test/buildkit:$version"
	STAGELINE_BUILDKIT_IMAGE=$name
	export STAGELINE_BUILDKIT_IMAGE
	stamp="$STAGELINE_DOCKER_RUN/buildkit-image.stamp"
	want="$(sha256sum "$STAGELINE_BIN/buildkitd" "$(command -v runc)" | sha256sum | cut -c1-16)"
	if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && docker_cli image inspect "$name" >/dev/null 2>&1; then
		return 0
	fi
	log "making the offline buildkitd image $name"
	rm -rf "$ctx"
	mkdir -p "$ctx/rootfs/usr/bin" "$ctx/rootfs/bin" "$ctx/rootfs/tmp" "$ctx/rootfs/run/buildkit" \
		"$ctx/rootfs/var/lib/buildkit" "$ctx/rootfs/etc"
	chmod 1777 "$ctx/rootfs/tmp"
	cp "$STAGELINE_BIN/buildkitd" "$STAGELINE_BIN/buildctl" "$ctx/rootfs/usr/bin/"
	cp "$(command -v runc)" "$ctx/rootfs/usr/bin/runc"
	# buildkitd looks for buildkit-runc before runc, as in moby/buildkit's image.
	ln -s runc "$ctx/rootfs/usr/bin/buildkit-runc"
	local lib
	for lib in $(ldd "$(command -v runc)" | grep -o '/[^ ]*'); do
		mkdir -p "$ctx/rootfs$(dirname "$lib")"
		cp -L "$lib" "$ctx/rootfs$lib"
	done
	busybox_rootfs "$ctx/rootfs"
	# Like moby/buildkit: buildkitd is the entrypoint and its state is a volume, so overlayfs
	# snapshots sit on the volume's filesystem instead of the container's own overlay.
	cat >"$ctx/Dockerfile" <<-'DOCKERFILE'
		FROM scratch
		COPY rootfs/ /
		ENV PATH=/usr/local/bin:/usr/bin:/bin
		VOLUME /var/lib/buildkit
		ENTRYPOINT ["/usr/bin/buildkitd"]
	DOCKERFILE
	load_docker_image "$ctx" "$name"
	rm -rf "$ctx"
	echo "$want" >"$stamp"
}

setup_dockerd() {
	ensure_docker_packages
	start_dockerd
	make_buildkit_docker_image
}
