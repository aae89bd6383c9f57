package main

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natsctl/natsctl/internal/iostreams"
	"github.com/natsctl/natsctl/internal/server"
)

func TestServeReload_ConfigFileRemovesUser(t *testing.T) {
	conf := writeFile(t, "reload.conf", `
port: -1
http_port: 0
authorization { timeout: 20s }
accounts { A: { users: [{user: a, password: pa}, {user: gone, password: pg}] } }
`)
	ios, _, _, _ := iostreams.Test()
	var so *serveOptions
	cmd := newServeCmd(&deps{IO: ios}, func(_ context.Context, o *serveOptions) error { so = o; return nil })
	cmd.SetArgs([]string{"--config", conf})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if so.getenv == nil {
		so.getenv = func(string) string { return "" }
	}
	cfg, err := loadServeConfig(so.flags, so.configFile, so.getenv)
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(cfg.Options)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	keep, err := nats.Connect(s.ClientURL(), nats.UserInfo("a", "pa"))
	if err != nil {
		t.Fatal(err)
	}
	defer keep.Close()
	gone, err := nats.Connect(s.ClientURL(), nats.UserInfo("gone", "pg"), nats.NoReconnect())
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	gone.SetClosedHandler(func(*nats.Conn) { close(closed) })

	// A broken file changes nothing.
	if err := os.WriteFile(conf, []byte("accounts { A: { colour: red } }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reloadServe(s, so, slog.New(slog.DiscardHandler))
	if err := gone.Flush(); err != nil {
		t.Fatalf("a failed reload closed a connection: %v", err)
	}
	if err := os.WriteFile(conf, []byte("port: -1\nhttp_port: 0\naccounts { A: { users: [{user: a, password: pa}] } }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reloadServe(s, so, slog.New(slog.DiscardHandler))
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("removed user still connected after reload")
	}
	if err := keep.Flush(); err != nil {
		t.Fatalf("kept user: %v", err)
	}
}
