package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestHeavyCrash_KillDuringPublish runs `natsctl serve` as a real process,
// publishes with acks from several goroutines (async, bounded outstanding
// acks) and kills the server with SIGKILL at a random moment, several
// times. After each restart every acknowledged message is present at its
// sequence, byte-identical, sequences rise in publish order, and new
// publishes continue above every sequence ever acknowledged.
//
// Heavy: skipped with -short; CI runs it in the step without -race.
func TestHeavyCrash_KillDuringPublish(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy: real processes killed with SIGKILL")
	}
	rounds := 5
	if os.Getenv("NATSCTL_HEAVY") != "" {
		rounds = 10
	}
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	acked := map[uint64][]byte{} // over all rounds
	var maxAcked uint64
	for round := 0; round < rounds; round++ {
		p := startServe(t, "--store_dir", dir)
		nc, err := nats.Connect(p.url, nats.NoReconnect())
		if err != nil {
			t.Fatal(err)
		}
		js, _ := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(256))
		ctx := ctxFor(t)
		if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "CRASH", Subjects: []string{"crash.>"}}); err != nil {
			t.Fatal(err)
		}
		// Everything acknowledged so far survived the previous kill.
		st, err := js.Stream(ctx, "CRASH")
		if err != nil {
			t.Fatal(err)
		}
		if last := st.CachedInfo().State.LastSeq; last < maxAcked {
			t.Fatalf("round %d: last_seq %d below acknowledged %d", round, last, maxAcked)
		}
		for seq, data := range acked {
			m, err := st.GetMsg(ctx, seq)
			if err != nil {
				t.Fatalf("round %d: acknowledged seq %d lost: %v", round, seq, err)
			}
			if !bytes.Equal(m.Data, data) {
				t.Fatalf("round %d: seq %d is %q, want %q", round, seq, m.Data, data)
			}
		}

		var mu sync.Mutex
		var wg sync.WaitGroup
		roundAcks := 0
		for w := 0; w < 3; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					data := []byte(fmt.Sprintf("r%d-w%d-%d-%x", round, w, i, r.Uint64()))
					f, err := js.PublishAsync(fmt.Sprintf("crash.%d", w), data)
					if err != nil {
						if nc.IsClosed() {
							return // the server was killed
						}
						continue
					}
					go func() {
						select {
						case ack := <-f.Ok():
							mu.Lock()
							if old, ok := acked[ack.Sequence]; ok {
								t.Errorf("sequence %d reused: %q acknowledged before, now %q", ack.Sequence, old, data)
							}
							acked[ack.Sequence] = data
							roundAcks++
							mu.Unlock()
						case <-f.Err():
						}
					}()
				}
			}()
		}
		// Kill at a random moment once the publishers are under way.
		delay := time.Duration(50+r.IntN(400)) * time.Millisecond
		time.Sleep(delay) // the random moment of the crash, not synchronisation
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-p.done
		nc.Close()
		wg.Wait()
		select {
		case <-js.PublishAsyncComplete():
		case <-time.After(10 * time.Second):
		}
		mu.Lock()
		for seq := range acked {
			maxAcked = max(maxAcked, seq)
		}
		t.Logf("round %d: killed after %v, %d acks this round, %d in all, max seq %d", round, delay, roundAcks, len(acked), maxAcked)
		mu.Unlock()
	}
	// Final restart: a new publish continues above every acknowledged seq.
	p := startServe(t, "--store_dir", dir)
	nc, err := nats.Connect(p.url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ack, err := js.Publish(ctxFor(t), "crash.end", []byte("end"))
	if err != nil || ack.Sequence <= maxAcked {
		t.Fatalf("after restarts: %+v %v (max acknowledged %d)", ack, err, maxAcked)
	}
	// Sequences rise in publish order per publisher: check through the
	// payload numbering of each round and worker.
	checkPublishOrder(t, acked)
}

// checkPublishOrder verifies that, per round and worker, a later message
// (higher i) never has a lower sequence.
func checkPublishOrder(t *testing.T, acked map[uint64][]byte) {
	t.Helper()
	type key struct{ round, w int }
	last := map[key][2]uint64{} // i, seq
	seqs := make([]uint64, 0, len(acked))
	for s := range acked {
		seqs = append(seqs, s)
	}
	slices.Sort(seqs)
	for _, s := range seqs {
		var k key
		var i uint64
		var x string
		if _, err := fmt.Sscanf(string(acked[s]), "r%d-w%d-%d-%s", &k.round, &k.w, &i, &x); err != nil {
			t.Fatalf("payload %q: %v", acked[s], err)
		}
		if prev, ok := last[k]; ok && i < prev[0] {
			t.Fatalf("round %d worker %d: message %d has seq %d above message %d's %d", k.round, k.w, prev[0], prev[1], i, s)
		}
		last[k] = [2]uint64{i, s}
	}
}
