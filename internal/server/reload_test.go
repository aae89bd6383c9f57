package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

// closedWith returns a channel closed when nc is closed for good.
func closedWith(nc *nats.Conn) <-chan struct{} {
	ch := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(ch) })
	return ch
}

func reloadOpts(accounts []server.AccountOptions, users ...server.User) server.Options {
	return server.Options{Auth: server.AuthOptions{Users: users}, Accounts: accounts}
}

func TestReload_RemovedUserClosedOthersKept(t *testing.T) {
	accs := []server.AccountOptions{
		{Name: "A", Users: []server.User{{Username: "a", Password: "pa"}, {Username: "gone", Password: "pg"}}},
		{Name: "B", Users: []server.User{{Username: "moved", Password: "pm"}}},
	}
	s := servertest.Run(t, func(o *server.Options) {
		o.AuthTimeout = 20 * time.Second
		o.Auth.Users = []server.User{{Username: "g", Password: "pg"}}
		o.Accounts = accs
	})
	keepA := connect(t, s, nats.UserInfo("a", "pa"))
	keepG := connect(t, s, nats.UserInfo("g", "pg"))
	goneErr := make(chan error, 2)
	gone := connect(t, s, nats.UserInfo("gone", "pg"), nats.NoReconnect(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { goneErr <- err }))
	moved := connect(t, s, nats.UserInfo("moved", "pm"), nats.NoReconnect())
	goneClosed, movedClosed := closedWith(gone), closedWith(moved)

	// "gone" is deleted; "moved" now belongs to account A.
	err := s.Reload(reloadOpts([]server.AccountOptions{
		{Name: "A", Users: []server.User{{Username: "a", Password: "pa"}, {Username: "moved", Password: "pm"}}},
		{Name: "B"},
	}, server.User{Username: "g", Password: "pg"}))
	if err != nil {
		t.Fatal(err)
	}
	for name, ch := range map[string]<-chan struct{}{"removed user": goneClosed, "user moved to another account": movedClosed} {
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s still connected", name)
		}
	}
	select {
	case err := <-goneErr:
		if !strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
			t.Fatalf("removed user's error: %v", err)
		}
	default:
		t.Fatal("removed user got no -ERR")
	}
	roundTrip(t, keepA)
	roundTrip(t, keepG)
	connectFails(t, s.ClientURL(), nats.UserInfo("gone", "pg"))
	nc := connect(t, s, nats.UserInfo("moved", "pm"))
	// "moved" is in A now: it reaches a's subscribers.
	sub, _ := keepA.SubscribeSync("x")
	if err := keepA.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish("x", []byte("hi")); err != nil {
		t.Fatal(err)
	}
	nextMsg(t, sub)
}

func TestReload_PermissionsChangeInPlace(t *testing.T) {
	s := servertest.Run(t, func(o *server.Options) {
		o.AuthTimeout = 20 * time.Second
		o.Auth.Users = []server.User{{Username: "u", Password: "p"}}
	})
	nc := connect(t, s, nats.UserInfo("u", "p"))
	roundTrip(t, nc) // publishes to interop.auth: cached as allowed
	errs := make(chan error, 4)
	nc.SetErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err })
	deny := &server.Permissions{Publish: &server.SubjectPermission{Deny: []string{"interop.auth"}}}
	if err := s.Reload(reloadOpts(nil, server.User{Username: "u", Password: "p", Permissions: deny})); err != nil {
		t.Fatal(err)
	}
	_ = nc.Publish("interop.auth", nil)
	_ = nc.Flush()
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), "Permissions Violation for Publish") {
			t.Fatalf("error %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("publish allowed after the reload denied it")
	}
	if nc.IsClosed() {
		t.Fatal("connection closed: a permission change keeps it")
	}
}

func TestReload_InvalidConfigChangesNothing(t *testing.T) {
	s := servertest.Run(t, twoAccounts(nil, nil))
	a := connect(t, s, nats.UserInfo("a", "pa"))
	err := s.Reload(reloadOpts([]server.AccountOptions{
		{Name: "A", Users: []server.User{{Username: "a", Password: "pa"}}},
		{Name: "B", Imports: []server.Import{{Account: "A", Subject: "secret"}}},
	}))
	if err == nil {
		t.Fatal("reload with an unauthorized import accepted")
	}
	roundTrip(t, a)
	connect(t, s, nats.UserInfo("b", "pb")) // b still exists
}
