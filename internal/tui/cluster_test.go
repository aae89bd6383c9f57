package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/monitorapi"
)

func clusterSnap(at time.Time, msgs int64, withRouteBC bool) *ClusterSnapshot {
	start := time.Unix(1000, 0)
	server := func(id, name string, routes ...*monitorapi.RouteInfo) ServerSnap {
		return ServerSnap{URL: "http://" + name, Varz: &monitorapi.Varz{ID: id, Name: name, Start: start, Now: at, InMsgs: msgs, Routes: len(routes)},
			Routez: &monitorapi.Routez{ID: id, Now: at, Routes: routes, NumRoutes: len(routes)}}
	}
	r := func(rid uint64, to string) *monitorapi.RouteInfo {
		return &monitorapi.RouteInfo{Rid: rid, RemoteID: to, OutMsgs: msgs, InMsgs: msgs / 2}
	}
	a := server("A", "a", r(1, "B"), r(2, "C"))
	b := server("B", "b", r(1, "A"))
	c := server("C", "c", r(1, "A"))
	if withRouteBC {
		b.Routez.Routes = append(b.Routez.Routes, r(2, "C"))
	}
	return &ClusterSnapshot{Servers: []ServerSnap{a, b, c, {URL: "http://d", Err: "connection refused"}}}
}

func TestComputeClusterView(t *testing.T) {
	t0 := time.Unix(2000, 0)
	prev := clusterSnap(t0, 100, false)
	cur := clusterSnap(t0.Add(2*time.Second), 300, false)
	v := ComputeClusterView(prev, cur)
	if len(v.Servers) != 4 || !v.Servers[0].Up || v.Servers[3].Up || v.Servers[0].Rates.InMsgs != 100 {
		t.Fatalf("servers %+v", v.Servers)
	}
	if len(v.Missing) != 1 || v.Missing[0] != "b - c" {
		t.Fatalf("missing %v", v.Missing)
	}
	if r := v.Routes[0]; r.From != "a" || r.To != "b" || r.OutRate != 100 || r.InRate != 50 {
		t.Fatalf("route %+v", r)
	}
	if v := ComputeClusterView(nil, clusterSnap(t0, 1, true)); len(v.Missing) != 0 {
		t.Fatalf("full mesh reported missing %v", v.Missing)
	}
	text := strings.Join(clusterLines(v, true), "\n")
	for _, want := range []string{"3 of 4 servers up", "MISSING ROUTES: b - c", "down: connection refused"} {
		if !strings.Contains(text, want) {
			t.Errorf("view lacks %q:\n%s", want, text)
		}
	}
}
