// Package servertest starts an in-process server on 127.0.0.1:0 for tests and
// shuts it down when the test ends.
package servertest

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/server"
)

// Run starts a server with opts applied over the defaults (random port) and
// registers its shutdown with t.Cleanup. Set NATSCTL_TEST_LOG=1 to see its log.
func Run(t testing.TB, opts ...func(*server.Options)) *server.Server {
	t.Helper()
	o := server.Options{Host: "127.0.0.1", Port: -1}
	if os.Getenv("NATSCTL_TEST_LOG") != "" {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	for _, f := range opts {
		f(&o)
	}
	s, err := server.New(o)
	if err != nil {
		t.Fatalf("servertest: %v", err)
	}
	if err := s.Start(); err != nil {
		t.Fatalf("servertest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("servertest: shutdown: %v", err)
		}
	})
	return s
}

// Monitoring turns the monitoring HTTP listener on, on a random port (it is
// off by default in tests): servertest.Run(t, servertest.Monitoring), then
// s.MonitorURL().
func Monitoring(o *server.Options) { o.HTTPPort = -1 }
