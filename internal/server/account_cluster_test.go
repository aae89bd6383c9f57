package server_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natsctl/natsctl/internal/natsservertest"
	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

// runClusteredAccounts is runClustered with accounts A and B (users a, b),
// B importing A's "events.>" with prefix "fromA".
func runClusteredAccounts(t *testing.T, seeds ...*server.Server) *server.Server {
	t.Helper()
	return servertest.Run(t, twoAccounts(
		[]server.Export{{Stream: "events.>"}, {Service: "help"}},
		[]server.Import{{Account: "A", Subject: "events.>", Prefix: "fromA"}, {Service: true, Account: "A", Subject: "help"}},
	), func(o *server.Options) {
		o.Cluster.Name = "c1"
		o.Cluster.Port = -1
		o.Cluster.ConnectWait = 20 * time.Millisecond
		o.Cluster.ConnectMax = 200 * time.Millisecond
		for _, s := range seeds {
			o.Cluster.Routes = append(o.Cluster.Routes, routeURL(s))
		}
	})
}

func TestAccountsCluster_IsolationAndImportsAcrossRoutes(t *testing.T) {
	s1 := runClusteredAccounts(t)
	s2 := runClusteredAccounts(t, s1)
	waitMesh(t, s1, s2)
	a1 := connect(t, s1, nats.UserInfo("a", "pa"))
	b1 := connect(t, s1, nats.UserInfo("b", "pb"))
	a2 := connect(t, s2, nats.UserInfo("a", "pa"))
	b2 := connect(t, s2, nats.UserInfo("b", "pb"))

	subA2, _ := a2.SubscribeSync("x")
	subB2, _ := b2.SubscribeSync("x")
	imported, _ := b2.SubscribeSync("fromA.>")
	if _, err := a2.Subscribe("help", func(m *nats.Msg) { _ = m.Respond([]byte("helped")) }); err != nil {
		t.Fatal(err)
	}
	for _, nc := range []*nats.Conn{a2, b2} {
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "interest of A and B on s1", func() bool {
		return s1.Account("A").HasInterestIn("x") && s1.Account("B").HasInterestIn("x") && s1.Account("A").HasInterestIn("help")
	})
	if err := a1.Publish("x", []byte("A")); err != nil {
		t.Fatal(err)
	}
	if err := b1.Publish("x", []byte("B")); err != nil {
		t.Fatal(err)
	}
	if m := nextMsg(t, subA2); string(m.Data) != "A" {
		t.Fatalf("A on s2 got %q", m.Data)
	}
	if m := nextMsg(t, subB2); string(m.Data) != "B" {
		t.Fatalf("B on s2 got %q", m.Data)
	}
	expectNoMsg(t, a2, subA2)
	expectNoMsg(t, b2, subB2)

	// A stream published on s1 reaches B on s2 once, remapped.
	if err := a1.Publish("events.1", []byte("e")); err != nil {
		t.Fatal(err)
	}
	if m := nextMsg(t, imported); m.Subject != "fromA.events.1" {
		t.Fatalf("imported %q", m.Subject)
	}
	expectNoMsg(t, b2, imported)
	// A service in A on s2 answers B on s1.
	m, err := b1.Request("help", nil, 5*time.Second)
	if err != nil || string(m.Data) != "helped" {
		t.Fatalf("service across the route: %v %v", m, err)
	}
}

// nats-server routes with us carrying accounts A and B by name.
func TestAccountsCluster_InteropWithNatsServer(t *testing.T) {
	ours := servertest.Run(t, twoAccounts(nil, nil), func(o *server.Options) {
		o.Cluster.Name = "c1"
		o.Cluster.Port = -1
	})
	conf := `accounts {
  A: { users: [{user: a, password: pa}] }
  B: { users: [{user: b, password: pb}] }
}
cluster { name: c1, listen: "127.0.0.1:-1", routes: ["` + routeURL(ours) + `"] }
`
	file := filepath.Join(t.TempDir(), "ns.conf")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ns := natsservertest.Start(t, "-c", file)
	waitFor(t, "route from nats-server", func() bool { return ours.NumRoutes() == 1 })
	nsConn := func(user, pass string) *nats.Conn {
		nc, err := nats.Connect(ns.ClientURL, nats.UserInfo(user, pass))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	aN, bN := nsConn("a", "pa"), nsConn("b", "pb")
	aO, bO := connect(t, ours, nats.UserInfo("a", "pa")), connect(t, ours, nats.UserInfo("b", "pb"))
	subAN, _ := aN.SubscribeSync("x")
	subBN, _ := bN.SubscribeSync("x")
	subAO, _ := aO.SubscribeSync("y")
	subBO, _ := bO.SubscribeSync("y")
	for _, nc := range []*nats.Conn{aN, bN, aO, bO} {
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "nats-server's interest per account", func() bool {
		return ours.Account("A").HasInterestIn("x") && ours.Account("B").HasInterestIn("x")
	})
	// ours -> nats-server, each account to its own.
	_ = aO.Publish("x", []byte("A"))
	_ = bO.Publish("x", []byte("B"))
	if m := nextMsg(t, subAN); string(m.Data) != "A" {
		t.Fatalf("A on nats-server got %q", m.Data)
	}
	if m := nextMsg(t, subBN); string(m.Data) != "B" {
		t.Fatalf("B on nats-server got %q", m.Data)
	}
	// nats-server -> ours: its interest arrives by RS+ A/B; retry until then.
	for deadline := time.Now().Add(5 * time.Second); ; {
		_ = aN.Publish("y", []byte("A"))
		if m, err := subAO.NextMsg(20 * time.Millisecond); err == nil {
			if string(m.Data) != "A" {
				t.Fatalf("A on natsctl got %q", m.Data)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("nats-server -> natsctl in account A: nothing")
		}
	}
	expectNoMsg(t, bO, subBO)
	expectNoMsg(t, bN, subBN)
}
