# shellcheck shell=bash
# Sourced after scripts/buildkit-env.sh and scripts/offline-images.sh (needs BUILDKIT_HOST,
# STAGELINE_BIN, STAGELINE_RUN, log, build_oci_layout and oci_layout_ref): makes, without any
# registry, a base image from a real distribution's files, so image-content tests read a real /usr
# tree of tens of thousands of files.
#
# make_debian_image downloads a fixed set of Debian packages from the apt mirror (apt-get download:
# no install, no maintainer scripts), unpacks them with dpkg-deb -x into a root filesystem, and
# builds it FROM scratch into an OCI layout. Everything is cached under $STAGELINE_RUN and rebuilt
# only when the package set changes. Exports:
#   STAGELINE_DEBIAN_IMAGE   oci-layout://PATH@DIGEST, for a named context
#   STAGELINE_DEBIAN_ROOTFS  the unpacked root filesystem, for independent readings in tests

# The packages: a shell (dash, as /bin/sh), libc and coreutils so RUN works, and large trees of small
# files (Python's standard library and tests, Perl's modules, Go's sources, Boost's headers, tzdata).
# Package names without versions stay valid across Debian point releases.
STAGELINE_DEBIAN_PACKAGES=(
	dash bash coreutils libc6 tzdata
	libpython3.11-minimal libpython3.11-stdlib libpython3.11-testsuite python3.11-minimal
	perl-modules-5.36 golang-1.19-src libboost1.74-dev libstdc++-12-dev
)

make_debian_image() {
	local root="$STAGELINE_RUN/debian-image" want stamp
	local debs="$root/debs" ctx="$root/context" layout="$root/layout"
	stamp="$root/stamp"
	want="${STAGELINE_DEBIAN_PACKAGES[*]}"
	if [ ! -f "$layout/index.json" ] || [ ! -d "$ctx/rootfs/usr" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
		log "making the offline Debian image ($want) in $layout"
		rm -rf "$root"
		mkdir -p "$debs" "$ctx/rootfs"
		# apt-get download needs the package lists; a fresh machine may not have them yet.
		if ! (cd "$debs" && apt-get download -qq "${STAGELINE_DEBIAN_PACKAGES[@]}" >/dev/null 2>&1); then
			log "apt-get download failed: updating the package lists and retrying"
			apt-get update -qq >/dev/null
			(cd "$debs" && apt-get download -qq "${STAGELINE_DEBIAN_PACKAGES[@]}" >/dev/null)
		fi
		local deb
		for deb in "$debs"/*.deb; do
			dpkg-deb -x "$deb" "$ctx/rootfs"
		done
		# usrmerge-style links are what Debian 12 images have; dash is /bin/sh.
		ln -sfn dash "$ctx/rootfs/bin/sh" 2>/dev/null || true
		mkdir -p "$ctx/rootfs/tmp" && chmod 1777 "$ctx/rootfs/tmp"
		printf '%s\n' 'FROM scratch' 'COPY rootfs/ /' \
			'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' >"$ctx/Dockerfile"
		build_oci_layout "$ctx" "$layout"
		rm -rf "$debs" "$ctx/Dockerfile"
		echo "$want" >"$stamp"
	fi
	STAGELINE_DEBIAN_IMAGE=$(oci_layout_ref "$layout")
	STAGELINE_DEBIAN_ROOTFS="$ctx/rootfs"
	export STAGELINE_DEBIAN_IMAGE STAGELINE_DEBIAN_ROOTFS
}
