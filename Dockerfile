# stageline's own images, built the way stageline teaches: one builder stage with cache mounts, small
# static final stages.
#
#   docker buildx build --target app    -t ghcr.io/stageline/stageline-app:dev .
#   docker buildx build --target action -t ghcr.io/stageline/stageline:dev .   (also the default: last stage)
#
# Reproducible: -trimpath, no build id, no VCS stamp, bases pinned by digest. Pass
# --build-arg SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) and export with rewrite-timestamp=true to get
# the same image digest from the same commit (docs/images.md).
#
# No "# syntax=" line on purpose: the frontend built into BuildKit is used, so a build needs no registry
# besides the two bases below (which tests replace with offline images through named contexts).
#
# Bumping a base: `crane digest golang:1.26-bookworm` (or `docker buildx imagetools inspect`) and
# replace the digest below; see docs/images.md. A named context keyed by the full reference, e.g.
# --build-context golang:1.26-bookworm@sha256:...=oci-layout://..., replaces a base without a registry.

ARG GO_IMAGE=golang:1.26-bookworm@sha256:9fdc884aacc3bec89b20ffc69f4bb369c78210e3e4f600387b5128b12c199f81
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab

# builder compiles on the build platform and cross-compiles for the target one: no emulation for
# multi-platform releases.
FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS builder
WORKDIR /src
# GOPROXY is an ARG so CI behind a proxy (or an offline mirror) can say where modules come from.
ARG GOPROXY=https://proxy.golang.org,direct
ENV CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false -mod=readonly" GOPROXY=${GOPROXY} GOTOOLCHAIN=local
COPY go.mod go.sum ./
COPY action/ action/
COPY app/ app/
COPY internal/ internal/
ARG TARGETOS TARGETARCH

FROM builder AS build-action
# Module and build caches live in cache mounts: they speed up rebuilds without entering any layer.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH go build -ldflags="-s -w -buildid=" -o /out/stageline ./action

FROM builder AS build-app
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH go build -ldflags="-s -w -buildid=" -o /out/stageline-app ./app

# app: the GitHub App server, as distroless's nonroot user (65532).
FROM ${RUNTIME_IMAGE} AS app
COPY --from=build-app /out/stageline-app /usr/local/bin/stageline-app
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/stageline-app"]

# action: the Action and CLI. It is the last stage because `runs.image: Dockerfile` builds the last
# stage. It runs as root on purpose: GitHub runs Docker actions as the image's user, documents that they
# "must be run by the default Docker user (root)" (the workspace and file-command files belong to the
# runner's user), and the host's docker.sock, which the BuildKit bootstrap needs, is root:docker 0660.
# No WORKDIR: the runner sets the workspace as the working directory.
FROM ${RUNTIME_IMAGE} AS action
COPY --from=build-action /out/stageline /usr/local/bin/stageline
USER 0:0
ENTRYPOINT ["/usr/local/bin/stageline"]
