package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/natsctl/natsctl/internal/iostreams"
	"github.com/natsctl/natsctl/internal/natsservertest"
	"github.com/natsctl/natsctl/internal/tui"
)

// A 2-server nats-server cluster (natsctl serve has no monitoring HTTP on
// this branch yet) and a third, unreachable endpoint.
func liveCluster(t *testing.T) []string {
	t.Helper()
	a := natsservertest.Start(t, "-m", "-1", "-n", "alpha", "--cluster_name", "c1", "--cluster", "nats://127.0.0.1:-1")
	b := natsservertest.Start(t, "-m", "-1", "-n", "beta", "--cluster_name", "c1", "--cluster", "nats://127.0.0.1:-1", "--routes", nsRouteURL(t, a.MonitorURL))
	deadline := time.Now().Add(10 * time.Second)
	for {
		ios, _, out, _ := iostreams.Test()
		o := topOpts(ios, a.MonitorURL)
		o.Servers, o.Once = []string{a.MonitorURL, b.MonitorURL}, true
		if runTop(context.Background(), o) == nil && strings.Contains(out.String(), "full mesh") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster did not form: %s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return []string{a.MonitorURL, b.MonitorURL}
}

func TestRunTopCluster_Once(t *testing.T) {
	urls := liveCluster(t)
	ios, _, out, _ := iostreams.Test()
	o := topOpts(ios, urls[0])
	o.Servers, o.Once = append(urls, "http://127.0.0.1:9"), true
	if err := runTop(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"2 of 3 servers up", "full mesh", "alpha", "beta", "down:", "ROUTE FROM"} {
		if !strings.Contains(s, want) {
			t.Fatalf("report lacks %q:\n%s", want, s)
		}
	}
	var routes int
	for _, l := range strings.Split(s, "\n") {
		if f := strings.Fields(l); len(f) > 2 && (f[0] == "alpha" && f[1] == "beta" || f[0] == "beta" && f[1] == "alpha") {
			routes++
		}
	}
	if routes != 2 {
		t.Fatalf("want the route seen from both servers:\n%s", s)
	}
}

func TestRunTopCluster_JSONAndInteractive(t *testing.T) {
	urls := liveCluster(t)
	ios, _, out, _ := iostreams.Test()
	o := topOpts(ios, urls[0])
	o.Servers, o.JSON = urls, true
	if err := runTop(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	var snap tui.ClusterSnapshot
	if err := json.Unmarshal(out.Bytes(), &snap); err != nil || len(snap.Servers) != 2 || snap.Servers[0].Routez == nil || snap.Servers[0].Routez.NumRoutes < 1 {
		t.Fatalf("json: %v %s", err, out)
	}

	ios, _, _, _ = iostreams.Test()
	ios.OutTTY = true
	o = topOpts(ios, urls[0])
	o.Servers = urls
	var ran bool
	o.RunClusterUI = func(_ context.Context, m tea.Model, _ *iostreams.IOStreams) error {
		ran = true
		cm := m.(tui.ClusterModel)
		msg := cm.Init()()
		next, _ := cm.Update(msg)
		v := next.(tui.ClusterModel).ClusterView()
		if len(v.Servers) != 2 || len(v.Routes) != 2 || len(v.Missing) != 0 {
			t.Errorf("view %+v", v)
		}
		return nil
	}
	if err := runTop(context.Background(), o); err != nil || !ran {
		t.Fatalf("err %v ran %v", err, ran)
	}
}
