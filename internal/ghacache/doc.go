// Package ghacache turns the Action's cache inputs (docker/build-push-action style
// cache-from/cache-to entries and the one-word cache input) and the runner's environment
// into BuildKit cache import and export options, filling the type=gha attributes the way
// buildkitd v0.34 reads them and obeying ACTIONS_CACHE_MODE.
package ghacache
