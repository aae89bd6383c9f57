package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natsctl/natsctl/internal/natsservertest"
)

// TestBenchKV_CompareWithNatsServer measures nats.go's KeyValue Put and
// Get on natsctl and on nats-server v2.15.2 in the same run, five rounds
// alternating the servers, and prints a table for docs/PERFORMANCE.md.
// It runs only with NATSCTL_BENCH=1:
//
//	NATSCTL_BENCH=1 go test -run TestBenchKV_CompareWithNatsServer -v -count=1 -timeout 30m ./cmd/natsctl/
func TestBenchKV_CompareWithNatsServer(t *testing.T) {
	if os.Getenv("NATSCTL_BENCH") == "" {
		t.Skip("set NATSCTL_BENCH=1 to run the KV comparison")
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
	type target struct {
		name string
		url  func(t *testing.T) string
	}
	targets := []target{
		{"natsctl (sync always, the default)", func(t *testing.T) string { return startServe(t, "--store_dir", t.TempDir()).url }},
		{"natsctl --sync_interval 2m", func(t *testing.T) string {
			return startServe(t, "--store_dir", t.TempDir(), "--sync_interval", "2m").url
		}},
		{"nats-server default", func(t *testing.T) string { return natsservertest.Start(t, "-c", natsConf(t, "")).ClientURL }},
		{"nats-server sync always", func(t *testing.T) string {
			return natsservertest.Start(t, "-c", natsConf(t, "  sync_interval: always\n")).ClientURL
		}},
	}
	const workers, keys, dur = 16, 1000, 2 * time.Second
	tests := []struct {
		name string
		run  func(t *testing.T, kv jetstream.KeyValue) float64
	}{
		{"KV put 128B, 16 clients, file", func(t *testing.T, kv jetstream.KeyValue) float64 {
			return kvLoop(t, workers, dur, func(ctx context.Context, i int) error {
				_, err := kv.Put(ctx, fmt.Sprintf("k%d", i%keys), make([]byte, 128))
				return err
			})
		}},
		{"KV get 128B, 16 clients, file", func(t *testing.T, kv jetstream.KeyValue) float64 {
			for i := range keys {
				if _, err := kv.Put(ctxFor(t), fmt.Sprintf("k%d", i), make([]byte, 128)); err != nil {
					t.Fatal(err)
				}
			}
			return kvLoop(t, workers, dur, func(ctx context.Context, i int) error {
				_, err := kv.Get(ctx, fmt.Sprintf("k%d", i%keys))
				return err
			})
		}},
	}
	rates := map[string][]float64{} // test/target -> per round
	for round := range 5 {
		for _, tc := range tests {
			for _, tg := range targets {
				t.Run(fmt.Sprintf("round%d/%s/%s", round+1, tc.name, tg.name), func(t *testing.T) {
					nc, err := nats.Connect(tg.url(t))
					if err != nil {
						t.Fatal(err)
					}
					defer nc.Close()
					js, _ := jetstream.New(nc)
					kv, err := js.CreateKeyValue(ctxFor(t), jetstream.KeyValueConfig{Bucket: "bench", Storage: jetstream.FileStorage})
					if err != nil {
						t.Fatal(err)
					}
					r := tc.run(t, kv)
					t.Logf("%.0f ops/s", r)
					rates[tc.name+"|"+tg.name] = append(rates[tc.name+"|"+tg.name], r)
				})
			}
		}
	}
	var b strings.Builder
	// Like for like: each natsctl setting against the nats-server setting
	// with the same durability (fsync before the ack, or in the background).
	fmt.Fprintf(&b, "\n| test | round | natsctl always | nats-server always | ratio | natsctl 2m | nats-server default (2m) | ratio |\n|---|---|---|---|---|---|---|---|\n")
	for _, tc := range tests {
		r := func(i int) []float64 { return rates[tc.name+"|"+targets[i].name] }
		oa, o2, d, a := r(0), r(1), r(2), r(3)
		for i := range min(len(oa), len(o2), len(d), len(a)) {
			fmt.Fprintf(&b, "| %s | %d | %.0f | %.0f | %.2f | %.0f | %.0f | %.2f |\n", tc.name, i+1, oa[i], a[i], oa[i]/a[i], o2[i], d[i], o2[i]/d[i])
		}
	}
	t.Log(b.String())
}

// kvLoop runs op from n goroutines for d and returns operations per second.
func kvLoop(t *testing.T, n int, d time.Duration, op func(ctx context.Context, i int) error) float64 {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var total atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; ctx.Err() == nil; i += n {
				if err := op(context.Background(), i); err != nil {
					failed.Store(err)
					return
				}
				total.Add(1)
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		t.Fatalf("operation failed: %v", err)
	}
	return float64(total.Load()) / time.Since(start).Seconds()
}
