# shellcheck shell=bash
# Sourced by scripts/test after scripts/buildkit-env.sh (needs log and install_debian_packages). Idempotent. Installs what the registry, load and ssh tests need
# from Debian: docker-registry (distribution 2.8, which the tests start themselves on 127.0.0.1 with a
# CA and htpasswd they make), openssh-client (ssh-agent, ssh-add, ssh-keygen) and git (git http-backend
# serves the Git-context test's repository; buildkitd runs git to fetch it).

ensure_registry_packages() {
	local missing=()
	command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
	command -v ssh-agent >/dev/null 2>&1 || missing+=(openssh-client)
	[ -x /usr/lib/git-core/git-http-backend ] || missing+=(git)
	[ ${#missing[@]} -eq 0 ] && return 0
	install_debian_packages "${missing[@]}" || return 1
	# Debian's package starts a registry on :5000 where an init system runs; the tests start their own.
	if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then
		systemctl disable --now docker-registry >/dev/null 2>&1 || true
	fi
}

setup_registry() {
	ensure_registry_packages
}
