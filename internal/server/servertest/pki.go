package servertest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/server"
)

// PKI is a test CA with a server certificate (127.0.0.1, localhost) and two
// client certificates, as PEM files in a temporary directory.
type PKI struct {
	dir                 string
	CA, Cert, Key       string         // CA certificate; server certificate and key
	ClientCert, ClientK string         // CN=alice,O=Acme, e-mail alice@example.com
	OtherCert, OtherK   string         // CN=mallory, signed by the same CA
	RogueCert, RogueK   string         // CN=alice, self-signed: not trusted
	Pool                *x509.CertPool // trusts CA
}

func NewPKI(t testing.TB) *PKI {
	t.Helper()
	p := &PKI{dir: t.TempDir(), Pool: x509.NewCertPool()}
	caKey, caCert := p.issue(t, "ca", &x509.Certificate{
		Subject: pkix.Name{CommonName: "natsctl test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}, nil, nil)
	p.CA = filepath.Join(p.dir, "ca.pem")
	p.Pool.AddCert(caCert)
	p.issue(t, "server", &x509.Certificate{
		Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	}, caCert, caKey)
	p.Cert, p.Key = filepath.Join(p.dir, "server.pem"), filepath.Join(p.dir, "server-key.pem")
	client := func(name string, cn string, emails []string, parent *x509.Certificate, key *ecdsa.PrivateKey) (string, string) {
		p.issue(t, name, &x509.Certificate{
			Subject: pkix.Name{CommonName: cn, Organization: []string{"Acme"}}, EmailAddresses: emails,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
		}, parent, key)
		return filepath.Join(p.dir, name+".pem"), filepath.Join(p.dir, name+"-key.pem")
	}
	p.ClientCert, p.ClientK = client("alice", "alice", []string{"alice@example.com"}, caCert, caKey)
	p.OtherCert, p.OtherK = client("mallory", "mallory", nil, caCert, caKey)
	p.RogueCert, p.RogueK = client("rogue", "alice", []string{"alice@example.com"}, nil, nil)
	return p
}

// issue creates a key and a certificate from tmpl signed by parent (self-signed
// when nil) and writes NAME.pem and NAME-key.pem.
func (p *PKI) issue(t testing.TB, name string, tmpl *x509.Certificate, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*ecdsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl.SerialNumber = serial
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	kb, _ := x509.MarshalECPrivateKey(key)
	write := func(file, typ string, b []byte) {
		if err := os.WriteFile(filepath.Join(p.dir, file), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(name+".pem", "CERTIFICATE", der)
	write(name+"-key.pem", "EC PRIVATE KEY", kb)
	return key, cert
}

// ClientConfig trusts the test CA and presents certFile/keyFile when given.
func (p *PKI) ClientConfig(t testing.TB, certFile, keyFile string) *tls.Config {
	t.Helper()
	cfg := &tls.Config{RootCAs: p.Pool, ServerName: "localhost"}
	if certFile != "" {
		c, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	return cfg
}

// ServerConf is the nats-server tls block (extra goes inside it) for these files.
func (p *PKI) ServerConf(extra string) string {
	return fmt.Sprintf("tls {\n  cert_file: %q\n  key_file: %q\n  ca_file: %q\n  %s\n}\n", p.Cert, p.Key, p.CA, extra)
}

// Options points o at the server certificate, key and CA.
func (p *PKI) Options(o *server.Options) {
	o.TLS.CertFile, o.TLS.KeyFile, o.TLS.CAFile = p.Cert, p.Key, p.CA
}
