package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natsctl/natsctl/internal/natsservertest"
)

// TestHeavyBench_Consumers compares consumer throughput of natsctl serve
// with nats-server (both as processes, default settings, file storage)
// in the same run: 5 rounds, alternating servers, median msgs/s.
//
//	go test ./cmd/natsctl/ -run TestHeavyBench_Consumers -v -count=1
//
// Workloads (100,000 messages of 128 bytes in a file stream):
//   - pull: a durable pull consumer read with Consume (nats.go defaults),
//     every message acknowledged explicitly (Ack, not double ack);
//   - ordered: an ordered consumer read with Messages().
func TestHeavyBench_Consumers(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy")
	}
	const total, size, rounds = 100_000, 128, 5
	ours := startServe(t, "--store_dir", t.TempDir())
	ref := natsservertest.Start(t, "-js", "-sd", t.TempDir())
	servers := []struct{ name, url string }{{"natsctl", ours.url}, {"nats-server", ref.ClientURL}}
	results := map[string]map[string][]float64{}
	payload := []byte(strings.Repeat("x", size))
	for round := range rounds {
		for _, srv := range servers {
			nc, err := nats.Connect(srv.url)
			if err != nil {
				t.Fatal(err)
			}
			js, _ := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(20000))
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			name := fmt.Sprintf("B%d", round)
			if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{name + ".>"}}); err != nil {
				t.Fatal(err)
			}
			for i := range total {
				if _, err := js.PublishAsync(name+".x", payload, jetstream.WithStallWait(time.Minute)); err != nil {
					t.Fatal(err)
				}
				if i%10000 == 9999 {
					<-js.PublishAsyncComplete()
				}
			}
			<-js.PublishAsyncComplete()

			c, err := js.CreateConsumer(ctx, name, jetstream.ConsumerConfig{Durable: "P", AckPolicy: jetstream.AckExplicitPolicy})
			if err != nil {
				t.Fatal(err)
			}
			got := make(chan struct{})
			n := 0
			start := time.Now()
			cc, err := c.Consume(func(m jetstream.Msg) {
				_ = m.Ack()
				if n++; n == total {
					close(got)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-got:
			case <-ctx.Done():
				t.Fatalf("%s pull: %d of %d", srv.name, n, total)
			}
			pull := float64(total) / time.Since(start).Seconds()
			cc.Stop()

			oc, err := js.OrderedConsumer(ctx, name, jetstream.OrderedConsumerConfig{})
			if err != nil {
				t.Fatal(err)
			}
			start = time.Now()
			it, err := oc.Messages()
			if err != nil {
				t.Fatal(err)
			}
			for range total {
				if _, err := it.Next(); err != nil {
					t.Fatalf("%s ordered: %v", srv.name, err)
				}
			}
			ordered := float64(total) / time.Since(start).Seconds()
			it.Stop()
			_ = js.DeleteStream(ctx, name)
			cancel()
			nc.Close()
			if results[srv.name] == nil {
				results[srv.name] = map[string][]float64{}
			}
			results[srv.name]["pull"] = append(results[srv.name]["pull"], pull)
			results[srv.name]["ordered"] = append(results[srv.name]["ordered"], ordered)
			t.Logf("round %d %-11s pull+ack %8.0f msgs/s  ordered %8.0f msgs/s", round+1, srv.name, pull, ordered)
		}
	}
	for _, w := range []string{"pull", "ordered"} {
		a, b := median(results["natsctl"][w]), median(results["nats-server"][w])
		t.Logf("median %-7s natsctl %8.0f  nats-server %8.0f  ratio %.2f", w, a, b, a/b)
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
