package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natsctl/natsctl/internal/iostreams"
)

// startNode runs `natsctl serve` as a member of cluster c1, seeded with at
// most one other server.
func startNode(t *testing.T, seed string, extra ...string) *serveProc {
	t.Helper()
	args := []string{"--cluster_name", "c1", "--cluster", "nats://127.0.0.1:-1",
		"--cluster_ping_interval", "1s", "--cluster_connect_backoff_max", "500ms"}
	if seed != "" {
		args = append(args, "--routes", seed)
	}
	return startServe(t, append(args, extra...)...)
}

func natsConnect(t *testing.T, url string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, append([]nats.Option{nats.ReconnectWait(50 * time.Millisecond), nats.MaxReconnects(-1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// waitMeshed waits until a client of each server has been told (INFO
// connect_urls) of every other server: each server has a route to each other.
func waitMeshed(t *testing.T, servers ...*serveProc) {
	t.Helper()
	for _, s := range servers {
		nc := natsConnect(t, s.url)
		deadline := time.Now().Add(20 * time.Second)
		for {
			known := nc.DiscoveredServers()
			missing := ""
			for _, o := range servers {
				if o != s && !slices.Contains(known, o.url) {
					missing = o.url
				}
			}
			if missing == "" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s does not know %s (knows %v)", s.url, missing, known)
			}
			time.Sleep(20 * time.Millisecond)
		}
		nc.Close()
	}
}

// ready publishes subj from pub until every sub has received one message:
// the subscribers' interest (and anything they subscribed before) is known
// to the publisher's server.
func ready(t *testing.T, pub *nats.Conn, subj string, subs ...*nats.Conn) {
	t.Helper()
	var chans []chan struct{}
	for _, nc := range subs {
		ch := make(chan struct{}, 1)
		s, err := nc.Subscribe(subj, func(*nats.Msg) {
			select {
			case ch <- struct{}{}:
			default:
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Unsubscribe()
		nc.Flush()
		chans = append(chans, ch)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, ch := range chans {
		for {
			pub.Publish(subj, nil)
			pub.Flush()
			select {
			case <-ch:
			case <-time.After(20 * time.Millisecond):
				if time.Now().After(deadline) {
					t.Fatalf("interest in %s did not reach the publisher's server within 10s", subj)
				}
				continue
			}
			break
		}
	}
}

// barrier publishes subj once from each of pubs and waits until each of subs
// has received all of them: whatever the publishers sent before is through.
func barrier(t *testing.T, subj string, pubs, subs []*nats.Conn) {
	t.Helper()
	var ss []*nats.Subscription
	for _, nc := range subs {
		s, _ := nc.SubscribeSync(subj)
		ss = append(ss, s)
	}
	for _, pub := range pubs {
		ready(t, pub, subj+".ready", subs...)
	}
	for _, pub := range pubs {
		pub.Publish(subj, nil)
		pub.Flush()
	}
	for _, s := range ss {
		for range pubs {
			if _, err := s.NextMsg(10 * time.Second); err != nil {
				t.Fatalf("barrier %s: %v", subj, err)
			}
		}
		s.Unsubscribe()
	}
}

func TestHeavyCluster_ThreeProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs natsctl serve processes")
	}
	b := startNode(t, "")
	a := startNode(t, b.route)
	c := startNode(t, a.route)
	waitMeshed(t, a, b, c)

	onA, onB, onC := natsConnect(t, a.url), natsConnect(t, b.url), natsConnect(t, c.url)

	t.Run("top watches the whole cluster", func(t *testing.T) {
		ios, _, out, _ := iostreams.Test()
		o := topOpts(ios, "")
		o.Servers, o.Once = []string{a.monitorURL(t), b.monitorURL(t), c.monitorURL(t)}, true
		if err := runTop(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "3 of 3 servers up, full mesh") {
			t.Fatalf("top:\n%s", out)
		}
		routes := 0
		for _, l := range strings.Split(out.String(), "\n") {
			if f := strings.Fields(l); len(f) > 3 && f[2] == "1" && strings.HasPrefix(f[0], "N") && strings.HasPrefix(f[1], "N") {
				routes++ // FROM TO CONNS=1 ...
			}
		}
		if routes != 6 {
			t.Fatalf("want 6 routes (3 pairs, seen from both ends):\n%s", out)
		}
	})

	t.Run("pub on A reaches B and C once", func(t *testing.T) {
		var subs []*nats.Subscription
		for _, nc := range []*nats.Conn{onB, onC} {
			s, _ := nc.SubscribeSync("data.*")
			subs = append(subs, s)
		}
		ready(t, onA, "ready.data", onB, onC)
		const n = 1000
		for i := 0; i < n; i++ {
			onA.Publish("data.x", []byte("x"))
		}
		onA.Publish("data.end", nil) // after the data, on the same routes
		for i, s := range subs {
			got := 0
			for {
				m, err := s.NextMsg(10 * time.Second)
				if err != nil {
					t.Fatalf("subscriber %d: %v after %d", i, err, got)
				}
				if m.Subject == "data.end" {
					break
				}
				got++
			}
			if got != n {
				t.Errorf("subscriber %d got %d, want exactly %d", i, got, n)
			}
		}
	})

	t.Run("queue group: one member cluster-wide", func(t *testing.T) {
		conns := []*nats.Conn{onA, onB, onC}
		var members [][]*nats.Subscription
		for _, nc := range conns {
			var ms []*nats.Subscription
			for j := 0; j < 2; j++ {
				s, _ := nc.QueueSubscribeSync("jobs.>", "workers")
				ms = append(ms, s)
			}
			members = append(members, ms)
		}
		// Plain subscriptions made after the members, on the same
		// connections: once they are known everywhere, so are the members.
		for _, pub := range conns {
			ready(t, pub, "ready.jobs", conns...)
		}
		const n = 900
		for i := 0; i < n; i++ {
			conns[i%3].Publish("jobs.work", nil)
		}
		barrier(t, "end.jobs", conns, conns)
		total := 0
		for i, ms := range members {
			perServer := 0
			for _, s := range ms {
				for {
					if _, err := s.NextMsg(10 * time.Millisecond); err != nil {
						break
					}
					perServer++
				}
			}
			if perServer == 0 {
				t.Errorf("members on server %d got nothing", i)
			}
			total += perServer
		}
		if total != n {
			t.Fatalf("queue group got %d messages, want exactly %d", total, n)
		}
	})

	t.Run("request/reply across servers", func(t *testing.T) {
		onC.Subscribe("svc.echo", func(m *nats.Msg) { m.Respond(append([]byte("c:"), m.Data...)) })
		ready(t, onA, "svc.ready", onC)
		for _, nc := range []*nats.Conn{onA, onB} {
			r, err := nc.Request("svc.echo", []byte("ping"), 5*time.Second)
			if err != nil || string(r.Data) != "c:ping" {
				t.Fatalf("request: %v %v", r, err)
			}
		}
		if _, err := onA.Request("svc.none", nil, 5*time.Second); err != nats.ErrNoResponders {
			t.Fatalf("no responders across the cluster: %v", err)
		}
	})

	t.Run("killing B moves its clients to A or C", func(t *testing.T) {
		moved := make(chan string, 1)
		onlyB := natsConnect(t, b.url, nats.ReconnectHandler(func(nc *nats.Conn) { moved <- nc.ConnectedUrl() }))
		sub, _ := onlyB.SubscribeSync("after.kill")
		ready(t, onA, "ready.kill", onlyB)
		b.cmd.Process.Kill()
		select {
		case u := <-moved:
			if u != a.url && u != c.url {
				t.Fatalf("moved to %s, want A or C", u)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("client of B did not reconnect")
		}
		ready(t, onA, "ready.kill2", onlyB)
		onA.Publish("after.kill", []byte("x"))
		if _, err := sub.NextMsg(5 * time.Second); err != nil {
			t.Fatalf("subscription lost: %v", err)
		}
	})

	t.Run("B restarts and rejoins; D joins through A", func(t *testing.T) {
		b2 := startNode(t, a.route)
		waitMeshed(t, a, b2, c)
		d := startNode(t, a.route)
		waitMeshed(t, a, b2, c, d)
		onD := natsConnect(t, d.url)
		sub, _ := onD.SubscribeSync("to.d")
		onB2 := natsConnect(t, b2.url)
		ready(t, onB2, "ready.d", onD)
		onB2.Publish("to.d", nil)
		if _, err := sub.NextMsg(10 * time.Second); err != nil {
			t.Fatalf("B (restarted) to D (joined later): %v", err)
		}
	})
}

var _ = fmt.Sprint
