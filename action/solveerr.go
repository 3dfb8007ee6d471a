package main

import (
	"fmt"
	"regexp"
	"strings"
)

// registryURL finds the registry host in BuildKit's push and pull errors,
// which quote the request URL ("HEAD request to https://HOST/v2/...").
var registryURL = regexp.MustCompile(`https?://([^/\s"]+)/v2/`)

// statusInError finds an HTTP status BuildKit quotes ("401 Unauthorized").
var statusInError = regexp.MustCompile(`\b(40[13] [A-Z][a-z]+)\b`)

// entitlementDenied and entitlementNeeded are BuildKit's words
// (util/entitlements) for an entitlement the daemon does not grant and one
// the build did not ask for.
var (
	entitlementDenied = regexp.MustCompile(`granting entitlement (\S+) is not allowed by build daemon configuration`)
	entitlementNeeded = regexp.MustCompile(`\b(network\.host|security\.insecure) is not allowed`)
)

// inputProblem turns a solve error that a setting, not the Dockerfile,
// caused into one line naming the fix: registries (registryProblem) and
// entitlements. ok is false for other errors.
func inputProblem(err error) (msg string, ok bool) {
	if err == nil {
		return "", false
	}
	if m := entitlementDenied.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Sprintf("the BuildKit daemon does not allow entitlement %s: start buildkitd with --allow-insecure-entitlement %s (docker/setup-buildx-action: buildkitd-flags), or remove it from allow", m[1], m[1]), true
	}
	if m := entitlementNeeded.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Sprintf("a RUN instruction needs entitlement %s: add it to allow (--allow %s), and let the daemon grant it", m[1], m[1]), true
	}
	return registryProblem(err)
}

// registryProblem turns a push, pull or registry cache error into one line
// naming the fix: wrong credentials (the registry's own answer), a
// registry that does not answer (after BuildKit's retries) or one whose
// certificate BuildKit does not trust. ok is false for other errors.
func registryProblem(err error) (msg string, ok bool) {
	if err == nil {
		return "", false
	}
	text := err.Error()
	host := "the registry"
	if m := registryURL.FindStringSubmatch(text); m != nil {
		host = "registry " + m[1]
	}
	switch {
	case strings.Contains(text, "401 Unauthorized") || strings.Contains(text, "403 Forbidden") || strings.Contains(text, "failed to authorize"):
		answer := "unauthorized"
		if m := statusInError.FindStringSubmatch(text); m != nil {
			answer = m[1]
		}
		return fmt.Sprintf("%s refused the credentials (%s): log in to it before this step (docker/login-action, or docker login; stageline reads $DOCKER_CONFIG/config.json) with a user that may push there", host, answer), true
	case strings.Contains(text, "x509:") || strings.Contains(text, "certificate signed by unknown authority"):
		return fmt.Sprintf("%s presents a certificate BuildKit does not trust: add its CA to buildkitd.toml ([registry.\"HOST\"] ca = [\"/path/ca.pem\"])", host), true
	case registryURL.MatchString(text) && (strings.Contains(text, "connection refused") || strings.Contains(text, "no such host") ||
		strings.Contains(text, "i/o timeout") || strings.Contains(text, "connection reset") || strings.Contains(text, "network is unreachable")):
		cause := "no answer"
		for _, c := range []string{"connection refused", "no such host", "i/o timeout", "connection reset", "network is unreachable"} {
			if strings.Contains(text, c) {
				cause = c
				break
			}
		}
		return fmt.Sprintf("%s is unreachable (%s): check the registry host in tags, outputs and cache refs, and that the registry is up and reachable from BuildKit", host, cause), true
	}
	return "", false
}
