package streaming

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

// reload applies accounts to s as a config reload (SIGHUP, --signal
// reload, $SYS RELOAD: each ends in Server.Reload).
func reload(t *testing.T, s *server.Server, accounts []server.AccountOptions) {
	t.Helper()
	if err := s.Reload(server.Options{Accounts: accounts}); err != nil {
		t.Fatalf("reload: %v", err)
	}
}

// streamMsgs is the message count of stream name as js sees it.
func streamMsgs(t *testing.T, js jetstream.JetStream, name string) uint64 {
	t.Helper()
	st, err := js.Stream(ctxT(t), name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	info, err := st.Info(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// TestAccounts_ReloadAddsAccount: an account added by a reload had no
// JetStream API until a restart ($JS.API.INFO got no responders).
func TestAccounts_ReloadAddsAccount(t *testing.T) {
	dir := t.TempDir()
	onlyA := twoAccounts[:1]
	s, e := runAccounts(t, dir, onlyA)
	_, ja := userJS(t, s.ClientURL(), "a", "pa")
	mustCreate(t, ja, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}})
	publishN(t, ja, "orders.1", 1)

	reload(t, s, twoAccounts)
	_, jb := userJS(t, s.ClientURL(), "b", "pb")
	if _, err := jb.AccountInfo(ctxT(t)); err != nil {
		t.Fatalf("B's JetStream API after the reload: %v", err)
	}
	if _, err := jb.Stream(ctxT(t), "ORDERS"); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("B sees A's stream: %v", err)
	}
	mustCreate(t, jb, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}})
	publishN(t, jb, "orders.1", 2)
	if a, b := streamMsgs(t, ja, "ORDERS"), streamMsgs(t, jb, "ORDERS"); a != 1 || b != 2 {
		t.Fatalf("A's ORDERS has %d messages, B's %d; want 1 and 2", a, b)
	}
	if _, err := os.Stat(filepath.Join(dir, "accounts", "B", "streams", "ORDERS")); err != nil {
		t.Fatalf("B's stream is not under its account directory: %v", err)
	}
	if info := e.JSInfo(); info.Accounts != 3 || info.Streams != 2 || info.Messages != 3 {
		t.Fatalf("jsz after the reload: accounts %d streams %d messages %d", info.Accounts, info.Streams, info.Messages)
	}

	// A restart with both accounts configured recovers B's stream.
	if err := s.Shutdown(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	s2, _ := runAccounts(t, dir, twoAccounts)
	_, jb = userJS(t, s2.ClientURL(), "b", "pb")
	_, ja = userJS(t, s2.ClientURL(), "a", "pa")
	if a, b := streamMsgs(t, ja, "ORDERS"), streamMsgs(t, jb, "ORDERS"); a != 1 || b != 2 {
		t.Fatalf("after a restart A's ORDERS has %d messages, B's %d; want 1 and 2", a, b)
	}
}

// TestAccounts_ReloadRemovesAndRestoresAccount: a reload that removes an
// account stops its engine and keeps its files; adding the account back
// brings its streams back.
func TestAccounts_ReloadRemovesAndRestoresAccount(t *testing.T) {
	dir := t.TempDir()
	s, e := runAccounts(t, dir, twoAccounts)
	_, ja := userJS(t, s.ClientURL(), "a", "pa")
	nb, jb := userJS(t, s.ClientURL(), "b", "pb", nats.NoReconnect())
	mustCreate(t, jb, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	publishN(t, jb, "s.1", 3)
	closed := make(chan struct{})
	nb.SetClosedHandler(func(*nats.Conn) { close(closed) })

	reload(t, s, twoAccounts[:1])
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("B's user still connected after B was removed")
	}
	if got := e.JSZAccounts(); strings.Join(got, ",") != "$G,A" {
		t.Fatalf("accounts with streaming after removing B: %v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "accounts", "B", "streams", "S")); err != nil {
		t.Fatalf("B's stream files are gone: %v", err)
	}
	if _, err := ja.AccountInfo(ctxT(t)); err != nil {
		t.Fatalf("A after B was removed: %v", err)
	}

	reload(t, s, twoAccounts)
	_, jb = userJS(t, s.ClientURL(), "b", "pb")
	if n := streamMsgs(t, jb, "S"); n != 3 {
		t.Fatalf("B's stream has %d messages after B came back, want 3", n)
	}
	publishN(t, jb, "s.1", 1)
	if n := streamMsgs(t, jb, "S"); n != 4 {
		t.Fatalf("B's stream has %d messages, want 4", n)
	}
}

// TestAccounts_AddedAccountFailsAlone: an account whose engine cannot
// start (its store directory is a file) is logged; the reload, the server
// and the other accounts go on, and the account's clients get no
// JetStream API.
func TestAccounts_AddedAccountFailsAlone(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "accounts"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts", "B"), []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	s, _ := runAccounts(t, dir, twoAccounts[:1], func(o *server.Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	reload(t, s, twoAccounts)
	if !strings.Contains(logs.String(), "account engine did not start") || !strings.Contains(logs.String(), "account=B") {
		t.Fatalf("no error logged for B:\n%s", logs.String())
	}
	_, jb := userJS(t, s.ClientURL(), "b", "pb")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := jb.AccountInfo(ctx); !errors.Is(err, jetstream.ErrJetStreamNotEnabled) {
		t.Fatalf("B's account info: %v, want JetStream not enabled", err)
	}
	_, ja := userJS(t, s.ClientURL(), "a", "pa")
	mustCreate(t, ja, jetstream.StreamConfig{Name: "S", Subjects: []string{"s"}})
}

// TestAccounts_NoEngineAfterShutdown: an account added while the server
// shuts down gets no engine that outlives it; one added after it does not
// start at all.
func TestAccounts_NoEngineAfterShutdown(t *testing.T) {
	for range 5 {
		dir := t.TempDir()
		s, e := runAccounts(t, dir, twoAccounts[:1])
		done := make(chan error, 1)
		go func() { done <- s.Reload(server.Options{Accounts: twoAccounts}) }()
		if err := s.Shutdown(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		// The server's Shutdown stopped the engine after the reload, or
		// the reload came after it: either way nothing runs now.
		if got := e.JSZAccounts(); len(got) != 0 {
			t.Fatalf("engines running after shutdown: %v", got)
		}
		// B's directory, if B's engine started, is unlocked again.
		if _, err := os.Stat(filepath.Join(dir, "accounts", "B")); err == nil {
			c := New(Config{StoreDir: filepath.Join(dir, "accounts", "B")})
			s2 := servertest.Run(t, func(o *server.Options) { o.Engine = c })
			if err := s2.Shutdown(ctxT(t)); err != nil {
				t.Fatal(err)
			}
		}
	}
	dir := t.TempDir()
	s, e := runAccounts(t, dir, twoAccounts[:1])
	if err := s.Shutdown(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	e.AccountChanged("B")
	if _, err := os.Stat(filepath.Join(dir, "accounts", "B")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an account added after shutdown got a store directory: %v", err)
	}
}

// TestAccounts_JszDuringReloads reads /jsz's data while reloads add and
// remove an account (for the race detector), and checks the end state.
func TestAccounts_JszDuringReloads(t *testing.T) {
	s, e := runAccounts(t, t.TempDir(), twoAccounts[:1])
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			s.JSZ(server.JSZOptions{Accounts: true, Streams: true, Consumers: true, Config: true})
			e.JSInfo()
		}
	}()
	for i := range 10 {
		reload(t, s, twoAccounts[:1+i%2])
	}
	close(stop)
	<-done
	if got := s.JSZ(server.JSZOptions{Accounts: true}); len(got.AccountDetails) != 3 || got.AccountDetails[2].Name != "B" || got.Accounts != 3 {
		t.Fatalf("after the last reload (A and B): accounts %d, details %+v", got.Accounts, got.AccountDetails)
	}
}
