package links

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Query parameters a signed link carries.
const (
	ParamExpires = "exp" // expiry, unix seconds
	ParamSig     = "sig" // HMAC-SHA256, base64url without padding
)

// MaxTTL is the longest a link lives. Sign shortens longer lifetimes, and
// Verify refuses an expiry further ahead, which no link this package signed
// can have (whatever the key).
const MaxTTL = 90 * 24 * time.Hour

// MinKeyBytes is the shortest key NewSigner accepts.
const MinKeyBytes = 32

// version starts every signed message, so a later format cannot be
// mistaken for this one.
const version = "stageline-link-v1\x00"

// Signer signs and verifies links. It is safe for concurrent use.
type Signer struct {
	key []byte
	now func() time.Time
}

// NewSigner returns a Signer keyed with key, which must hold at least
// MinKeyBytes bytes. now is the clock (nil: time.Now).
func NewSigner(key []byte, now func() time.Time) (*Signer, error) {
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("link signing key is %d bytes, want at least %d (set LINK_SECRET to a longer random value, e.g. openssl rand -hex 32)", len(key), MinKeyBytes)
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{key: append([]byte(nil), key...), now: now}, nil
}

// DeriveKey derives a 32-byte key from the App's private key with
// HKDF-SHA256, one per purpose (say "links" or "session"): the App then
// needs no extra secret, and keys for different purposes are unrelated.
// The key is taken from the decoded PEM block, so reformatting the file
// does not change it; rotating the App's private key does (links signed
// before stop working, sessions end).
func DeriveKey(appPrivateKeyPEM []byte, purpose string) ([]byte, error) {
	if purpose == "" {
		return nil, errors.New("deriving a key: empty purpose")
	}
	block, _ := pem.Decode(appPrivateKeyPEM)
	if block == nil || !strings.HasSuffix(block.Type, "PRIVATE KEY") || len(block.Bytes) == 0 {
		return nil, errors.New("deriving a key: the App's private key is not a PEM private key (expected -----BEGIN RSA PRIVATE KEY-----)")
	}
	key, err := hkdf.Key(sha256.New, block.Bytes, []byte("stageline"), "stageline "+purpose, 32)
	if err != nil {
		return nil, fmt.Errorf("deriving the %s key: %w", purpose, err)
	}
	return key, nil
}

// Sign returns the query parameters of a link to repository repoID that
// expires ttl from now. ttl is capped at MaxTTL; a ttl under one second
// gives a link that is already expired.
func (s *Signer) Sign(repoID int64, ttl time.Duration) url.Values {
	ttl = min(ttl, MaxTTL)
	exp := s.now().Add(ttl).Unix()
	return url.Values{
		ParamExpires: {strconv.FormatInt(exp, 10)},
		ParamSig:     {base64.RawURLEncoding.EncodeToString(s.mac(repoID, exp))},
	}
}

// Verify reports whether q holds a valid, unexpired signature for
// repository repoID. Missing, repeated, malformed, tampered and expired
// parameters, a signature for another repository, and an expiry further
// than MaxTTL ahead all give false.
func (s *Signer) Verify(repoID int64, q url.Values) bool {
	if s == nil || len(q[ParamExpires]) != 1 || len(q[ParamSig]) != 1 {
		return false
	}
	exp, ok := parseExp(q[ParamExpires][0])
	if !ok {
		return false
	}
	now := s.now()
	if exp <= now.Unix() || exp > now.Add(MaxTTL).Unix() {
		return false
	}
	raw := q[ParamSig][0]
	if len(raw) != base64.RawURLEncoding.EncodedLen(sha256.Size) {
		return false
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(raw)
	if err != nil {
		return false
	}
	return hmac.Equal(sig, s.mac(repoID, exp))
}

// parseExp accepts plain decimal digits only: no sign, no spaces, so one
// expiry has exactly one spelling.
func parseExp(s string) (int64, bool) {
	if s == "" || len(s) > 19 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

func (s *Signer) mac(repoID, exp int64) []byte {
	msg := make([]byte, 0, len(version)+16)
	msg = append(msg, version...)
	msg = binary.BigEndian.AppendUint64(msg, uint64(repoID))
	msg = binary.BigEndian.AppendUint64(msg, uint64(exp))
	m := hmac.New(sha256.New, s.key)
	m.Write(msg)
	return m.Sum(nil)
}
