package buildkit_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/testing/testenv"
)

// TestConnectTLS starts a buildkitd that listens on tcp:// with mutual TLS
// and checks that Connect reaches it with the right files and refuses
// without them.
func TestConnectTLS(t *testing.T) {
	bin, _ := testenv.FreshSetup(t)
	dir := t.TempDir()
	ca, caKey := newCert(t, dir, "ca", nil, nil)
	newCert(t, dir, "server", ca, caKey)
	newCert(t, dir, "client", ca, caKey)
	newCert(t, dir, "other-ca", nil, nil)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "tcp://" + ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p := func(name string) string { return filepath.Join(dir, name) }
	testenv.StartBuildkitd(ctx, t, bin, "--addr", addr,
		"--tlscacert", p("ca.pem"), "--tlscert", p("server.pem"), "--tlskey", p("server-key.pem"))

	tests := []struct {
		name    string
		tls     buildkit.TLS
		wantErr string
	}{
		{name: "mutual TLS", tls: buildkit.TLS{CA: p("ca.pem"), Cert: p("client.pem"), Key: p("client-key.pem")}},
		{name: "no client certificate", tls: buildkit.TLS{CA: p("ca.pem")}, wantErr: "BuildKit is unreachable"},
		{name: "server signed by another CA", tls: buildkit.TLS{CA: p("other-ca.pem"), Cert: p("client.pem"), Key: p("client-key.pem")}, wantErr: "BuildKit is unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := buildkit.Connect(ctx, addr, tt.tls)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.ListWorkers(ctx); err != nil {
				t.Fatalf("listing workers over TLS: %v", err)
			}
		})
	}
}

// newCert writes name.pem and name-key.pem: a CA when parent is nil, else
// a certificate for 127.0.0.1 signed by parent, usable by server and client.
func newCert(t *testing.T, dir, name string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	signer, signerKey := tmpl, key
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	} else {
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		signer, signerKey = parent, parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(file, typ string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, file), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(name+".pem", "CERTIFICATE", der)
	write(name+"-key.pem", "EC PRIVATE KEY", keyDER)
	return cert, key
}
