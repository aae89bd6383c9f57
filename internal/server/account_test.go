package server_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

// twoAccounts configures accounts A (user a) and B (user b) plus whatever
// exports and imports the test adds.
func twoAccounts(expA []server.Export, impB []server.Import) func(*server.Options) {
	return func(o *server.Options) {
		o.AuthTimeout = 20 * time.Second
		o.Accounts = []server.AccountOptions{
			{Name: "A", Users: []server.User{{Username: "a", Password: "pa"}}, Exports: expA},
			{Name: "B", Users: []server.User{{Username: "b", Password: "pb"}}, Imports: impB},
		}
	}
}

func TestAccounts_SameSubjectNeverCrosses(t *testing.T) {
	s := servertest.Run(t, twoAccounts(nil, nil))
	a := connect(t, s, nats.UserInfo("a", "pa"))
	b := connect(t, s, nats.UserInfo("b", "pb"))
	subA, _ := a.SubscribeSync("orders.>")
	subB, _ := b.SubscribeSync("orders.>")
	for _, nc := range []*nats.Conn{a, b} {
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Publish("orders.1", []byte("from A")); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish("orders.1", []byte("from B")); err != nil {
		t.Fatal(err)
	}
	if m := nextMsg(t, subA); string(m.Data) != "from A" {
		t.Fatalf("A got %q", m.Data)
	}
	if m := nextMsg(t, subB); string(m.Data) != "from B" {
		t.Fatalf("B got %q", m.Data)
	}
	expectNoMsg(t, a, subA)
	expectNoMsg(t, b, subB)
	if n := s.Account("A").NumSubscriptions(); n != 1 {
		t.Fatalf("account A has %d subscriptions, want 1", n)
	}
}

func TestAccounts_ServiceImportAnswersAcrossAccounts(t *testing.T) {
	s := servertest.Run(t, twoAccounts(
		[]server.Export{{Service: "help.>", Accounts: []string{"B"}}},
		[]server.Import{{Service: true, Account: "A", Subject: "help.>", To: "ask.>"}},
	))
	a := connect(t, s, nats.UserInfo("a", "pa"))
	b := connect(t, s, nats.UserInfo("b", "pb"))
	if _, err := a.Subscribe("help.>", func(m *nats.Msg) { _ = m.Respond([]byte("A answers " + m.Subject)) }); err != nil {
		t.Fatal(err)
	}
	if err := a.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ { // each request gets its own response mapping
		m, err := b.Request("ask.me", []byte("q"), 5*time.Second)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if string(m.Data) != "A answers help.me" {
			t.Fatalf("reply %q", m.Data)
		}
	}
	// B's own subject space still does not see A's "help" subjects.
	if _, err := b.Request("help.me", nil, 200*time.Millisecond); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("request on help.me in B: %v, want no responders", err)
	}
}

func TestAccounts_StreamImportRemapsSubject(t *testing.T) {
	for _, tc := range []struct {
		name string
		imp  server.Import
		want string
	}{
		{"prefix", server.Import{Account: "A", Subject: "events.>", Prefix: "fromA"}, "fromA.events.x"},
		{"to", server.Import{Account: "A", Subject: "events.*", To: "a.$1.seen"}, "a.x.seen"},
		{"same", server.Import{Account: "A", Subject: "events.x"}, "events.x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := servertest.Run(t, twoAccounts([]server.Export{{Stream: "events.>"}}, []server.Import{tc.imp}))
			a := connect(t, s, nats.UserInfo("a", "pa"))
			b := connect(t, s, nats.UserInfo("b", "pb"))
			sub, _ := b.SubscribeSync(">")
			if err := b.Flush(); err != nil {
				t.Fatal(err)
			}
			if err := a.Publish("events.x", []byte("e")); err != nil {
				t.Fatal(err)
			}
			if m := nextMsg(t, sub); m.Subject != tc.want || string(m.Data) != "e" {
				t.Fatalf("B got %q %q, want %q", m.Subject, m.Data, tc.want)
			}
			// What B publishes does not go back to A.
			subA, _ := a.SubscribeSync(">")
			if err := a.Flush(); err != nil {
				t.Fatal(err)
			}
			if err := b.Publish("events.x", nil); err != nil {
				t.Fatal(err)
			}
			expectNoMsg(t, a, subA)
		})
	}
}

func TestAccounts_UnauthorizedImportRefusedAtStart(t *testing.T) {
	for _, tc := range []struct {
		name string
		exp  []server.Export
		imp  server.Import
	}{
		{"not exported", nil, server.Import{Account: "A", Subject: "x"}},
		{"other account", []server.Export{{Stream: "x", Accounts: []string{"C"}}}, server.Import{Account: "A", Subject: "x"}},
		{"wider than export", []server.Export{{Stream: "x.a"}}, server.Import{Account: "A", Subject: "x.*"}},
		{"stream is not a service", []server.Export{{Stream: "x"}}, server.Import{Service: true, Account: "A", Subject: "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := server.Options{Port: -1}
			twoAccounts(tc.exp, []server.Import{tc.imp})(&o)
			s, err := server.New(o)
			if err == nil {
				s.Shutdown(t.Context())
				t.Fatal("server started with an unauthorized import")
			}
			if !errors.Is(err, server.ErrImportNotAuthorized) || !strings.Contains(err.Error(), "accounts B imports[0]") {
				t.Fatalf("error %q", err)
			}
		})
	}
}

func TestAccounts_Limits(t *testing.T) {
	s := servertest.Run(t, func(o *server.Options) {
		o.AuthTimeout = 20 * time.Second
		o.Accounts = []server.AccountOptions{{
			Name:   "L",
			Users:  []server.User{{Username: "l", Password: "p"}},
			Limits: server.AccountLimits{MaxConnections: 1, MaxSubscriptions: 2, MaxPayload: 16},
		}}
	})
	nc := connect(t, s, nats.UserInfo("l", "p"))
	if _, err := nats.Connect(s.ClientURL(), nats.UserInfo("l", "p"), nats.NoReconnect()); err == nil || !strings.Contains(err.Error(), "maximum account active connections exceeded") {
		t.Fatalf("second connection: %v", err)
	}
	errs := make(chan error, 4)
	nc.SetErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err })
	for _, subj := range []string{"a", "b", "c"} {
		if _, err := nc.SubscribeSync(subj); err != nil {
			t.Fatal(err)
		}
	}
	_ = nc.Flush()
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), "maximum subscriptions exceeded") {
			t.Fatalf("error %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("third subscription accepted")
	}
	// INFO advertises the server's max_payload; the account's is enforced.
	gone := make(chan struct{}, 1)
	nc.SetDisconnectErrHandler(func(*nats.Conn, error) { gone <- struct{}{} })
	if err := nc.Publish("a", make([]byte, 17)); err != nil {
		t.Fatal(err)
	}
	_ = nc.Flush()
	select {
	case <-gone:
		if err := nc.LastError(); err == nil || !strings.Contains(strings.ToLower(err.Error()), "maximum payload violation") {
			t.Fatalf("error %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("payload over the account's max_payload accepted")
	}
}

func TestAccounts_NoAuthUser(t *testing.T) {
	s := servertest.Run(t, twoAccounts(nil, nil), func(o *server.Options) { o.NoAuthUser = "b" })
	anon := connect(t, s)
	b := connect(t, s, nats.UserInfo("b", "pb"))
	sub, _ := b.SubscribeSync("hello")
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := anon.Publish("hello", []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if m := nextMsg(t, sub); string(m.Data) != "hi" {
		t.Fatalf("got %q", m.Data)
	}
}
