package streaming

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestHeavy_AtLeastOnceWithCrashingWorkers: 100,000 messages through a
// durable shared by 3 workers that crash (drop their connection without
// acknowledging what they hold) and restart at random. Every message is
// processed at least once; duplicates are counted and reported.
func TestHeavy_AtLeastOnceWithCrashingWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy")
	}
	s, _ := runEngine(t, Config{})
	_, js := connectJS(t, s)
	mustCreate(t, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	const total = 100_000
	publishAsyncN(t, js, "s.x", total)
	mustConsumer(t, js, "S", jetstream.ConsumerConfig{Durable: "W", AckPolicy: jetstream.AckExplicitPolicy, AckWait: 2 * time.Second, MaxAckPending: 3000})

	var mu sync.Mutex
	count := make([]uint8, total)
	done := 0
	finished := make(chan struct{})
	record := func(i int) {
		mu.Lock()
		defer mu.Unlock()
		if count[i] == 0 {
			done++
			if done == total {
				close(finished)
			}
		}
		if count[i] < 255 {
			count[i]++
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	crashes := make([]int, 3)
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 42))
			for {
				select {
				case <-stop:
					return
				default:
				}
				nc, err := nats.Connect(s.ClientURL())
				if err != nil {
					continue
				}
				wjs, _ := jetstream.New(nc)
				c, err := wjs.Consumer(ctxT(t), "S", "W")
				if err != nil {
					nc.Close()
					continue
				}
				life := 200 + r.IntN(3000) // messages before this worker crashes
				for life > 0 {
					b, err := c.Fetch(100, jetstream.FetchMaxWait(time.Second))
					if err != nil {
						break
					}
					for m := range b.Messages() {
						i, _ := strconv.Atoi(string(m.Data()))
						record(i)
						if life--; life <= 0 {
							break // crash while holding the rest
						}
						_ = m.Ack()
					}
					select {
					case <-stop:
						life = 0
					default:
					}
				}
				nc.Close()
				crashes[w]++
			}
		}()
	}
	select {
	case <-finished:
	case <-time.After(3 * time.Minute):
		mu.Lock()
		t.Fatalf("processed %d of %d", done, total)
	}
	close(stop)
	wg.Wait()
	dups := 0
	for _, n := range count {
		if n > 1 {
			dups += int(n - 1)
		}
	}
	t.Logf("all %d messages processed at least once; %d duplicate deliveries; worker crashes %v", total, dups, crashes)
}
