package client

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/natsservertest"
	natsserver "github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

// tlsFirstOpts points a client at the test CA and turns TLS-first on.
func tlsFirstOpts(pki *servertest.PKI) func(*Options) {
	return func(o *Options) { o.TLSCAFile, o.TLSHandshakeFirst = pki.CA, true }
}

// roundTrip publishes on a fresh subject and expects it back on c.
func roundTrip(t *testing.T, c *Conn, subj string) {
	t.Helper()
	s, err := c.SubscribeSync(subj)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(subj, []byte("over tls first")); err != nil {
		t.Fatal(err)
	}
	if m, err := s.NextMsg(5 * time.Second); err != nil || string(m.Data) != "over tls first" {
		t.Fatalf("round trip on %s: %v %v", subj, m, err)
	}
}

// TestTLSFirst_Natsctl: our server configured for TLS first accepts a
// TLS-first client, and the client keeps doing TLS first when it reconnects
// (to the second server of its list once the first is gone).
func TestTLSFirst_Natsctl(t *testing.T) {
	pki := servertest.NewPKI(t)
	first := func(o *natsserver.Options) { pki.Options(o); o.TLS.HandshakeFirst = true }
	a, b := servertest.Run(t, first), servertest.Run(t, first)
	reconnected := make(chan string, 1)
	c := connect(t, a.ClientURL()+","+b.ClientURL(), tlsFirstOpts(pki), func(o *Options) {
		o.NoRandomize = true
		o.ReconnectedHandler = func(c *Conn) { reconnected <- c.ConnectedURL() }
	})
	if got := c.ConnectedURL(); got != a.ClientURL() {
		t.Fatalf("connected to %s, want %s", got, a.ClientURL())
	}
	if !c.ServerInfo().TLSRequired {
		t.Fatalf("INFO %+v: want tls_required", c.ServerInfo())
	}
	roundTrip(t, c, "first.a")
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if url := recv(t, reconnected, "reconnect"); url != b.ClientURL() {
		t.Fatalf("reconnected to %s, want %s", url, b.ClientURL())
	}
	roundTrip(t, c, "first.b")
}

// TestTLSFirst_NatsServer: the same against nats-server with
// tls { handshake_first: true }, reconnecting to it after a restart on the
// same port.
func TestTLSFirst_NatsServer(t *testing.T) {
	pki := servertest.NewPKI(t)
	conf := filepath.Join(t.TempDir(), "tlsfirst.conf")
	if err := os.WriteFile(conf, []byte(pki.ServerConf("handshake_first: true")), 0o600); err != nil {
		t.Fatal(err)
	}
	p := natsservertest.Start(t, "-c", conf)
	url := "nats://" + hostPort(p.ClientURL)
	reconnected := make(chan struct{}, 1)
	c := connect(t, url, tlsFirstOpts(pki), func(o *Options) {
		o.MaxReconnects = -1
		o.ReconnectedHandler = func(*Conn) { reconnected <- struct{}{} }
	})
	roundTrip(t, c, "first.before")
	p.Stop()
	natsservertest.StartOnPort(t, p.Port(), "-c", conf)
	recv(t, reconnected, "reconnect")
	roundTrip(t, c, "first.after")
	if n := c.Stats().Reconnects; n != 1 {
		t.Fatalf("reconnects %d", n)
	}
}

// hostPort strips the scheme: nats-server reports tls:// when TLS is on.
func hostPort(u string) string {
	_, hp, _ := strings.Cut(u, "://")
	return hp
}

// TestTLSFirst_PlainInfoServerFails: a server that sends INFO in plain text
// (without TLS, or with TLS after INFO) makes a TLS-first connect fail at
// once with ErrTLSFirstRefused, well before the connect timeout.
func TestTLSFirst_PlainInfoServerFails(t *testing.T) {
	pki := servertest.NewPKI(t)
	conf := filepath.Join(t.TempDir(), "tls.conf")
	if err := os.WriteFile(conf, []byte(pki.ServerConf("")), 0o600); err != nil {
		t.Fatal(err)
	}
	servers := []struct {
		name  string
		start func(t *testing.T) string
	}{
		{"natsctl plain", func(t *testing.T) string { return servertest.Run(t).ClientURL() }},
		{"natsctl TLS after INFO", func(t *testing.T) string { return servertest.Run(t, pki.Options).ClientURL() }},
		{"nats-server plain", func(t *testing.T) string { return natsservertest.Start(t).ClientURL }},
		{"nats-server TLS after INFO", func(t *testing.T) string {
			return "nats://" + hostPort(natsservertest.Start(t, "-c", conf).ClientURL)
		}},
	}
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			url := s.start(t)
			// A long timeout: the failure must come from the server's
			// plain text, not from the deadline.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			done := make(chan error, 1)
			go func() {
				c, err := Connect(ctx, Options{Servers: []string{url}, TLSCAFile: pki.CA, TLSHandshakeFirst: true, Timeout: time.Minute})
				if err == nil {
					c.Close()
				}
				done <- err
			}()
			err := recv(t, done, "connect result")
			if !errors.Is(err, ErrTLSFirstRefused) {
				t.Fatalf("err = %v, want ErrTLSFirstRefused", err)
			}
			if ctx.Err() != nil {
				t.Fatalf("failed by the deadline: %v", err)
			}
		})
	}
}

// TestTLSFirst_ServerWaitsForPlainClient: a plain client at a TLS-first
// server gets no INFO; the connect fails at its timeout, saying so.
func TestTLSFirst_ServerWaitsForPlainClient(t *testing.T) {
	pki := servertest.NewPKI(t)
	s := servertest.Run(t, func(o *natsserver.Options) {
		pki.Options(o)
		o.TLS.HandshakeFirst, o.TLS.Timeout = true, time.Minute
	})
	_, err := Connect(context.Background(), Options{Servers: []string{s.ClientURL()}, TLSCAFile: pki.CA, Timeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrNoInfo) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("err = %v, want ErrNoInfo by the deadline", err)
	}
}
