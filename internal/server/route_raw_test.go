package server_test

import (
	"bufio"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

// dialRouteRaw connects to s's route port and reads its INFO, which, as
// nats-server's route INFO, has no space before CRLF.
func dialRouteRaw(t *testing.T, s *server.Server) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", s.ClusterAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	rc := &rawConn{t: t, c: c, r: bufio.NewReader(c)}
	rc.info = rc.line()
	if !strings.HasPrefix(rc.info, "INFO {") || !strings.HasSuffix(rc.info, "}\r\n") {
		t.Fatalf("first line is not a route INFO: %q", rc.info)
	}
	return rc
}

// dialRoute opens a raw connection to s's route port and completes the
// handshake as a peer server named id.
func dialRoute(t *testing.T, s *server.Server, id, cluster string) *rawConn {
	t.Helper()
	rc := dialRouteRaw(t, s)
	if !strings.HasPrefix(rc.info, "INFO ") {
		t.Fatalf("route listener greeted with %q", rc.info)
	}
	rc.send(`CONNECT {"echo":true,"verbose":false,"pedantic":false,"headers":true,"name":"` + id + `","cluster":"` + cluster + `"}` + "\r\n")
	rc.send(`INFO {"server_id":"` + id + `","server_name":"raw","cluster":"` + cluster + `","headers":true,"port":1,"ip":"nats-route://127.0.0.1:1/"}` + "\r\n")
	return rc
}

func TestRoute_InfoShape(t *testing.T) {
	s := runClustered(t)
	rc := dialRouteRaw(t, s)
	var info map[string]any
	if err := json.Unmarshal([]byte(strings.TrimPrefix(strings.TrimSpace(rc.info), "INFO ")), &info); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"server_id", "server_name", "version", "proto", "host", "port", "headers", "cluster", "connect_urls"} {
		if _, ok := info[k]; !ok {
			t.Errorf("route INFO lacks %q: %s", k, rc.info)
		}
	}
	if info["cluster"] != "c1" || info["server_id"] != s.ID() {
		t.Errorf("route INFO %s", rc.info)
	}
	// No pooling, no compression: what a nats-server peer reads as a
	// single-connection route with accounts in every operation.
	for _, k := range []string{"route_pool_size", "compression"} {
		if _, ok := info[k]; ok {
			t.Errorf("route INFO has %q", k)
		}
	}
}

func TestRoute_InterestAndRMSGOnTheWire(t *testing.T) {
	s := runClustered(t)
	sub := connect(t, s)
	sub.SubscribeSync("local.subj")
	sub.QueueSubscribeSync("work", "q")
	sub.QueueSubscribeSync("work", "q")
	sub.Flush()
	rc := dialRoute(t, s, "NRAWPEER", "c1")
	// The interest dump: one RS+ per subject, queue groups with their weight.
	got := map[string]bool{}
	for i := 0; i < 2; i++ {
		got[strings.TrimSpace(rc.line())] = true
	}
	if !got["RS+ $G local.subj"] || !got["RS+ $G work q 2"] {
		t.Fatalf("interest dump %v", got)
	}
	rc.send("RS+ $G remote.>\r\nRS+ $G svc qq 3\r\nPING\r\n")
	rc.expect("PONG\r\n")
	pub := connect(t, s)
	pub.Publish("remote.a", []byte("hello"))
	pub.PublishRequest("remote.b", "_INBOX.1", []byte("x"))
	pub.PublishRequest("svc", "_INBOX.2", nil)
	pub.Flush()
	rc.expect("RMSG $G remote.a 5\r\nhello\r\n")
	rc.expect("RMSG $G remote.b _INBOX.1 1\r\nx\r\n")
	rc.expect("RMSG $G svc + _INBOX.2 qq 0\r\n\r\n")
	// Messages from the route go to local subscribers and queue members
	// named in the RMSG, and are never sent back over a route.
	ss, _ := sub.SubscribeSync("from.route")
	sub.Flush()
	rc.expect("RS+ $G from.route\r\n") // new local interest is announced
	rc.send("RMSG $G from.route 2\r\nhi\r\nHMSG $G from.route 12 14\r\nNATS/1.0\r\n\r\nyo\r\nPING\r\n")
	rc.expect("PONG\r\n")
	for _, want := range []string{"hi", "yo"} {
		m, err := ss.NextMsg(5 * time.Second)
		if err != nil || string(m.Data) != want {
			t.Fatalf("routed message: %v %v", m, err)
		}
	}
	rc.send("RS- $G remote.>\r\nPING\r\n")
	rc.expect("PONG\r\n")
	if s.HasInterest("remote.a") {
		t.Fatal("RS- did not remove the interest")
	}
}

func TestRoute_GarbageDroppedClientsUnaffected(t *testing.T) {
	s := runClustered(t)
	nc := connect(t, s)
	sub, _ := nc.SubscribeSync("ok")
	for _, garbage := range []string{
		"HELLO WORLD\r\n",
		"RS+ $G foo\r\n", // before CONNECT
		"CONNECT {not json}\r\n",
		`CONNECT {"name":"x","cluster":"c1","lang":"go"}` + "\r\n", // a client on the route port
	} {
		rc := dialRouteRaw(t, s)
		rc.send(garbage)
		rc.expectClosed()
	}
	// After a handshake: a bad RMSG size, a payload without CRLF.
	for _, garbage := range []string{"RMSG $G foo bar baz\r\n", "RMSG $G foo 2\r\nabcd\r\n", "RS+ $G\r\n"} {
		rc := dialRoute(t, s, "NGARBAGE", "c1")
		rc.send(garbage)
		rc.expectClosed()
	}
	nc.Publish("ok", nil)
	if _, err := sub.NextMsg(5 * time.Second); err != nil {
		t.Fatalf("client affected by bad routes: %v", err)
	}
	waitFor(t, "bad routes gone", func() bool { return s.NumRoutes() == 0 })
}

func TestRoute_OtherClusterNameRejected(t *testing.T) {
	s := runClustered(t)
	rc := dialRouteRaw(t, s)
	rc.send(`CONNECT {"name":"NOTHER","cluster":"other"}` + "\r\n")
	out := rc.expectClosed()
	if !strings.Contains(out, `-ERR 'Rejecting connection, cluster name "other" does not match "c1"'`) {
		t.Fatalf("got %q", out)
	}
	// A real server of another cluster seeded with s never joins, and keeps
	// retrying (a configured seed) without disturbing either side.
	o := servertest.Run(t, func(o *server.Options) {
		o.Cluster.Name, o.Cluster.Port = "other", -1
		o.Cluster.ConnectWait, o.Cluster.ConnectMax = 10*time.Millisecond, 20*time.Millisecond
		o.Cluster.Routes = []string{routeURL(s)}
	})
	nc := connect(t, o)
	sub, _ := nc.SubscribeSync("x")
	nc.Publish("x", nil)
	if _, err := sub.NextMsg(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if s.NumRoutes() != 0 || o.NumRoutes() != 0 {
		t.Fatal("servers of different clusters formed a route")
	}
}

func TestRoute_StalledPeerDroppedClientsUnaffected(t *testing.T) {
	s := servertest.Run(t, func(o *server.Options) {
		o.Cluster.Name, o.Cluster.Port = "c1", -1
		o.MaxPending = 256 << 10
		o.MaxPayload = 64 << 10
		o.WriteDeadline = 200 * time.Millisecond
	})
	rc := dialRoute(t, s, "NSTALLED", "c1")
	rc.send("RS+ $G big.>\r\nPING\r\n")
	rc.expect("PONG\r\n")
	// The peer now stops reading; a client publishes to it until the route
	// is cut off (over max_pending or past the write deadline).
	nc := connect(t, s)
	payload := make([]byte, 16<<10)
	waitFor(t, "stalled route dropped", func() bool {
		for i := 0; i < 64; i++ {
			nc.Publish("big.x", payload)
		}
		nc.Flush()
		return s.NumRoutes() == 0 && !routeInterest(s, "big.x")
	})
	// The publisher was never disconnected, and clients go on as before.
	if st := nc.Stats(); st.Reconnects != 0 || !nc.IsConnected() {
		t.Fatalf("publisher affected by the stalled route: %+v", st)
	}
	sub := connect(t, s)
	local, _ := sub.SubscribeSync("big.x")
	sub.Flush()
	nc.Publish("big.x", []byte("after"))
	m, err := local.NextMsg(5 * time.Second)
	if err != nil || string(m.Data) != "after" {
		t.Fatalf("local subscriber: %v %v", m, err)
	}
}

// routeInterest reports whether s still holds route interest in subject.
func routeInterest(s *server.Server, subject string) bool {
	return remoteSubs(s, subject) > 0
}
