package server_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

// runClustered starts a server with a route listener in cluster "c1",
// seeded with the given servers' route URLs.
func runClustered(t *testing.T, seeds ...*server.Server) *server.Server {
	t.Helper()
	return servertest.Run(t, func(o *server.Options) {
		o.Cluster.Name = "c1"
		o.Cluster.Port = -1
		o.Cluster.ConnectWait = 20 * time.Millisecond
		o.Cluster.ConnectMax = 200 * time.Millisecond
		for _, s := range seeds {
			o.Cluster.Routes = append(o.Cluster.Routes, routeURL(s))
		}
	})
}

func routeURL(s *server.Server) string { return "nats://" + s.ClusterAddr().String() }

func waitMesh(t *testing.T, servers ...*server.Server) {
	t.Helper()
	waitFor(t, "full mesh", func() bool {
		for _, s := range servers {
			if s.NumRoutes() != len(servers)-1 {
				return false
			}
		}
		return true
	})
}

// remoteSubs counts the subscriptions s holds for its routes' interest on subject.
func remoteSubs(s *server.Server, subject string) int {
	n := 0
	for _, r := range s.Routez(server.RoutezOptions{SubsDetail: true}).Routes {
		for _, d := range r.SubsDetail {
			if d.Subject == subject {
				n++
			}
		}
	}
	return n
}

func TestCluster_ChainSeedsFormFullMesh(t *testing.T) {
	a := runClustered(t)
	b := runClustered(t, a)
	c := runClustered(t, b)
	waitMesh(t, a, b, c)
	d := runClustered(t, a)
	waitMesh(t, a, b, c, d)
}

func TestCluster_PubReachesEachRemoteSubscriberOnce(t *testing.T) {
	a := runClustered(t)
	b := runClustered(t, a)
	c := runClustered(t, b)
	waitMesh(t, a, b, c)
	var got [3]atomic.Int32
	for i, s := range []*server.Server{b, c} {
		nc := connect(t, s)
		for _, subj := range []string{"foo.bar", "foo.*", "foo.>"} {
			if _, err := nc.Subscribe(subj, func(*nats.Msg) { got[i].Add(1) }); err != nil {
				t.Fatal(err)
			}
		}
		nc.Flush()
	}
	waitFor(t, "interest on A", func() bool {
		return remoteSubs(a, "foo.bar") == 2 && remoteSubs(a, "foo.*") == 2 && remoteSubs(a, "foo.>") == 2
	})
	pub := connect(t, a)
	const n = 100
	for i := 0; i < n; i++ {
		pub.Publish("foo.bar", []byte("x"))
	}
	pub.Flush()
	// Each server's client has 3 matching subscriptions: 3 deliveries per
	// message, and exactly one copy of each message crossed each route.
	waitFor(t, "deliveries", func() bool { return got[0].Load() == 3*n && got[1].Load() == 3*n })
	for _, s := range []*server.Server{b, c} {
		for _, r := range s.Routez(server.RoutezOptions{}).Routes {
			if r.RemoteID == a.ID() && r.InMsgs != n {
				t.Errorf("%s received %d messages from A, want %d", s.Name(), r.InMsgs, n)
			}
		}
	}
}

func TestCluster_QueueGroupOneMemberClusterWide(t *testing.T) {
	a := runClustered(t)
	b := runClustered(t, a)
	c := runClustered(t, b)
	waitMesh(t, a, b, c)
	var total atomic.Int32
	counts := make([]atomic.Int32, 6)
	for i, s := range []*server.Server{a, b, c, a, b, c} {
		nc := connect(t, s)
		if _, err := nc.QueueSubscribe("work", "q", func(*nats.Msg) { counts[i].Add(1); total.Add(1) }); err != nil {
			t.Fatal(err)
		}
		nc.Flush()
	}
	waitFor(t, "queue interest", func() bool {
		return remoteSubs(a, "work") == 2 && remoteSubs(b, "work") == 2 && remoteSubs(c, "work") == 2
	})
	const n = 600
	for _, s := range []*server.Server{a, b, c} {
		pub := connect(t, s)
		for i := 0; i < n/3; i++ {
			pub.Publish("work", nil)
		}
		pub.Flush()
	}
	waitFor(t, "all messages", func() bool { return total.Load() >= n })
	// Give duplicates a chance to show: a request round trip on every server
	// flushes anything still crossing.
	for _, s := range []*server.Server{a, b, c} {
		connect(t, s).Flush()
	}
	if got := total.Load(); got != n {
		t.Fatalf("queue group got %d messages, want exactly %d", got, n)
	}
	for i := range counts {
		if counts[i].Load() == 0 {
			t.Errorf("member %d got no message: the pick is not spread cluster-wide", i)
		}
	}
}

func TestCluster_RequestReplyAndNoResponders(t *testing.T) {
	a := runClustered(t)
	b := runClustered(t, a)
	waitMesh(t, a, b)
	rep := connect(t, b)
	rep.Subscribe("svc", func(m *nats.Msg) {
		out := nats.NewMsg(m.Reply)
		out.Data = append([]byte("re:"), m.Data...)
		out.Header.Set("X-From", m.Header.Get("X-To"))
		m.RespondMsg(out)
	})
	rep.Flush()
	waitFor(t, "svc interest on A", func() bool { return a.HasInterest("svc") })
	req := connect(t, a)
	m := nats.NewMsg("svc")
	m.Data = []byte("hi")
	m.Header.Set("X-To", "b")
	resp, err := req.RequestMsg(m, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Data) != "re:hi" || resp.Header.Get("X-From") != "b" {
		t.Fatalf("reply %q headers %v", resp.Data, resp.Header)
	}
	if _, err := req.Request("nobody.home", nil, 5*time.Second); err != nats.ErrNoResponders {
		t.Fatalf("request with no responder anywhere: %v, want no responders", err)
	}
}

func TestCluster_LateSubscriptionGetsMessages(t *testing.T) {
	a := runClustered(t)
	b := runClustered(t, a)
	waitMesh(t, a, b)
	sub := connect(t, b)
	s, _ := sub.SubscribeSync("late")
	sub.Flush()
	pub := connect(t, a)
	// Bounded: within the deadline a published message arrives.
	deadline := time.Now().Add(5 * time.Second)
	for {
		pub.Publish("late", []byte("x"))
		if _, err := s.NextMsg(20 * time.Millisecond); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("a subscription made after the cluster formed got nothing")
		}
	}
}

func TestCluster_ConnectURLsFollowMembership(t *testing.T) {
	a := runClustered(t)
	nc := connect(t, a)
	b := runClustered(t, a)
	waitMesh(t, a, b)
	want := fmt.Sprint(b.Addr().Port)
	waitFor(t, "B in A's connect_urls", func() bool {
		for _, u := range nc.DiscoveredServers() {
			if u == "nats://"+b.Addr().String() {
				return true
			}
		}
		return false
	})
	_ = want
}

// Without cluster names, servers generate one and adopt each other's (the
// larger generated name wins, as in nats-server) and still mesh.
func TestCluster_GeneratedNamesConverge(t *testing.T) {
	unnamed := func(seeds ...*server.Server) *server.Server {
		return clusteredWith(t, func(o *server.Options) { o.Cluster.Name = "" }, seeds...)
	}
	a := unnamed()
	b := unnamed(a)
	c := unnamed(b)
	waitMesh(t, a, b, c)
	if a.ClusterName() == "" || a.ClusterName() != b.ClusterName() || b.ClusterName() != c.ClusterName() {
		t.Fatalf("names %q %q %q", a.ClusterName(), b.ClusterName(), c.ClusterName())
	}
}
