package cacheserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Permission is a bit set, as in the runner's "ac" claim.
type Permission int

const (
	PermissionRead  Permission = 1
	PermissionWrite Permission = 2
)

// Scope is one entry of the token's "ac" claim: a git ref and what the job may do with
// the caches stored under it. The JSON field names are the runner's.
type Scope struct {
	Scope      string     `json:"Scope"`
	Permission Permission `json:"Permission"`
}

// BranchScopes are the scopes of a push to a branch: read and write on it.
func BranchScopes(branch string) []Scope {
	return []Scope{{Scope: "refs/heads/" + branch, Permission: PermissionRead | PermissionWrite}}
}

// PullRequestScopes are the scopes of a pull_request run: write on the PR's merge ref,
// read on the base branch, so a PR restores its base branch's cache but cannot change it.
func PullRequestScopes(number int, base string) []Scope {
	return []Scope{
		{Scope: "refs/heads/" + base, Permission: PermissionRead},
		{Scope: fmt.Sprintf("refs/pull/%d/merge", number), Permission: PermissionRead | PermissionWrite},
	}
}

// claims mirror what the runner puts in ACTIONS_RUNTIME_TOKEN that cache clients read:
// "ac" is a JSON string (not an array), exp and nbf are Unix seconds.
type claims struct {
	AC  string `json:"ac"`
	Exp int64  `json:"exp"`
	Nbf int64  `json:"nbf"`
	Iat int64  `json:"iat"`
	Iss string `json:"iss"`
	Aud string `json:"aud"`
	Scp string `json:"scp"`
}

var errUnauthorized = errors.New("unauthorized")

// mint makes an HS256 JWT. Clients read it without checking the signature (as they do
// the runner's RS256 token); the server checks it, so only its own tokens are accepted.
func mint(key []byte, scopes []Scope, now time.Time, ttl time.Duration) (string, error) {
	ac, err := json.Marshal(scopes)
	if err != nil {
		return "", fmt.Errorf("encoding scopes: %w", err)
	}
	c := claims{
		AC:  string(ac),
		Exp: now.Add(ttl).Unix(),
		// A minute of slack: clients refuse tokens whose nbf is in their future.
		Nbf: now.Add(-time.Minute).Unix(),
		Iat: now.Unix(),
		Iss: "stageline-cacheserver",
		Aud: "vso:stageline",
		Scp: "Actions.Results:1:1",
	}
	header := b64(`{"alg":"HS256","typ":"JWT"}`)
	body, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encoding claims: %w", err)
	}
	signing := header + "." + base64.RawURLEncoding.EncodeToString(body)
	return signing + "." + sign(key, signing), nil
}

// verify checks the signature and the validity window and returns the scopes.
func verify(key []byte, token string, now time.Time) ([]Scope, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: not a JWT", errUnauthorized)
	}
	if !hmac.Equal([]byte(parts[2]), []byte(sign(key, parts[0]+"."+parts[1]))) {
		return nil, fmt.Errorf("%w: bad signature", errUnauthorized)
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("%w: decoding claims: %v", errUnauthorized, err)
	}
	var c claims
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, fmt.Errorf("%w: decoding claims: %v", errUnauthorized, err)
	}
	if now.Unix() >= c.Exp {
		return nil, fmt.Errorf("%w: token expired", errUnauthorized)
	}
	if now.Unix() < c.Nbf {
		return nil, fmt.Errorf("%w: token not valid yet", errUnauthorized)
	}
	var scopes []Scope
	if err := json.Unmarshal([]byte(c.AC), &scopes); err != nil {
		return nil, fmt.Errorf("%w: decoding ac claim: %v", errUnauthorized, err)
	}
	return scopes, nil
}

func sign(key []byte, s string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// readable returns the scopes a lookup searches, in order: the job's own (writable) scope
// first, then the read-only ones in token order, as GitHub searches the current branch
// before the base branch.
func readable(scopes []Scope) []string {
	var own, others []string
	for _, s := range scopes {
		switch {
		case s.Permission&PermissionWrite != 0 && s.Permission&PermissionRead != 0:
			own = append(own, s.Scope)
		case s.Permission&PermissionRead != 0:
			others = append(others, s.Scope)
		}
	}
	return append(own, others...)
}

// writable returns the scope new entries are stored under: the last writable one, the
// one BuildKit's exporter also picks for its index key.
func writable(scopes []Scope) (string, bool) {
	scope, ok := "", false
	for _, s := range scopes {
		if s.Permission&PermissionWrite != 0 {
			scope, ok = s.Scope, true
		}
	}
	return scope, ok
}
