package links

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

var t0 = time.Unix(1_800_000_000, 0)

func testKey() []byte { return bytes.Repeat([]byte{7}, MinKeyBytes) }

func newSigner(t testing.TB, now *time.Time) *Signer {
	t.Helper()
	s, err := NewSigner(testKey(), func() time.Time { return *now })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewSignerKeyLength(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 16, MinKeyBytes - 1} {
		_, err := NewSigner(make([]byte, n), nil)
		if err == nil {
			t.Errorf("%d-byte key accepted", n)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("error spans lines: %q", err)
		}
	}
	if _, err := NewSigner(make([]byte, MinKeyBytes), nil); err != nil {
		t.Errorf("%d-byte key refused: %v", MinKeyBytes, err)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	now := t0
	s := newSigner(t, &now)
	other, err := NewSigner(bytes.Repeat([]byte{8}, MinKeyBytes), func() time.Time { return t0 })
	if err != nil {
		t.Fatal(err)
	}
	valid := s.Sign(42, time.Hour)
	with := func(k, v string) url.Values {
		q := url.Values{}
		for kk, vv := range valid {
			q[kk] = append([]string(nil), vv...)
		}
		if v == "\x00delete" {
			delete(q, k)
		} else {
			q.Set(k, v)
		}
		return q
	}
	sig := valid.Get(ParamSig)
	exp, _ := strconv.ParseInt(valid.Get(ParamExpires), 10, 64)
	flipped := []byte(sig)
	flipped[0] ^= 'A' ^ 'B'
	if flipped[0] == sig[0] {
		t.Fatal("flip did nothing")
	}
	rawSig, _ := base64.RawURLEncoding.DecodeString(sig)
	tests := []struct {
		name   string
		repoID int64
		q      url.Values
		at     time.Time
		want   bool
	}{
		{"valid", 42, valid, t0, true},
		{"valid until the last second", 42, valid, time.Unix(exp-1, 999_999_999), true},
		{"expired at exp", 42, valid, time.Unix(exp, 0), false},
		{"expired later", 42, valid, t0.Add(2 * time.Hour), false},
		{"other repository", 43, valid, t0, false},
		{"negative repository id", -42, valid, t0, false},
		{"other key", 42, other.Sign(42, time.Hour), t0, false},
		{"missing signature", 42, with(ParamSig, "\x00delete"), t0, false},
		{"missing expiry", 42, with(ParamExpires, "\x00delete"), t0, false},
		{"empty query", 42, url.Values{}, t0, false},
		{"nil query", 42, nil, t0, false},
		{"tampered signature", 42, with(ParamSig, string(flipped)), t0, false},
		{"padded signature", 42, with(ParamSig, sig+"="), t0, false},
		{"standard base64 signature", 42, with(ParamSig, base64.StdEncoding.EncodeToString(rawSig)), t0, false},
		{"truncated signature", 42, with(ParamSig, sig[:len(sig)-1]), t0, false},
		{"extended expiry", 42, with(ParamExpires, strconv.FormatInt(exp+3600, 10)), t0, false},
		{"leading zero expiry", 42, with(ParamExpires, "0"+valid.Get(ParamExpires)), t0, false},
		{"signed expiry", 42, with(ParamExpires, "+"+valid.Get(ParamExpires)), t0, false},
		{"non-numeric expiry", 42, with(ParamExpires, "soon"), t0, false},
		{"overflowing expiry", 42, with(ParamExpires, "99999999999999999999"), t0, false},
		{"repeated signature", 42, url.Values{ParamExpires: valid[ParamExpires], ParamSig: {sig, sig}}, t0, false},
		{"repeated expiry", 42, url.Values{ParamExpires: {valid.Get(ParamExpires), valid.Get(ParamExpires)}, ParamSig: {sig}}, t0, false},
		{"other parameters are ignored", 42, url.Values{ParamExpires: valid[ParamExpires], ParamSig: {sig}, "stage": {"build"}}, t0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			at := tc.at
			v := &Signer{key: testKey(), now: func() time.Time { return at }}
			if got := v.Verify(tc.repoID, tc.q); got != tc.want {
				t.Errorf("Verify(%d, %v) at %v = %v, want %v", tc.repoID, tc.q, tc.at.Unix(), got, tc.want)
			}
		})
	}
}

// TestExpiryBeyondMaxTTL: a link whose expiry lies further ahead than any
// link this package signs is refused even when its signature is right (as
// it would be after a clock jump on the signing side, or a leaked key
// used to mint a forever-link).
func TestExpiryBeyondMaxTTL(t *testing.T) {
	t.Parallel()
	future := t0.Add(MaxTTL + time.Hour)
	minted := newSigner(t, &future).Sign(42, time.Hour)
	now := t0
	if newSigner(t, &now).Verify(42, minted) {
		t.Error("a link expiring beyond MaxTTL verified")
	}
	// Sign caps the lifetime, so its own links always pass.
	q := newSigner(t, &now).Sign(42, 10*MaxTTL)
	if exp, _ := strconv.ParseInt(q.Get(ParamExpires), 10, 64); exp != t0.Add(MaxTTL).Unix() {
		t.Errorf("exp = %d, want capped at %d", exp, t0.Add(MaxTTL).Unix())
	}
	if !newSigner(t, &now).Verify(42, q) {
		t.Error("a capped link did not verify")
	}
}

func TestSignZeroTTLIsExpired(t *testing.T) {
	t.Parallel()
	now := t0
	s := newSigner(t, &now)
	for _, ttl := range []time.Duration{0, -time.Hour, 500 * time.Millisecond} {
		if s.Verify(42, s.Sign(42, ttl)) {
			t.Errorf("ttl %v: link verified", ttl)
		}
	}
}

func TestNilSignerVerifiesNothing(t *testing.T) {
	t.Parallel()
	now := t0
	q := newSigner(t, &now).Sign(1, time.Hour)
	var s *Signer
	if s.Verify(1, q) {
		t.Error("nil signer verified a link")
	}
}

func TestDeriveKey(t *testing.T) {
	t.Parallel()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8PEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})

	links1, err := DeriveKey(rsaPEM, "links")
	if err != nil {
		t.Fatal(err)
	}
	links2, _ := DeriveKey(rsaPEM, "links")
	session, _ := DeriveKey(rsaPEM, "session")
	crlf, _ := DeriveKey(bytes.ReplaceAll(rsaPEM, []byte("\n"), []byte("\r\n")), "links")
	other, _ := DeriveKey(pkcs8PEM, "links")
	switch {
	case len(links1) != 32:
		t.Errorf("key is %d bytes", len(links1))
	case !bytes.Equal(links1, links2):
		t.Error("same key and purpose gave different keys")
	case !bytes.Equal(links1, crlf):
		t.Error("reformatting the PEM changed the key")
	case bytes.Equal(links1, session):
		t.Error("purposes share a key")
	case bytes.Equal(links1, other):
		t.Error("different private keys gave the same key")
	case bytes.Contains(rsaPEM, links1) || bytes.Contains(x509.MarshalPKCS1PrivateKey(rsaKey), links1):
		t.Error("derived key is part of the private key")
	}
	if _, err := NewSigner(links1, nil); err != nil {
		t.Errorf("derived key refused by NewSigner: %v", err)
	}

	bad := []struct {
		name, purpose string
		pem           []byte
	}{
		{"empty", "links", nil},
		{"not PEM", "links", []byte("ghp_secret")},
		{"public key", "links", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1}})},
		{"empty purpose", "", rsaPEM},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DeriveKey(tc.pem, tc.purpose)
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "ghp_secret") {
				t.Errorf("error = %q", err)
			}
		})
	}
}

// FuzzVerify feeds Verify arbitrary queries, starting from the corpus in
// testdata/fuzz/FuzzVerify and links signed here. It must not panic, and when it
// says yes the query must be exactly the one Sign gives for that expiry:
// one spelling per link, inside the allowed window.
func FuzzVerify(f *testing.F) {
	now := t0
	s := newSigner(f, &now)
	// More seeds, malformed ones, are in testdata/fuzz/FuzzVerify.
	valid := s.Sign(42, time.Hour).Encode()
	for _, q := range []string{valid, valid + "&exp=1", valid + "&sig=AAAA"} {
		f.Add(int64(42), q)
		f.Add(int64(43), q)
	}
	f.Fuzz(func(t *testing.T, repoID int64, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		if !s.Verify(repoID, q) {
			return
		}
		exp, err := strconv.ParseInt(q.Get(ParamExpires), 10, 64)
		if err != nil {
			t.Fatalf("verified a non-numeric expiry %q", q.Get(ParamExpires))
		}
		if exp <= now.Unix() || exp > now.Add(MaxTTL).Unix() {
			t.Fatalf("verified expiry %d outside (%d, %d]", exp, now.Unix(), now.Add(MaxTTL).Unix())
		}
		at := time.Unix(exp, 0).Add(-time.Hour)
		want := (&Signer{key: s.key, now: func() time.Time { return at }}).Sign(repoID, time.Hour)
		if q.Get(ParamExpires) != want.Get(ParamExpires) || q.Get(ParamSig) != want.Get(ParamSig) {
			t.Fatalf("verified %v, but Sign gives %v", q, want)
		}
	})
}
