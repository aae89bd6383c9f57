package server_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

// watchEngine is an Engine and AccountWatcher that records what it hears
// and, for an added account, whether the account could be looked up and
// its user (account A: user a, password pa) log in at that moment.
type watchEngine struct {
	s      *server.Server
	mu     sync.Mutex
	events []string
}

func (w *watchEngine) Start(s *server.Server) error {
	w.s = s
	return nil
}

func (w *watchEngine) Shutdown(context.Context) error { return nil }

// AccountChanged records "+name" for an account that is a streaming
// account now, as the real engine decides, else "-name".
func (w *watchEngine) AccountChanged(name string) {
	if !slices.Contains(w.s.StreamingAccounts(), name) {
		w.record("-" + name)
		return
	}
	ev := "+" + name
	if w.s.Account(name) == nil {
		ev += "(not published)"
	}
	// The account's users must not be able to log in before its engine
	// is ready.
	user := strings.ToLower(name)
	if nc, err := nats.Connect(w.s.ClientURL(), nats.UserInfo(user, "p"+user), nats.NoReconnect(), nats.Timeout(5*time.Second)); err == nil {
		nc.Close()
		ev += "(user in)"
	}
	w.record(ev)
}

func (w *watchEngine) record(ev string) {
	w.mu.Lock()
	w.events = append(w.events, ev)
	w.mu.Unlock()
}

func (w *watchEngine) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	ev := w.events
	w.events = nil
	return ev
}

// TestAccountWatcher_Reload: the engine hears of each streaming account a
// reload adds (after it is published, before its users can log in) or
// removes, and of nothing else.
func TestAccountWatcher_Reload(t *testing.T) {
	w := &watchEngine{}
	acc := func(names ...string) []server.AccountOptions {
		var out []server.AccountOptions
		for _, n := range names {
			u := strings.ToLower(n) // user a, password pa in account A
			out = append(out, server.AccountOptions{Name: n, Users: []server.User{{Username: u, Password: "p" + u}}})
		}
		return out
	}
	s := servertest.Run(t, func(o *server.Options) {
		o.Engine = w
		o.AuthTimeout = 20 * time.Second
		o.Accounts = acc("A", "C")
		o.SystemAccount = "SYS"
		o.Accounts = append(o.Accounts, server.AccountOptions{Name: "SYS"})
	})
	if got := s.StreamingAccounts(); !slices.Equal(got, []string{"A", "C"}) {
		t.Fatalf("streaming accounts %v, want [A C] (not $G, not the system account)", got)
	}
	for i, step := range []struct {
		accounts []string
		want     []string
	}{
		{[]string{"A", "B", "C"}, []string{"+B"}},
		{[]string{"A", "B", "C"}, nil}, // nothing changed
		{[]string{"B"}, []string{"-A", "-C"}},
		{[]string{"A", "B"}, []string{"+A"}},
	} {
		o := server.Options{Accounts: append(acc(step.accounts...), server.AccountOptions{Name: "SYS"}), SystemAccount: "SYS"}
		if err := s.Reload(o); err != nil {
			t.Fatal(err)
		}
		if got := w.take(); !slices.Equal(got, step.want) {
			t.Fatalf("reload %d to %v: engine heard %v, want %v", i, step.accounts, got, step.want)
		}
		if got := s.StreamingAccounts(); !slices.Equal(got, step.accounts) {
			t.Fatalf("reload %d: streaming accounts %v", i, got)
		}
	}
	// B is in now.
	roundTrip(t, connect(t, s, nats.UserInfo("b", "pb")))
}
