package client

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/natsservertest"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

// serverKind is one implementation the client is tested against: the
// reference nats-server and our own.
type serverKind struct {
	name  string
	start func(t testing.TB) string // returns the client URL
}

var serverKinds = []serverKind{
	{"nats-server", func(t testing.TB) string { return natsservertest.Start(t).ClientURL }},
	{"natsctl", func(t testing.TB) string { return servertest.Run(t).ClientURL() }},
}

// eachServer runs f as a subtest against every server kind.
func eachServer(t *testing.T, f func(t *testing.T, url string)) {
	for _, k := range serverKinds {
		t.Run(k.name, func(t *testing.T) {
			f(t, k.start(t))
		})
	}
}

// connect connects with test-friendly defaults and closes at the end.
func connect(t testing.TB, url string, mods ...func(*Options)) *Conn {
	t.Helper()
	o := Options{Servers: []string{url}, ReconnectWait: 20 * time.Millisecond, ReconnectJitter: 10 * time.Millisecond}
	for _, m := range mods {
		m(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Connect(ctx, o)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(c.Close)
	return c
}

func flush(t testing.TB, c *Conn) {
	t.Helper()
	if err := c.FlushTimeout(5 * time.Second); err != nil {
		t.Fatalf("flush: %v", err)
	}
}

// waitFor polls cond until it holds or 10s pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition with a deadline
	}
}

// recv takes one value from ch or fails after 10s.
func recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

func mustErr(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}
