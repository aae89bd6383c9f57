package streaming

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natsctl/natsctl/internal/natsservertest"
	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

// runEngine starts a server with an engine on a temporary store directory.
func runEngine(t testing.TB, cfg Config) (*server.Server, *Engine) {
	t.Helper()
	if cfg.StoreDir == "" {
		cfg.StoreDir = t.TempDir()
	}
	e := New(cfg)
	s := servertest.Run(t, func(o *server.Options) { o.Engine = e })
	return s, e
}

// connectJS connects nats.go to s and returns its jetstream API.
func connectJS(t testing.TB, s *server.Server) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	return connectURLJS(t, s.ClientURL())
}

// natsServerJS starts the reference nats-server (v2.15.2) with JetStream
// on a temporary store and connects nats.go to it.
func natsServerJS(t testing.TB) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	return connectURLJS(t, natsservertest.Start(t, "-js", "-sd", t.TempDir()).ClientURL)
}

func connectURLJS(t testing.TB, url string, opts ...nats.Option) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url, append([]nats.Option{nats.Timeout(5 * time.Second)}, opts...)...)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	return nc, js
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustCreate(t testing.TB, js jetstream.JetStream, cfg jetstream.StreamConfig) jetstream.Stream {
	t.Helper()
	st, err := js.CreateStream(ctxT(t), cfg)
	if err != nil {
		t.Fatalf("create stream %s: %v", cfg.Name, err)
	}
	return st
}
