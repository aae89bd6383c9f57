package client

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/natsctl/natsctl/internal/natsservertest"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAuthUserPasswordAndToken(t *testing.T) {
	ctx := context.Background()
	p := natsservertest.Start(t, "--user", "alice", "--pass", "s3cret")
	host := strings.TrimPrefix(p.ClientURL, "nats://")
	connect(t, p.ClientURL, func(o *Options) { o.User, o.Password = "alice", "s3cret" })
	connect(t, "nats://alice:s3cret@"+host)
	_, err := Connect(ctx, Options{Servers: []string{p.ClientURL}, User: "alice", Password: "wrong"})
	mustErr(t, err, ErrAuthorization)

	tp := natsservertest.Start(t, "--auth", "tok3n")
	connect(t, tp.ClientURL, func(o *Options) { o.Token = "tok3n" })
	connect(t, "nats://tok3n@"+strings.TrimPrefix(tp.ClientURL, "nats://"))
	_, err = Connect(ctx, Options{Servers: []string{tp.ClientURL}, Token: "nope"})
	mustErr(t, err, ErrAuthorization)
}

func TestAuthNkey(t *testing.T) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	conf := writeFile(t, "nkey.conf", fmt.Sprintf("authorization { users = [ { nkey: %q } ] }\n", pub))
	p := natsservertest.Start(t, "-c", conf)
	c := connect(t, p.ClientURL, func(o *Options) { o.NkeySeedFile = writeFile(t, "user.nk", string(seed)+"\n") })
	flush(t, c)

	other, _ := nkeys.CreateUser()
	otherSeed, _ := other.Seed()
	_, err = Connect(context.Background(), Options{Servers: []string{p.ClientURL}, NkeySeedFile: writeFile(t, "other.nk", string(otherSeed))})
	mustErr(t, err, ErrAuthorization)
}

// TestCredsSigning checks the CONNECT fields a .creds file produces: the
// JWT as it is, and the nonce signed by the seed.
func TestCredsSigning(t *testing.T) {
	kp, _ := nkeys.CreateUser()
	seed, _ := kp.Seed()
	jwt := "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJzdWIiOiJVIn0.c2ln"
	creds := fmt.Sprintf(`-----BEGIN NATS USER JWT-----
%s
------END NATS USER JWT------

************************* IMPORTANT *************************
NKEY Seed printed below can be used to sign and prove identity.

-----BEGIN USER NKEY SEED-----
%s
------END USER NKEY SEED------
`, jwt, seed)
	var ci connectInfo
	if err := (signer{credsFile: writeFile(t, "u.creds", creds)}).sign(&ci, "nonce-123"); err != nil {
		t.Fatal(err)
	}
	if ci.JWT != jwt {
		t.Fatalf("jwt %q", ci.JWT)
	}
	sig, err := base64.RawURLEncoding.DecodeString(ci.Sig)
	if err != nil {
		t.Fatal(err)
	}
	if err := kp.Verify([]byte("nonce-123"), sig); err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	for _, bad := range []string{"garbage", "-----BEGIN NATS USER JWT-----\nabc.def.ghi\n------END NATS USER JWT------\n"} {
		if err := (signer{credsFile: writeFile(t, "bad.creds", bad)}).check(); err == nil {
			t.Errorf("creds %q accepted", bad)
		}
	}
}

// tlsFiles writes a CA and a server certificate for 127.0.0.1 and
// localhost, signed by it.
func tlsFiles(t *testing.T) (caFile, certFile, keyFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	srvKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	srv := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srv, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(srvKey)
	caFile = writeFile(t, "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})))
	certFile = writeFile(t, "server.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER})))
	keyFile = writeFile(t, "server-key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})))
	return caFile, certFile, keyFile
}

func TestTLS(t *testing.T) {
	caFile, certFile, keyFile := tlsFiles(t)
	p := natsservertest.Start(t, "--tls", "--tlscert", certFile, "--tlskey", keyFile)
	tlsURL := strings.Replace(p.ClientURL, "nats://", "tls://", 1)
	c := connect(t, tlsURL, func(o *Options) { o.TLSCAFile = caFile })
	s, err := c.SubscribeSync("t")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Publish("t", []byte("over tls")); err != nil {
		t.Fatal(err)
	}
	if m, err := s.NextMsg(5 * time.Second); err != nil || string(m.Data) != "over tls" {
		t.Fatalf("%v %v", m, err)
	}
	// The server requires TLS: a nats:// URL with a CA upgrades too.
	connect(t, p.ClientURL, func(o *Options) { o.TLSCAFile = caFile; o.TLSServerName = "localhost" })

	ctx := context.Background()
	_, err = Connect(ctx, Options{Servers: []string{tlsURL}, TLSCAFile: caFile, TLSServerName: "wrong.example"})
	var hostErr x509.HostnameError
	if !errors.As(err, &hostErr) {
		t.Fatalf("wrong server name: %v", err)
	}
	_, err = Connect(ctx, Options{Servers: []string{tlsURL}}) // system roots do not know our CA
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("unknown CA: %v", err)
	}
	if _, err := Connect(ctx, Options{Servers: []string{tlsURL}, TLSCAFile: keyFile}); err == nil || !strings.Contains(err.Error(), "no PEM certificates") {
		t.Fatalf("bad CA file: %v", err)
	}
}
