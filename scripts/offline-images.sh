# shellcheck shell=bash
# Sourced after scripts/buildkit-env.sh (needs BUILDKIT_HOST, STAGELINE_BIN, STAGELINE_RUN and log):
# builds, without any registry, offline stand-ins for the bases of the top-level Dockerfile, as OCI
# layouts under $STAGELINE_RUN:
#
# - make_go_image: a Go toolchain image from this machine's Go (GOROOT) plus busybox, CA certificates
#   and /tmp, like golang:1.26-bookworm for what a Go builder stage needs. Exports STAGELINE_GO_IMAGE.
# - make_static_image: a distroless-like static image (CA certificates, /etc/passwd with root, nonroot
#   65532 and nobody, /tmp, /home/nonroot, user 65532), like gcr.io/distroless/static-debian12:nonroot.
#   Exports STAGELINE_STATIC_IMAGE.
#
# Both are oci-layout://PATH@DIGEST references, for named contexts (--build-context NAME=...).

# build_oci_layout CTXDIR DEST builds CTXDIR/Dockerfile for linux/amd64 into the OCI layout DEST.
build_oci_layout() {
	local ctx=$1 dest=$2
	rm -rf "$dest"
	mkdir -p "$dest"
	"$STAGELINE_BIN/buildctl" --addr "$BUILDKIT_HOST" build --progress=quiet \
		--frontend dockerfile.v0 --local context="$ctx" --local dockerfile="$ctx" \
		--opt platform=linux/amd64 \
		--output "type=oci,dest=$dest.tar"
	tar -xf "$dest.tar" -C "$dest"
	rm -f "$dest.tar"
}

# oci_layout_ref DIR prints oci-layout://DIR@DIGEST for the layout's first manifest.
oci_layout_ref() {
	local digest
	digest=$(sed -n 's/.*"digest":"\(sha256:[0-9a-f]*\)".*/\1/p' "$1/index.json" | head -n 1)
	printf 'oci-layout://%s@%s' "$1" "$digest"
}

# rootfs_common DIR puts busybox-free basics into a rootfs: CA certificates and a 1777 /tmp.
rootfs_common() {
	mkdir -p "$1/etc/ssl/certs" "$1/tmp"
	chmod 1777 "$1/tmp"
	cp /etc/ssl/certs/ca-certificates.crt "$1/etc/ssl/certs/ca-certificates.crt"
}

make_go_image() {
	local dir="$STAGELINE_RUN/go-image" ctx="$STAGELINE_RUN/go-image-context" goroot stamp want
	goroot=$(go env GOROOT)
	want="$(go env GOVERSION) $goroot"
	stamp="$dir.stamp"
	if [ ! -f "$dir/index.json" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
		log "making the offline Go image ($want) in $dir"
		rm -rf "$ctx"
		mkdir -p "$ctx/rootfs/bin" "$ctx/rootfs/usr/local" "$ctx/rootfs/go/bin"
		rootfs_common "$ctx/rootfs"
		cp /bin/busybox "$ctx/rootfs/bin/busybox"
		local applet
		for applet in $(/bin/busybox --list); do
			[ "$applet" = busybox ] || ln -sf busybox "$ctx/rootfs/bin/$applet"
		done
		# The toolchain without its test data and docs, which no build reads.
		cp -a "$goroot" "$ctx/rootfs/usr/local/go"
		rm -rf "$ctx/rootfs/usr/local/go/test" "$ctx/rootfs/usr/local/go/doc" "$ctx/rootfs/usr/local/go/.git"
		# The same environment golang:1.26 sets.
		cat >"$ctx/Dockerfile" <<-'DOCKERFILE'
			FROM scratch
			COPY rootfs/ /
			ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin GOPATH=/go GOTOOLCHAIN=local
			WORKDIR /go
		DOCKERFILE
		build_oci_layout "$ctx" "$dir"
		rm -rf "$ctx"
		echo "$want" >"$stamp"
	fi
	STAGELINE_GO_IMAGE=$(oci_layout_ref "$dir")
	export STAGELINE_GO_IMAGE
}

make_static_image() {
	local dir="$STAGELINE_RUN/static-image" ctx="$STAGELINE_RUN/static-image-context"
	if [ ! -f "$dir/index.json" ]; then
		log "making the offline distroless-like static image in $dir"
		rm -rf "$ctx"
		mkdir -p "$ctx/rootfs/etc" "$ctx/rootfs/root" "$ctx/home"
		rootfs_common "$ctx/rootfs"
		chmod 700 "$ctx/rootfs/root"
		printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
			'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$ctx/rootfs/etc/passwd"
		printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'tty:x:5:' 'staff:x:50:' 'nonroot:x:65532:' >"$ctx/rootfs/etc/group"
		cat >"$ctx/Dockerfile" <<-'DOCKERFILE'
			FROM scratch
			COPY rootfs/ /
			COPY --chown=65532:65532 home/ /home/nonroot/
			ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
			USER 65532
			WORKDIR /home/nonroot
		DOCKERFILE
		build_oci_layout "$ctx" "$dir"
		rm -rf "$ctx"
	fi
	STAGELINE_STATIC_IMAGE=$(oci_layout_ref "$dir")
	export STAGELINE_STATIC_IMAGE
}

setup_offline_images() {
	make_go_image
	make_static_image
}
