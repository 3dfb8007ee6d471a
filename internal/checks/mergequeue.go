package checks

import (
	"strconv"
	"strings"
)

// queuePrefix starts the branch a merge queue tests a group on:
// gh-readonly-queue/{base}/pr-{N}-{head sha of the PR}.
const queuePrefix = "gh-readonly-queue/"

// queueBranch reads a merge group's branch: the base branch the queue
// merges into and the number of the group's (last) pull request. ok is
// false for any other branch name. The base may itself hold slashes
// (release/1.x): the PR part is the last segment.
func queueBranch(head string) (base string, pr int, ok bool) {
	rest, found := strings.CutPrefix(head, queuePrefix)
	if !found {
		return "", 0, false
	}
	i := strings.LastIndex(rest, "/pr-")
	if i <= 0 {
		return "", 0, false
	}
	base, tail := rest[:i], rest[i+len("/pr-"):]
	num, sha, found := strings.Cut(tail, "-")
	n, err := strconv.Atoi(num)
	if !found || err != nil || n <= 0 || num != strconv.Itoa(n) || !isHex(sha) {
		return "", 0, false
	}
	return base, n, true
}

func isHex(s string) bool {
	if len(s) < 7 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
