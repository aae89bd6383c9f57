package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natsctl/natsctl/internal/natsservertest"
)

// TestBenchJS_CompareWithNatsServer measures stream publishing on natsctl
// and on nats-server v2.15.2 in the same run, with the same client
// (nats.go), and prints a table for docs/PERFORMANCE.md. It runs only
// with NATSCTL_BENCH=1:
//
//	NATSCTL_BENCH=1 go test -run TestBenchJS_CompareWithNatsServer -v -count=1 ./cmd/natsctl/
func TestBenchJS_CompareWithNatsServer(t *testing.T) {
	if os.Getenv("NATSCTL_BENCH") == "" {
		t.Skip("set NATSCTL_BENCH=1 to run the JetStream comparison")
	}
	type target struct {
		name string
		url  func(t *testing.T) string
	}
	natsConf := func(t *testing.T, extra string) string {
		dir := t.TempDir()
		conf := filepath.Join(dir, "js.conf")
		body := fmt.Sprintf("jetstream {\n  store_dir: %q\n%s}\n", filepath.Join(dir, "js"), extra)
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return conf
	}
	targets := []target{
		{"natsctl (sync_interval always, the default)", func(t *testing.T) string {
			return startServe(t, "--store_dir", t.TempDir()).url
		}},
		{"nats-server default (sync every 2m)", func(t *testing.T) string {
			return natsservertest.Start(t, "-c", natsConf(t, "")).ClientURL
		}},
		{"nats-server sync_interval: always", func(t *testing.T) string {
			return natsservertest.Start(t, "-c", natsConf(t, "  sync_interval: always\n")).ClientURL
		}},
	}
	type result struct {
		target, test string
		rate         float64
	}
	var results []result
	tests := []struct {
		name string
		run  func(t *testing.T, url string) float64
	}{
		{"file async pub 128B (4096 outstanding)", func(t *testing.T, url string) float64 {
			return benchAsync(t, url, jetstream.FileStorage, 50_000, 128)
		}},
		{"memory async pub 128B (4096 outstanding)", func(t *testing.T, url string) float64 {
			return benchAsync(t, url, jetstream.MemoryStorage, 50_000, 128)
		}},
		{"file sync pub 128B, 1 publisher", func(t *testing.T, url string) float64 {
			return benchSync(t, url, 1, 3*time.Second)
		}},
		{"file sync pub 128B, 16 publishers", func(t *testing.T, url string) float64 {
			return benchSync(t, url, 16, 3*time.Second)
		}},
	}
	for _, tc := range tests {
		for _, tg := range targets {
			t.Run(tc.name+"/"+tg.name, func(t *testing.T) {
				var rate float64
				defer func() { results = append(results, result{tg.name, tc.name, rate}) }()
				rate = tc.run(t, tg.url(t))
			})
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n| test | natsctl msgs/s | nats-server default | nats-server sync always | ratio vs default | ratio vs always |\n|---|---|---|---|---|---|\n")
	for i := 0; i+2 < len(results); i += 3 {
		o, d, a := results[i].rate, results[i+1].rate, results[i+2].rate
		fmt.Fprintf(&b, "| %s | %.0f | %.0f | %.0f | %.2f | %.2f |\n", results[i].test, o, d, a, o/d, o/a)
	}
	t.Log(b.String())
}

func benchStream(t *testing.T, url string, storage jetstream.StorageType, opts ...jetstream.JetStreamOpt) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateOrUpdateStream(ctxFor(t), jetstream.StreamConfig{Name: "BENCH", Subjects: []string{"bench"}, Storage: storage}); err != nil {
		t.Fatal(err)
	}
	return nc, js
}

func benchAsync(t *testing.T, url string, storage jetstream.StorageType, n, size int) float64 {
	_, js := benchStream(t, url, storage, jetstream.WithPublishAsyncMaxPending(4096))
	payload := make([]byte, size)
	start := time.Now()
	for i := 0; i < n; i++ {
		// A slow server stalls the publisher at 4096 outstanding acks.
		if _, err := js.PublishAsync("bench", payload, jetstream.WithStallWait(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(2 * time.Minute):
		t.Fatal("acks did not arrive")
	}
	rate := float64(n) / time.Since(start).Seconds()
	t.Logf("%.0f msgs/s", rate)
	return rate
}

func benchSync(t *testing.T, url string, pubs int, d time.Duration) float64 {
	_, js := benchStream(t, url, jetstream.FileStorage)
	payload := make([]byte, 128)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var mu sync.Mutex
	total := 0
	var wg sync.WaitGroup
	start := time.Now()
	for p := 0; p < pubs; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for ctx.Err() == nil {
				if _, err := js.Publish(context.Background(), "bench", payload); err != nil {
					break
				}
				n++
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	rate := float64(total) / time.Since(start).Seconds()
	t.Logf("%.0f msgs/s", rate)
	return rate
}
