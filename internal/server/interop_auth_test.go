package server_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"golang.org/x/crypto/bcrypt"

	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

// slowAuth keeps a loaded test machine from hitting the auth timeout.
func slowAuth(o *server.Options) { o.AuthTimeout = 20 * time.Second }

// roundTrip checks an authenticated nats.go connection works end to end.
func roundTrip(t *testing.T, nc *nats.Conn) {
	t.Helper()
	sub, err := nc.SubscribeSync("interop.auth")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish("interop.auth", []byte("ok")); err != nil {
		t.Fatal(err)
	}
	if m := nextMsg(t, sub); string(m.Data) != "ok" {
		t.Fatalf("got %q", m.Data)
	}
}

// connectFails checks nats.go is refused with nats-server's auth error.
func connectFails(t *testing.T, url string, opts ...nats.Option) {
	t.Helper()
	opts = append(opts, nats.NoReconnect(), nats.Timeout(5*time.Second))
	nc, err := nats.Connect(url, opts...)
	if err == nil {
		nc.Close()
		t.Fatal("connected with wrong credentials")
	}
	if !errors.Is(err, nats.ErrAuthorization) && !strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
		t.Fatalf("error %v, want an authorization violation", err)
	}
}

func TestInteropAuth_Token(t *testing.T) {
	s := servertest.Run(t, slowAuth, func(o *server.Options) { o.Auth.Token = "s3cr3t" })
	roundTrip(t, connect(t, s, nats.Token("s3cr3t")))
	connectFails(t, s.ClientURL(), nats.Token("wrong"))
	connectFails(t, s.ClientURL())
}

func TestInteropAuth_UserPassword(t *testing.T) {
	h, _ := bcrypt.GenerateFromPassword([]byte("hunter2"), bcrypt.MinCost)
	s := servertest.Run(t, slowAuth, func(o *server.Options) {
		o.Auth.Users = []server.User{{Username: "plain", Password: "pw"}, {Username: "hashed", Password: string(h)}}
	})
	roundTrip(t, connect(t, s, nats.UserInfo("plain", "pw")))
	roundTrip(t, connect(t, s, nats.UserInfo("hashed", "hunter2")))
	// Credentials in the URL, as scripts often pass them.
	nc, err := nats.Connect("nats://plain:pw@" + s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
	connectFails(t, s.ClientURL(), nats.UserInfo("plain", "PW"))
	connectFails(t, s.ClientURL(), nats.UserInfo("hashed", "hunter3"))
	connectFails(t, s.ClientURL(), nats.UserInfo("hashed", string(h)))
}

func TestInteropAuth_Nkey(t *testing.T) {
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	s := servertest.Run(t, slowAuth, func(o *server.Options) { o.Auth.Users = []server.User{{Nkey: pub}} })

	roundTrip(t, connect(t, s, nats.Nkey(pub, kp.Sign)))
	seedFile := filepath.Join(t.TempDir(), "user.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	opt, err := nats.NkeyOptionFromSeed(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, connect(t, s, opt))

	other, _ := nkeys.CreateUser()
	connectFails(t, s.ClientURL(), nats.Nkey(pub, other.Sign)) // wrong signature
	otherPub, _ := other.PublicKey()
	connectFails(t, s.ClientURL(), nats.Nkey(otherPub, other.Sign)) // unknown key
}

func TestInteropAuth_TLS(t *testing.T) {
	pki := newTestPKI(t)
	s := servertest.Run(t, slowAuth, pki.tlsOptions)
	url := "tls://" + s.Addr().String()
	roundTrip(t, connect(t, s, nats.RootCAs(pki.CA), nats.Secure(pki.clientConfig(t, "", ""))))
	nc, err := nats.Connect(url, nats.RootCAs(pki.CA))
	if err != nil {
		t.Fatal(err)
	}
	if !nc.TLSRequired() {
		t.Error("nats.go does not see tls_required")
	}
	nc.Close()
	// A client that does not trust the CA refuses the server.
	if nc, err := nats.Connect(url, nats.NoReconnect()); err == nil {
		nc.Close()
		t.Fatal("connected without trusting the server certificate")
	}
}

func TestInteropAuth_MutualTLS(t *testing.T) {
	pki := newTestPKI(t)
	s := servertest.Run(t, slowAuth, func(o *server.Options) { pki.tlsOptions(o); o.TLS.Verify = true })
	roundTrip(t, connect(t, s, nats.RootCAs(pki.CA), nats.ClientCert(pki.ClientCert, pki.ClientK)))
	nc, err := nats.Connect(s.ClientURL(), nats.RootCAs(pki.CA), nats.NoReconnect(), nats.Timeout(5*time.Second))
	if err == nil {
		nc.Close()
		t.Fatal("connected without a client certificate")
	}
	nc, err = nats.Connect(s.ClientURL(), nats.RootCAs(pki.CA), nats.ClientCert(pki.RogueCert, pki.RogueK), nats.NoReconnect(), nats.Timeout(5*time.Second))
	if err == nil {
		nc.Close()
		t.Fatal("connected with an untrusted client certificate")
	}
}

func TestInteropAuth_TLSFirst(t *testing.T) {
	pki := newTestPKI(t)
	s := servertest.Run(t, slowAuth, func(o *server.Options) { pki.tlsOptions(o); o.TLS.HandshakeFirst = true })
	roundTrip(t, connect(t, s, nats.RootCAs(pki.CA), nats.TLSHandshakeFirst()))
	// A client expecting INFO first gets nothing and times out.
	nc, err := nats.Connect(s.ClientURL(), nats.RootCAs(pki.CA), nats.NoReconnect(), nats.Timeout(500*time.Millisecond))
	if err == nil {
		nc.Close()
		t.Fatal("an INFO-first client connected to a handshake_first server")
	}
}

func TestInteropAuth_CertificateMappedUser(t *testing.T) {
	pki := newTestPKI(t)
	s := servertest.Run(t, slowAuth, func(o *server.Options) {
		pki.tlsOptions(o)
		o.TLS.VerifyAndMap = true
		o.Auth.Users = []server.User{{Username: "CN=alice,O=Acme", Permissions: &server.Permissions{
			Publish: &server.SubjectPermission{Allow: []string{"interop.>"}}}}}
	})
	roundTrip(t, connect(t, s, nats.RootCAs(pki.CA), nats.ClientCert(pki.ClientCert, pki.ClientK)))
	connectFails(t, s.ClientURL(), nats.RootCAs(pki.CA), nats.ClientCert(pki.OtherCert, pki.OtherK))
}

func TestInteropAuth_Permissions(t *testing.T) {
	s := servertest.Run(t, slowAuth, func(o *server.Options) {
		o.Auth.Users = []server.User{
			{Username: "client", Password: "c", Permissions: &server.Permissions{
				Publish:   &server.SubjectPermission{Allow: []string{"svc.*"}},
				Subscribe: &server.SubjectPermission{Allow: []string{"_INBOX.>"}},
			}},
			{Username: "svc", Password: "s", Permissions: &server.Permissions{
				Subscribe: &server.SubjectPermission{Allow: []string{"svc.*"}},
				Response:  &server.ResponsePermission{},
			}},
		}
	})
	errs := make(chan error, 10)
	onErr := nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err })
	svc := connect(t, s, nats.UserInfo("svc", "s"), onErr)
	if _, err := svc.Subscribe("svc.echo", func(m *nats.Msg) { m.Respond(m.Data) }); err != nil {
		t.Fatal(err)
	}
	svc.Flush()
	client := connect(t, s, nats.UserInfo("client", "c"), onErr)
	reply, err := client.Request("svc.echo", []byte("hi"), 5*time.Second)
	if err != nil || string(reply.Data) != "hi" {
		t.Fatalf("request through allow_responses: %v %v", reply, err)
	}
	// A denied publish is reported asynchronously; the connection stays up.
	client.Publish("other", []byte("x"))
	client.Flush()
	select {
	case err := <-errs:
		if !errors.Is(err, nats.ErrPermissionViolation) {
			t.Fatalf("async error %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no permissions violation reported")
	}
	if !client.IsConnected() {
		t.Fatal("connection closed after a permissions violation")
	}
	// The service cannot publish anywhere else.
	svc.Publish("svc.echo", []byte("loop"))
	svc.Flush()
	select {
	case err := <-errs:
		if !errors.Is(err, nats.ErrPermissionViolation) {
			t.Fatalf("async error %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no permissions violation reported to the service")
	}
}
