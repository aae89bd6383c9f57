package server_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natsctl/natsctl/internal/natsservertest"
	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

// The stretch: nats-server v2.15 routes with us. It sees our INFO without
// route_pool_size or compression and treats us as a server without route
// pooling: one connection, accounts named in RS+/RS-/RMSG, no compression.
func TestClusterInterop_NatsServerRoutesBothWays(t *testing.T) {
	t.Run("default", func(t *testing.T) { testInterop(t, false) })
	// pool_size -1 makes nats-server speak the unpooled route protocol from
	// the start: no dedicated $SYS route attempt, no error in its log.
	t.Run("pool_size=-1", func(t *testing.T) { testInterop(t, true) })
}

func testInterop(t *testing.T, noPool bool) {
	a := runClustered(t)
	conf := "cluster {\n name: c1\n listen: \"127.0.0.1:-1\"\n routes: [\"" + routeURL(a) + "\"]\n"
	if noPool {
		conf += " pool_size: -1\n"
	}
	file := filepath.Join(t.TempDir(), "ns.conf")
	if err := os.WriteFile(file, []byte(conf+"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ns := natsservertest.Start(t, "-c", file)
	waitFor(t, "route from nats-server", func() bool { return a.NumRoutes() == 1 })

	onA := connect(t, a)
	onN, err := nats.Connect(ns.ClientURL)
	if err != nil {
		t.Fatal(err)
	}
	defer onN.Close()
	subN, _ := onN.SubscribeSync("to.n.>")
	onN.Flush()
	subA, _ := onA.SubscribeSync("to.a.>")
	onA.Flush()
	waitFor(t, "nats-server's interest on A", func() bool { return a.HasInterest("to.n.x") })

	// A -> nats-server, with headers.
	m := nats.NewMsg("to.n.x")
	m.Data = []byte("from natsctl")
	m.Header.Set("K", "v")
	onA.PublishMsg(m)
	got, err := subN.NextMsg(5 * time.Second)
	if err != nil || string(got.Data) != "from natsctl" || got.Header.Get("K") != "v" {
		t.Fatalf("natsctl -> nats-server: %v %v", got, err)
	}
	// nats-server -> A: its interest in our subscription arrives by RS+.
	for deadline := time.Now().Add(5 * time.Second); ; {
		onN.Publish("to.a.y", []byte("from nats-server"))
		if got, err = subA.NextMsg(20 * time.Millisecond); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server -> natsctl: %v", err)
		}
	}
	if string(got.Data) != "from nats-server" {
		t.Fatalf("got %q", got.Data)
	}
	// Request/reply both ways, and a queue group served across the route.
	onN.Subscribe("svc.n", func(m *nats.Msg) { m.Respond([]byte("n")) })
	onN.QueueSubscribe("q.work", "g", func(m *nats.Msg) { m.Respond([]byte("n")) })
	onN.Flush()
	waitFor(t, "svc interest", func() bool { return a.HasInterest("svc.n") && a.HasInterest("q.work") })
	for _, subj := range []string{"svc.n", "q.work"} {
		r, err := onA.Request(subj, nil, 5*time.Second)
		if err != nil || string(r.Data) != "n" {
			t.Fatalf("request %s from natsctl to nats-server: %v %v", subj, r, err)
		}
	}
	onA.Subscribe("svc.a", func(m *nats.Msg) { m.Respond([]byte("a")) })
	onA.Flush()
	for deadline := time.Now().Add(5 * time.Second); ; {
		r, err := onN.Request("svc.a", nil, 100*time.Millisecond)
		if err == nil && string(r.Data) == "a" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("request from nats-server to natsctl: %v", err)
		}
	}
	ns.Stop() // its log is read once it has exited
	for _, l := range strings.Split(ns.Log.String(), "\n") {
		// With pooling on, nats-server first tries a route dedicated to
		// $SYS and reports, once, that we cannot have one.
		if strings.Contains(l, "[ERR]") && (noPool || !strings.Contains(l, `dedicated route for account "$SYS"`)) {
			t.Errorf("nats-server logged an error: %s", l)
		}
	}
}

// Our servers dial nats-server, and its gossip meshes them with each other.
func TestClusterInterop_MixedMeshByGossip(t *testing.T) {
	ns := natsservertest.Start(t, "-m", "-1", "--cluster_name", "c1", "--cluster", "nats://127.0.0.1:-1")
	resp, err := http.Get(ns.MonitorURL + "/varz")
	if err != nil {
		t.Fatal(err)
	}
	var varz struct {
		Cluster struct {
			Port int `json:"cluster_port"`
		} `json:"cluster"`
	}
	err = json.NewDecoder(resp.Body).Decode(&varz)
	resp.Body.Close()
	if err != nil || varz.Cluster.Port == 0 {
		t.Fatalf("nats-server /varz cluster port: %v", err)
	}
	nsRoute := "nats://127.0.0.1:" + strconv.Itoa(varz.Cluster.Port)
	seeded := func() *server.Server {
		return servertest.Run(t, func(o *server.Options) {
			o.Cluster.Name, o.Cluster.Port = "c1", -1
			o.Cluster.ConnectWait, o.Cluster.ConnectMax = 20*time.Millisecond, 200*time.Millisecond
			o.Cluster.Routes = []string{nsRoute}
		})
	}
	a, b := seeded(), seeded()
	waitFor(t, "A and B meshed through nats-server's gossip", func() bool { return a.NumRoutes() == 2 && b.NumRoutes() == 2 })
	sub := connect(t, b)
	s, _ := sub.SubscribeSync("mixed")
	sub.Flush()
	waitFor(t, "B's interest on A", func() bool { return remoteSubs(a, "mixed") == 1 })
	connect(t, a).Publish("mixed", []byte("x"))
	if _, err := s.NextMsg(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	// One hop: A delivered to B directly; nats-server did not forward it.
	if _, err := s.NextMsg(100 * time.Millisecond); err == nil {
		t.Fatal("message delivered twice")
	}
}
