//go:build unix

package main

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestServeBinary_ReloadAddsAccountStreams: an account added to the
// config file and reloaded with SIGHUP had no JetStream API until a
// restart. Now its user can create streams at once, apart from the other
// account's; removing the account by reload closes its user and keeps its
// streams for when it comes back; a restart recovers them.
func TestServeBinary_ReloadAddsAccountStreams(t *testing.T) {
	const (
		accA = "authorization { timeout: 20s }\naccounts {\n  A: { users: [{user: a, password: pa}] }\n"
		accB = "  B: { users: [{user: b, password: pb}] }\n"
	)
	store := t.TempDir()
	conf := writeFile(t, "streams.conf", accA+"}\n")
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	connect := func(url, user, pass string, opts ...nats.Option) (*nats.Conn, jetstream.JetStream) {
		t.Helper()
		nc, err := nats.Connect(url, append([]nats.Option{nats.UserInfo(user, pass)}, opts...)...)
		if err != nil {
			t.Fatalf("connect as %s: %v", user, err)
		}
		t.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		return nc, js
	}
	// waitUser waits until user can log in: the reload that adds it is
	// done (its account's streams start before its users are accepted).
	waitUser := func(url, user, pass string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			nc, err := nats.Connect(url, nats.UserInfo(user, pass))
			if err == nil {
				nc.Close()
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s cannot log in after the reload: %v", user, err)
			}
			time.Sleep(20 * time.Millisecond) // polling for the signal's effect
		}
	}
	msgs := func(js jetstream.JetStream, name string) uint64 {
		t.Helper()
		st, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatalf("stream %s: %v", name, err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Msgs
	}
	publish := func(js jetstream.JetStream, n int) {
		t.Helper()
		for range n {
			if _, err := js.Publish(ctx, "orders.1", []byte("x")); err != nil {
				t.Fatal(err)
			}
		}
	}
	ordersCfg := jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}}

	p := startServe(t, "--config", conf, "--store_dir", store)
	_, ja := connect(p.url, "a", "pa")
	if _, err := ja.CreateStream(ctx, ordersCfg); err != nil {
		t.Fatal(err)
	}
	publish(ja, 1)

	write(accA + accB + "}\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitUser(p.url, "b", "pb")
	nb, jb := connect(p.url, "b", "pb", nats.NoReconnect())
	if _, err := jb.AccountInfo(ctx); err != nil {
		t.Fatalf("B's JetStream API after the reload: %v", err)
	}
	if _, err := jb.Stream(ctx, "ORDERS"); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("B sees A's stream: %v", err)
	}
	if _, err := jb.CreateStream(ctx, ordersCfg); err != nil {
		t.Fatalf("B's stream after the reload: %v", err)
	}
	publish(jb, 2)
	if a, b := msgs(ja, "ORDERS"), msgs(jb, "ORDERS"); a != 1 || b != 2 {
		t.Fatalf("A's ORDERS has %d messages, B's %d; want 1 and 2", a, b)
	}

	// B removed: its user is closed; B back: its stream is there.
	closed := make(chan struct{})
	nb.SetClosedHandler(func(*nats.Conn) { close(closed) })
	write(accA + "}\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("B's user still connected after B was removed")
	}
	write(accA + accB + "}\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitUser(p.url, "b", "pb")
	_, jb = connect(p.url, "b", "pb")
	if n := msgs(jb, "ORDERS"); n != 2 {
		t.Fatalf("B's ORDERS has %d messages after B came back, want 2", n)
	}

	// A restart recovers B's stream.
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatal("natsctl serve did not exit after SIGTERM")
	}
	p = startServe(t, "--config", conf, "--store_dir", store)
	_, jb = connect(p.url, "b", "pb")
	if n := msgs(jb, "ORDERS"); n != 2 {
		t.Fatalf("B's ORDERS has %d messages after a restart, want 2", n)
	}
}
