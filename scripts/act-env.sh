# shellcheck shell=bash
# Sourced by scripts/test and scripts/act after scripts/buildkit-env.sh, scripts/offline-images.sh
# (setup_offline_images) and scripts/dockerd-env.sh (setup_dockerd). Idempotent. Sets up what the act
# end-to-end test (action/act_e2e_test.go) needs, with no registry:
#
# - act (nektos/act) built from the Go module proxy at the version go.mod pins, into $STAGELINE_ROOT/.bin
#   (never committed),
# - the Action's image built from the project's Dockerfile (--target action, offline bases through named
#   contexts) and `docker load`ed into the test dockerd, tagged by a hash of its inputs so an unchanged tree
#   reuses it,
# - a small job image for act's container mode (busybox on scratch), loaded the same way.
#
# Exports STAGELINE_ACT (act's path), STAGELINE_ACTION_IMAGE and STAGELINE_ACT_JOB_IMAGE.

ensure_act() {
	local version stamp
	version=$(cd "$STAGELINE_ROOT" && go list -m -f '{{.Version}}' github.com/nektos/act)
	STAGELINE_ACT="$STAGELINE_ROOT/.bin/act"
	export STAGELINE_ACT
	stamp="$STAGELINE_ROOT/.bin/.act-version"
	if [ -x "$STAGELINE_ACT" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
		return 0
	fi
	log "building act $version from the Go module proxy into $STAGELINE_ROOT/.bin"
	mkdir -p "$STAGELINE_ROOT/.bin"
	# go install pkg@version builds act with its own go.mod, not ours.
	GOBIN="$STAGELINE_ROOT/.bin" go install "github.com/nektos/act@$version"
	echo "$version" >"$stamp"
}

# make_action_image builds the Dockerfile's action target with stageline's own CLI on the shared
# buildkitd, the bases replaced by the offline images (as TestDockerfileTargets does).
make_action_image() {
	local hash dir="$STAGELINE_DOCKER_RUN/action-image" go_base static_base
	# The image's inputs: the offline bases, the Dockerfile and the Go sources it compiles.
	hash=$(cd "$STAGELINE_ROOT" && { echo "$STAGELINE_GO_IMAGE $STAGELINE_STATIC_IMAGE"; cat go.mod go.sum Dockerfile; find action internal -type f ! -name '*_test.go' ! -name '*.test' ! -name '*.out' ! -path '*/testdata/*' | LC_ALL=C sort | xargs cat; } | sha256sum | cut -c1-16)
	STAGELINE_ACTION_IMAGE="stageline.test/action:$hash"
	export STAGELINE_ACTION_IMAGE
	if docker_cli image inspect "$STAGELINE_ACTION_IMAGE" >/dev/null 2>&1; then
		return 0
	fi
	log "building the Action's image $STAGELINE_ACTION_IMAGE from the Dockerfile (minutes on a cold Go cache)"
	mkdir -p "$dir"
	(cd "$STAGELINE_ROOT" && CGO_ENABLED=0 go build -o "$dir/stageline" ./action)
	go_base=$(sed -n 's/^ARG GO_IMAGE=//p' "$STAGELINE_ROOT/Dockerfile")
	static_base=$(sed -n 's/^ARG RUNTIME_IMAGE=//p' "$STAGELINE_ROOT/Dockerfile")
	"$dir/stageline" --progress quiet --buildkit-address "$BUILDKIT_HOST" --target action \
		--build-context "$go_base=$STAGELINE_GO_IMAGE" --build-context "$static_base=$STAGELINE_STATIC_IMAGE" \
		--build-arg "GOPROXY=$(go env GOPROXY)" --report-path "$dir/report.json" \
		--output "type=docker,name=$STAGELINE_ACTION_IMAGE,dest=$dir/image.tar" "$STAGELINE_ROOT"
	docker_cli load -q -i "$dir/image.tar" >/dev/null
	rm -rf "$dir"
}

# make_act_job_image is the job container for act's container mode: busybox (act keeps the container
# alive with `tail -f /dev/null` and runs `run:` steps with sh) and a 1777 /tmp.
make_act_job_image() {
	local ctx="$STAGELINE_DOCKER_RUN/act-job-context" hash
	hash=$(sha256sum /bin/busybox | cut -c1-16)
	STAGELINE_ACT_JOB_IMAGE="stageline.test/act-job:$hash"
	export STAGELINE_ACT_JOB_IMAGE
	if docker_cli image inspect "$STAGELINE_ACT_JOB_IMAGE" >/dev/null 2>&1; then
		return 0
	fi
	log "making act's job image $STAGELINE_ACT_JOB_IMAGE"
	rm -rf "$ctx"
	mkdir -p "$ctx/rootfs/tmp"
	chmod 1777 "$ctx/rootfs/tmp"
	busybox_rootfs "$ctx/rootfs"
	cat >"$ctx/Dockerfile" <<-'DOCKERFILE'
		FROM scratch
		COPY rootfs/ /
		ENV PATH=/usr/local/bin:/usr/bin:/bin
	DOCKERFILE
	load_docker_image "$ctx" "$STAGELINE_ACT_JOB_IMAGE"
	rm -rf "$ctx"
}

setup_act() {
	ensure_act
	make_act_job_image
	make_action_image
}
