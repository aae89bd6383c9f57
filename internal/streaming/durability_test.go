package streaming

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natsctl/natsctl/internal/server"
)

// startAt runs a server with an engine on dir (and fs, when not nil) that
// the caller shuts down; logs go to logBuf when given.
func startAt(t *testing.T, cfg Config, logBuf *syncBuffer) *server.Server {
	t.Helper()
	if logBuf != nil {
		cfg.Logger = slog.New(slog.NewTextHandler(logBuf, nil))
	}
	s, err := server.New(server.Options{Host: "127.0.0.1", Port: -1, Engine: New(cfg)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdown(s) })
	return s
}

func shutdown(s *server.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.Shutdown(ctx)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestPowerLoss_DefaultSyncKeepsAckedMessages publishes from several
// connections while the power is cut at a random moment (a file system
// that drops every write not yet fsynced); after the "reboot" every
// acknowledged message is there, byte-identical.
func TestPowerLoss_DefaultSyncKeepsAckedMessages(t *testing.T) {
	rounds := 5
	if testing.Short() {
		rounds = 2
	}
	for round := 0; round < rounds; round++ {
		t.Run(fmt.Sprint("round", round), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(round), 42))
			dir := t.TempDir()
			fs := newFaultFS()
			s := startAt(t, Config{StoreDir: dir, FS: fs, segmentSize: 64 << 10}, nil)
			_, js := connectJS(t, s)
			mustCreate(t, js, jetstream.StreamConfig{Name: "PL", Subjects: []string{"pl.*"}})

			var mu sync.Mutex
			acked := map[uint64][]byte{}
			var wg sync.WaitGroup
			stop := make(chan struct{})
			for w := 0; w < 4; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, wjs := connectJS(t, s)
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						data := []byte(fmt.Sprintf("w%d-%d-%s", w, i, strings.Repeat("x", i%300)))
						ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
						ack, err := wjs.Publish(ctx, fmt.Sprintf("pl.%d", w), data, jetstream.WithRetryAttempts(0))
						cancel()
						if err != nil {
							continue
						}
						mu.Lock()
						acked[ack.Sequence] = data
						mu.Unlock()
					}
				}()
			}
			// Cut the power once some messages were acknowledged.
			deadline := time.Now().Add(20 * time.Second)
			want := 50 + r.IntN(500)
			for {
				mu.Lock()
				n := len(acked)
				mu.Unlock()
				if n >= want || time.Now().After(deadline) {
					break
				}
				time.Sleep(time.Millisecond) // polling a condition, with a deadline
			}
			next := fs.powerLoss(r, true)
			mu.Lock()
			snapshot := make(map[uint64][]byte, len(acked))
			for k, v := range acked {
				snapshot[k] = v
			}
			mu.Unlock()
			close(stop)
			wg.Wait()
			shutdown(s)
			if len(snapshot) == 0 {
				t.Fatal("nothing was acknowledged before the power cut")
			}

			s2 := startAt(t, Config{StoreDir: dir, FS: next, segmentSize: 64 << 10}, nil)
			_, js2 := connectJS(t, s2)
			st, err := js2.Stream(ctxT(t), "PL")
			if err != nil {
				t.Fatal(err)
			}
			var maxSeq uint64
			for seq, data := range snapshot {
				maxSeq = max(maxSeq, seq)
				m, err := st.GetMsg(ctxT(t), seq)
				if err != nil {
					t.Fatalf("acked seq %d lost after power loss: %v", seq, err)
				}
				if !bytes.Equal(m.Data, data) {
					t.Fatalf("seq %d: %q, want %q", seq, m.Data, data)
				}
			}
			ack, err := js2.Publish(ctxT(t), "pl.0", []byte("after"))
			if err != nil || ack.Sequence <= maxSeq {
				t.Fatalf("publish after reboot: %+v %v (max acked %d)", ack, err, maxSeq)
			}
		})
	}
}

// segments lists the segment files of a stream, oldest first.
func segments(t *testing.T, dir, stream string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "streams", stream, msgsDir, "*.seg"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no segments: %v", err)
	}
	sort.Strings(paths)
	return paths
}

// fillStream publishes n numbered messages of about 100 bytes.
func fillStream(t *testing.T, js jetstream.JetStream, name string, n int) map[uint64][]byte {
	t.Helper()
	mustCreate(t, js, jetstream.StreamConfig{Name: name, Subjects: []string{"c.>"}})
	sent := map[uint64][]byte{}
	for i := 0; i < n; i++ {
		data := []byte(fmt.Sprintf("%05d-%s", i, strings.Repeat("p", 90)))
		f, err := js.PublishAsync("c.x", data)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case ack := <-f.Ok():
			sent[ack.Sequence] = data
		case err := <-f.Err():
			t.Fatal(err)
		}
	}
	return sent
}

// checkServes verifies that every message is either served intact or not
// served at all, and returns the sequences not served.
func checkServes(t *testing.T, js jetstream.JetStream, name string, sent map[uint64][]byte) []uint64 {
	t.Helper()
	st, err := js.Stream(ctxT(t), name)
	if err != nil {
		t.Fatal(err)
	}
	var missing []uint64
	for seq := uint64(1); seq <= uint64(len(sent)); seq++ {
		m, err := st.GetMsg(ctxT(t), seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			missing = append(missing, seq)
			continue
		}
		if err != nil {
			t.Fatalf("get %d: %v", seq, err)
		}
		if !bytes.Equal(m.Data, sent[seq]) {
			t.Fatalf("seq %d served corrupted: %q", seq, m.Data)
		}
	}
	return missing
}

func TestCorruption_BitFlipAndTruncation(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, segs []string)
		torn   bool
	}{
		{"bit flip in the middle of the first segment", func(t *testing.T, segs []string) {
			b, err := os.ReadFile(segs[0])
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 0x10
			if err := os.WriteFile(segs[0], b, 0o640); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"first segment truncated in the middle", func(t *testing.T, segs []string) {
			fi, _ := os.Stat(segs[0])
			if err := os.Truncate(segs[0], fi.Size()/2); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"last segment truncated in the middle", func(t *testing.T, segs []string) {
			last := segs[len(segs)-1]
			fi, _ := os.Stat(last)
			if err := os.Truncate(last, fi.Size()/2); err != nil {
				t.Fatal(err)
			}
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := Config{StoreDir: dir, segmentSize: 8 << 10}
			s := startAt(t, cfg, nil)
			_, js := connectJS(t, s)
			sent := fillStream(t, js, "DMG", 300)
			shutdown(s)
			segs := segments(t, dir, "DMG")
			if len(segs) < 3 {
				t.Fatalf("want several segments, got %d", len(segs))
			}
			tc.damage(t, segs)

			var logs syncBuffer
			s2 := startAt(t, cfg, &logs)
			_, js2 := connectJS(t, s2)
			missing := checkServes(t, js2, "DMG", sent)
			if len(missing) == 0 {
				t.Fatal("damage lost no message")
			}
			out := logs.String()
			wantRange := fmt.Sprintf("sequences %d-%d lost", missing[0], missing[len(missing)-1])
			if tc.torn {
				wantRange = fmt.Sprintf("sequences from %d may be lost", missing[0])
			}
			if !strings.Contains(out, "stream damage") || !strings.Contains(out, `\"DMG\"`) || !strings.Contains(out, wantRange) {
				t.Fatalf("damage not reported with stream and range %q (missing %v):\n%s", wantRange, missing, out)
			}
			// Sequences continue after the highest one ever assigned.
			ack, err := js2.Publish(ctxT(t), "c.x", []byte("after"))
			if err != nil {
				t.Fatal(err)
			}
			if !tc.torn && ack.Sequence != uint64(len(sent))+1 {
				t.Fatalf("sequence after damage: %d, want %d", ack.Sequence, len(sent)+1)
			}
			if tc.torn && ack.Sequence != missing[0] && ack.Sequence != uint64(len(sent))+1 {
				t.Fatalf("sequence after torn tail: %d (missing from %d)", ack.Sequence, missing[0])
			}
		})
	}
}
