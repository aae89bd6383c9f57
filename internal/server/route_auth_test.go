package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

func clusteredWith(t *testing.T, f func(o *server.Options), seeds ...*server.Server) *server.Server {
	t.Helper()
	return servertest.Run(t, func(o *server.Options) {
		o.Cluster.Name, o.Cluster.Port = "c1", -1
		o.Cluster.ConnectWait, o.Cluster.ConnectMax = 10*time.Millisecond, 50*time.Millisecond
		for _, s := range seeds {
			o.Cluster.Routes = append(o.Cluster.Routes, routeURL(s))
		}
		f(o)
	})
}

func TestRoute_UserPassword(t *testing.T) {
	auth := func(o *server.Options) { o.Cluster.Username, o.Cluster.Password = "ru", "rp" }
	a := clusteredWith(t, auth)
	b := clusteredWith(t, auth, a) // sends its own credentials to the seed
	c := clusteredWith(t, auth, b) // and to servers learned by gossip
	waitMesh(t, a, b, c)

	bad := clusteredWith(t, func(o *server.Options) { o.Cluster.Username, o.Cluster.Password = "ru", "wrong" }, a)
	rc := dialRouteRaw(t, a)
	rc.send(`CONNECT {"name":"NX","cluster":"c1","user":"ru","pass":"nope"}` + "\r\n")
	if out := rc.expectClosed(); !strings.Contains(out, "Authorization Violation") {
		t.Fatalf("bad credentials: %q", out)
	}
	if a.NumRoutes() != 2 || bad.NumRoutes() != 0 {
		t.Fatalf("routes: a %d, bad %d", a.NumRoutes(), bad.NumRoutes())
	}
}

func TestRoute_TLS(t *testing.T) {
	ca, cert := testCerts(t)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	tlsOn := func(o *server.Options) {
		o.Cluster.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, ClientCAs: pool,
			ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
	}
	a := clusteredWith(t, tlsOn)
	b := clusteredWith(t, tlsOn, a)
	c := clusteredWith(t, tlsOn, b)
	waitMesh(t, a, b, c)
	sub := connect(t, c)
	s, _ := sub.SubscribeSync("over.tls")
	sub.Flush()
	waitFor(t, "interest over TLS", func() bool { return a.HasInterest("over.tls") })
	connect(t, a).Publish("over.tls", []byte("x"))
	if _, err := s.NextMsg(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	// A plain-TCP peer never gets a route.
	plain := clusteredWith(t, func(*server.Options) {}, a)
	rc, err := net.Dial("tcp", a.ClusterAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	rc.Write([]byte(`CONNECT {"name":"NX","cluster":"c1"}` + "\r\n"))
	rc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var got []byte
	buf := make([]byte, 100)
	for {
		n, err := rc.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break // closed by the TLS handshake failure
		}
	}
	rc.Close()
	if strings.Contains(string(got), "INFO") {
		t.Fatalf("a TLS route listener spoke plain text: %q", got)
	}
	if plain.NumRoutes() != 0 || a.NumRoutes() != 2 {
		t.Fatalf("routes: plain %d, a %d", plain.NumRoutes(), a.NumRoutes())
	}
}

func TestRoute_MaxRoutes(t *testing.T) {
	a := clusteredWith(t, func(o *server.Options) { o.Cluster.MaxRoutes = 1 })
	b := clusteredWith(t, func(*server.Options) {}, a)
	waitMesh(t, a, b)
	rc, err := net.Dial("tcp", a.ClusterAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	rc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 200)
	n, _ := rc.Read(buf)
	if !strings.Contains(string(buf[:n]), "maximum routes exceeded") {
		t.Fatalf("over max_routes: %q", buf[:n])
	}
	if a.NumRoutes() != 1 {
		t.Fatalf("a has %d routes", a.NumRoutes())
	}
}

// testCerts returns a CA and a certificate it signed for 127.0.0.1.
func testCerts(t *testing.T) (*x509.Certificate, tls.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "route"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return ca, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
