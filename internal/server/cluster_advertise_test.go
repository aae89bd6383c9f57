package server_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/natsctl/natsctl/internal/server"
)

func infoURLs(t *testing.T, s *server.Server) []string {
	t.Helper()
	rc := dialRaw(t, s)
	var info struct {
		URLs []string `json:"connect_urls"`
	}
	json.Unmarshal([]byte(strings.TrimSpace(strings.TrimPrefix(rc.info, "INFO "))), &info)
	return info.URLs
}

func TestCluster_ClientAdvertise(t *testing.T) {
	a := clusteredWith(t, func(o *server.Options) { o.ClientAdvertise = "nats.example.com:4333" })
	b := clusteredWith(t, func(*server.Options) {}, a)
	waitMesh(t, a, b)
	waitFor(t, "B's clients told A's advertised address", func() bool {
		return slices.Contains(infoURLs(t, b), "nats.example.com:4333")
	})
	if urls := infoURLs(t, a); urls[0] != "nats.example.com:4333" || slices.Contains(urls, a.Addr().String()) {
		t.Fatalf("A's own connect_urls %v", urls)
	}
}

func TestCluster_NoAdvertise(t *testing.T) {
	a := clusteredWith(t, func(o *server.Options) { o.Cluster.NoAdvertise = true })
	b := clusteredWith(t, func(*server.Options) {}, a)
	c := clusteredWith(t, func(*server.Options) {}, b)
	waitMesh(t, a, b, c)
	waitFor(t, "C known to B's clients", func() bool { return slices.Contains(infoURLs(t, b), c.Addr().String()) })
	if urls := infoURLs(t, b); slices.Contains(urls, a.Addr().String()) {
		t.Fatalf("A has no_advertise but B offers it: %v", urls)
	}
	if urls := infoURLs(t, a); len(urls) != 1 || urls[0] != a.Addr().String() {
		t.Fatalf("A with no_advertise offers %v", urls)
	}
}

func TestCluster_ClusterAdvertiseInRouteInfo(t *testing.T) {
	a := clusteredWith(t, func(o *server.Options) { o.Cluster.Advertise = "10.1.2.3:7000" })
	rc := dialRouteRaw(t, a)
	var info struct {
		Host string `json:"host"`
		Port int    `json:"port"`
		IP   string `json:"ip"`
	}
	json.Unmarshal([]byte(strings.TrimSpace(strings.TrimPrefix(rc.info, "INFO "))), &info)
	if info.Host != "10.1.2.3" || info.Port != 7000 || info.IP != "nats-route://10.1.2.3:7000/" {
		t.Fatalf("route INFO %s", rc.info)
	}
	if v := a.ClusterVarz(); v.Name != "c1" || v.Port != a.ClusterAddr().Port {
		t.Fatalf("varz cluster %+v", v)
	}
}
