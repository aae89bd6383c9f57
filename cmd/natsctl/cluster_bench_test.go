package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natsctl/natsctl/internal/natsservertest"
)

// TestBenchCluster_CompareWithNatsServer measures route throughput: a
// publisher on server A, a subscriber on server B of a 2-server cluster,
// 16-byte messages, for natsctl and nats-server v2.15.2 started in the same
// run, alternating, and prints msgs/s and the ratio. Not a pass/fail test:
//
//	NATSCTL_BENCH=1 go test -run TestBenchCluster -v -count=1 ./cmd/natsctl/
func TestBenchCluster_CompareWithNatsServer(t *testing.T) {
	if os.Getenv("NATSCTL_BENCH") == "" {
		t.Skip("set NATSCTL_BENCH=1 to run the cluster benchmark")
	}
	const rounds, n = 5, 2_000_000
	var ours, theirs []float64
	for r := 0; r < rounds; r++ {
		a := startNode(t, "")
		b := startNode(t, a.route)
		waitMeshed(t, a, b)
		ours = append(ours, routeThroughput(t, a.url, b.url, n))
		a.cmd.Process.Kill()
		b.cmd.Process.Kill()

		na := natsservertest.Start(t, "-m", "-1", "--cluster_name", "c1", "--cluster", "nats://127.0.0.1:-1")
		nb := natsservertest.Start(t, "--cluster_name", "c1", "--cluster", "nats://127.0.0.1:-1", "--routes", nsRouteURL(t, na.MonitorURL))
		theirs = append(theirs, routeThroughput(t, na.ClientURL, nb.ClientURL, n))
		na.Stop()
		nb.Stop()
		t.Logf("round %d: natsctl %.0f msgs/s, nats-server %.0f msgs/s", r+1, ours[r], theirs[r])
	}
	mo, mt := median(ours), median(theirs)
	t.Logf("median of %d rounds, %d x 16 B, pub on A, sub on B: natsctl %.0f msgs/s, nats-server %.0f msgs/s, ratio %.2f", rounds, n, mo, mt, mo/mt)
}

func nsRouteURL(t *testing.T, monitor string) string {
	t.Helper()
	resp, err := http.Get(monitor + "/varz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		Cluster struct {
			Port int `json:"cluster_port"`
		} `json:"cluster"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v.Cluster.Port == 0 {
		t.Fatalf("nats-server route port: %v", err)
	}
	return fmt.Sprintf("nats://127.0.0.1:%d", v.Cluster.Port)
}

// routeThroughput publishes n 16-byte messages on pubURL and returns the
// rate at which the subscriber on subURL received them (first publish to
// last receipt).
func routeThroughput(t *testing.T, pubURL, subURL string, n int) float64 {
	t.Helper()
	pub := natsConnect(t, pubURL)
	sub := natsConnect(t, subURL)
	defer pub.Close()
	defer sub.Close()
	var got atomic.Int64
	done := make(chan struct{})
	s, err := sub.Subscribe("bench.data", func(*nats.Msg) {
		if got.Add(1) == int64(n) {
			close(done)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	s.SetPendingLimits(-1, -1)
	ready(t, pub, "bench.ready", sub)
	msg := make([]byte, 16)
	start := time.Now()
	for i := 0; i < n; i++ {
		pub.Publish("bench.data", msg)
	}
	pub.Flush()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Logf("only %d of %d messages arrived (dropped on the way)", got.Load(), n)
	}
	return float64(got.Load()) / time.Since(start).Seconds()
}
