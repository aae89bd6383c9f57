package server_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	nsrv "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/natsctl/natsctl/internal/natsservertest"
)

// twoEvents reads the origin's and the peer's events, told apart by server
// name.
func twoEvents(t *testing.T, events *nats.Subscription, origin string) (*nsrv.MsgTraceEvent, *nsrv.MsgTraceEvent) {
	t.Helper()
	e1, e2 := nextTrace(t, events), nextTrace(t, events)
	if e1.Server.Name != origin {
		e1, e2 = e2, e1
	}
	if e1.Server.Name != origin || e2.Server.Name == origin {
		t.Fatalf("events from %q and %q, want one from %q", e1.Server.Name, e2.Server.Name, origin)
	}
	return e1, e2
}

// checkHop checks a two-server trace: the origin's event lists the route
// to peer with hop 1, the peer's starts with a router ingress from origin
// and lists its subscriber.
func checkHop(t *testing.T, onOrigin, onPeer *nsrv.MsgTraceEvent, originName, peerName string, pub, subConn *nats.Conn) {
	t.Helper()
	checkIngress(t, onOrigin, pub, "$G", "routed", "")
	eg := onOrigin.Egresses()
	if len(eg) != 1 || eg[0].Kind != nsrv.ROUTER || eg[0].Name != peerName || eg[0].Hop != "1" || eg[0].Error != "" || eg[0].Subscription != "" {
		t.Fatalf("origin's egresses %+v", eg)
	}
	if onOrigin.Hops != 1 {
		t.Fatalf("origin's hops %d", onOrigin.Hops)
	}
	in := onPeer.Ingress()
	if in == nil || in.Kind != nsrv.ROUTER || in.Name != originName || in.Account != "$G" || in.Subject != "routed" {
		t.Fatalf("peer's ingress %+v", in)
	}
	if h := onPeer.Request.Header[nsrv.MsgTraceHop]; len(h) != 1 || h[0] != "1" {
		t.Fatalf("peer's request headers %v", onPeer.Request.Header)
	}
	want := []egressKey{{Kind: nsrv.CLIENT, CID: cid(t, subConn), Sub: "routed"}}
	if got := egresses(onPeer); !slices.Equal(got, want) {
		t.Fatalf("peer's egresses %+v, want %+v", got, want)
	}
}

// checkRouted publishes a traced message (then a plain one) on pub and
// checks both events (on events, subscribed to dest, with interest on
// both servers) and what the subscriber on the peer got.
func checkRouted(t *testing.T, pub, subConn *nats.Conn, sub *nats.Subscription, dest string, events *nats.Subscription, originName, peerName string) {
	t.Helper()
	for _, only := range []bool{false, true} {
		if err := pub.PublishMsg(tracedMsg("routed", dest, only)); err != nil {
			t.Fatal(err)
		}
		if err := pub.Publish("routed", []byte("plain")); err != nil {
			t.Fatal(err)
		}
		onOrigin, onPeer := twoEvents(t, events, originName)
		checkHop(t, onOrigin, onPeer, originName, peerName, pub, subConn)
		// Route order: the traced message, if delivered, comes first.
		if !only {
			m := nextMsg(t, sub)
			if string(m.Data) != "payload" || m.Header.Get(nsrv.MsgTraceHop) != "1" {
				t.Fatalf("peer's subscriber got %q %v first", m.Data, m.Header)
			}
		}
		if m := nextMsg(t, sub); string(m.Data) != "plain" {
			t.Fatalf("only=%v: peer's subscriber got %q, want the plain message", only, m.Data)
		}
	}
}

func TestMsgTrace_Route(t *testing.T) {
	a := runClustered(t)
	b := runClustered(t, a)
	waitMesh(t, a, b)
	sb := connect(t, b)
	sub, _ := sb.SubscribeSync("routed")
	flush(t, sb)
	waitFor(t, "interest on A", func() bool { return remoteSubs(a, "routed") == 1 })
	pub := connect(t, a, nats.Name("pub"))
	dest, events := tracer(t, pub)
	waitFor(t, "trace interest on B", func() bool { return b.HasInterest(dest) })
	checkRouted(t, pub, sb, sub, dest, events, a.Name(), b.Name())
}

func TestMsgTrace_RouteWithNatsServer(t *testing.T) {
	a := runClustered(t)
	conf := "server_name: ns\ncluster {\n name: c1\n listen: \"127.0.0.1:-1\"\n routes: [\"" + routeURL(a) + "\"]\n}\n"
	file := filepath.Join(t.TempDir(), "ns.conf")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ns := natsservertest.Start(t, "-c", file)
	waitFor(t, "route from nats-server", func() bool { return a.NumRoutes() == 1 })
	onA := connect(t, a, nats.Name("sub-a"))
	onN := dial(t, ns.ClientURL, nats.Name("sub-n"))
	t.Run("from natsctl", func(t *testing.T) {
		subN, _ := onN.SubscribeSync("routed")
		flush(t, onN)
		waitFor(t, "interest on A", func() bool { return remoteSubs(a, "routed") == 1 })
		// The events are read on nats-server, where A's interest is known.
		dest, events := tracer(t, onN)
		waitFor(t, "trace interest on A", func() bool { return a.HasInterest(dest) })
		checkRouted(t, connect(t, a, nats.Name("pub")), onN, subN, dest, events, a.Name(), "ns")
		if err := subN.Unsubscribe(); err != nil {
			t.Fatal(err)
		}
		flush(t, onN)
		waitFor(t, "no interest on A", func() bool { return remoteSubs(a, "routed") == 0 })
	})
	t.Run("from nats-server", func(t *testing.T) {
		subA, _ := onA.SubscribeSync("routed")
		flush(t, onA)
		dest, events := tracer(t, onA)
		pub := dial(t, ns.ClientURL, nats.Name("pub"))
		// nats-server learns A's interest over the route: probe each
		// subject until a request is not refused for want of responders,
		// then skip the probes (a sentinel follows them on the route).
		for _, s := range []*nats.Subscription{subA, events} {
			waitFor(t, "interest on nats-server", func() bool {
				_, err := pub.Request(s.Subject, nil, 100*time.Millisecond)
				return err != nats.ErrNoResponders
			})
			if err := pub.Publish(s.Subject, []byte("sentinel")); err != nil {
				t.Fatal(err)
			}
			for string(nextMsg(t, s).Data) != "sentinel" {
			}
		}
		checkRouted(t, pub, onA, subA, dest, events, "ns", a.Name())
	})
}
