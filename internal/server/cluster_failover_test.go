package server_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/server"
)

func threeServers(t *testing.T) (a, b, c *server.Server) {
	a = runClustered(t)
	b = runClustered(t, a)
	c = runClustered(t, b)
	waitMesh(t, a, b, c)
	return a, b, c
}

func shutdown(t *testing.T, s *server.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// Our client knows only B's URL; when B goes away it moves to A or C, which
// it learned from INFO connect_urls, and keeps its subscription.
func TestCluster_OurClientFailsOverFromConnectURLs(t *testing.T) {
	a, b, c := threeServers(t)
	nc, err := client.Connect(context.Background(), client.Options{Servers: []string{b.ClientURL()}, ReconnectWait: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	waitFor(t, "connect_urls of A and C", func() bool { return len(nc.Servers()) == 3 })
	sub, _ := nc.SubscribeSync("after.failover")
	nc.FlushTimeout(5 * time.Second)
	shutdown(t, b)
	waitFor(t, "reconnect elsewhere", func() bool {
		u := nc.ConnectedURL()
		return nc.IsConnected() && u != "" && u != b.ClientURL()
	})
	if u := nc.ConnectedURL(); u != a.ClientURL() && u != c.ClientURL() {
		t.Fatalf("reconnected to %s", u)
	}
	pub := connect(t, a)
	for deadline := time.Now().Add(5 * time.Second); ; {
		pub.Publish("after.failover", []byte("x"))
		if _, err := sub.NextMsg(20 * time.Millisecond); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("subscription not restored after failover")
		}
	}
}

// nats.go does the same, and lame duck mode on B moves it to the others.
func TestCluster_LameDuckMovesNatsGoClients(t *testing.T) {
	a := runClustered(t)
	b := servertestClustered(t, a, func(o *server.Options) {
		o.LameDuckGracePeriod = 10 * time.Millisecond
		o.LameDuckDuration = 100 * time.Millisecond
	})
	waitMesh(t, a, b)
	moved := make(chan string, 1)
	nc := connect(t, b, nats.ReconnectWait(20*time.Millisecond), nats.ReconnectHandler(func(c *nats.Conn) { moved <- c.ConnectedUrl() }))
	waitFor(t, "A in connect_urls", func() bool { return slices.Contains(nc.DiscoveredServers(), a.ClientURL()) })
	sub, _ := nc.SubscribeSync("ldm")
	nc.Flush()
	go b.LameDuck(context.Background())
	select {
	case u := <-moved:
		if u != a.ClientURL() {
			t.Fatalf("moved to %s, want %s", u, a.ClientURL())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("client did not move")
	}
	pub := connect(t, a)
	for deadline := time.Now().Add(5 * time.Second); ; {
		pub.Publish("ldm", nil)
		if _, err := sub.NextMsg(20 * time.Millisecond); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("subscription lost in the move")
		}
	}
	<-b.Done()
	waitFor(t, "A's clients told B left", func() bool { return !slices.Contains(connect(t, a).Servers(), b.ClientURL()) })
}

func servertestClustered(t *testing.T, seed *server.Server, extra func(*server.Options)) *server.Server {
	t.Helper()
	s, err := server.New(func() server.Options {
		o := server.Options{Host: "127.0.0.1", Port: -1}
		o.Cluster.Name, o.Cluster.Port = "c1", -1
		o.Cluster.ConnectWait, o.Cluster.ConnectMax = 20*time.Millisecond, 200*time.Millisecond
		o.Cluster.Routes = []string{routeURL(seed)}
		extra(&o)
		return o
	}())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdown(t, s) })
	return s
}
