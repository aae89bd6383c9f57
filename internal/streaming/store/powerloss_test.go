package store

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestPowerLoss_DefaultPolicyLosesNothing cuts the power at random moments
// while writers append and delete; after each "reboot" every acknowledged
// message is there, byte-identical, every acknowledged delete holds, and
// nothing is reported but a torn tail.
func TestPowerLoss_DefaultPolicyLosesNothing(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	fs := newFaultFS()
	cfg := FileConfig{Config: Config{Name: "PL"}, Dir: "/data/PL", SegmentSize: 2048, FS: fs}
	stored := map[uint64][]byte{}
	deleted := map[uint64]bool{}
	uncertain := map[uint64]bool{} // a delete that failed may or may not have landed
	var maxSeq uint64
	for round := range 30 {
		cfg.FS = fs
		s, err := OpenFile(cfg)
		if err != nil {
			t.Fatalf("round %d: open: %v (files %s)", round, err, fs.List())
		}
		for _, rep := range s.Reports() {
			if !rep.Torn {
				t.Fatalf("round %d: %s", round, rep)
			}
		}
		var sm Msg
		for seq, data := range stored {
			if uncertain[seq] {
				continue
			}
			m, err := s.LoadMsg(seq, &sm)
			switch {
			case deleted[seq] && !errors.Is(err, ErrNotFound):
				t.Fatalf("round %d: deleted seq %d is back: %v", round, seq, err)
			case !deleted[seq] && (err != nil || !bytes.Equal(m.Data, data)):
				t.Fatalf("round %d: acknowledged seq %d: %v %+v, want %q", round, seq, err, m, data)
			}
		}
		if st := s.State(false); st.LastSeq < maxSeq {
			t.Fatalf("round %d: LastSeq %d < acknowledged %d", round, st.LastSeq, maxSeq)
		}

		// Writers and a deleter run until the power goes.
		var mu sync.Mutex
		var acks atomic.Int64
		var wg sync.WaitGroup
		newSeqs := map[uint64][]byte{}
		newDeletes := map[uint64]bool{}
		newUncertain := map[uint64]bool{}
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					data := []byte("round-" + strconv.Itoa(round) + "-w" + strconv.Itoa(w) + "-" + strconv.Itoa(i))
					seq, err := s.StoreMsg("pl."+strconv.Itoa(w), nil, data, 0)
					if err != nil {
						return
					}
					mu.Lock()
					if seq <= maxSeq || newSeqs[seq] != nil {
						mu.Unlock()
						t.Errorf("sequence %d reused", seq)
						return
					}
					newSeqs[seq] = data
					mu.Unlock()
					acks.Add(1)
					if w == 0 && i%5 == 4 {
						victim := seq - uint64(i%3) - 1
						if ok, err := s.RemoveMsg(victim, i%10 == 9); err != nil {
							mu.Lock()
							newUncertain[victim] = true
							mu.Unlock()
							return
						} else if ok {
							mu.Lock()
							newDeletes[victim] = true
							mu.Unlock()
						}
					}
				}
			}()
		}
		target := int64(10 + r.IntN(150))
		deadline := time.Now().Add(10 * time.Second)
		for acks.Load() < target && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		next := fs.powerLoss(r, round%2 == 0)
		wg.Wait()
		_ = s.Close()
		fs = next
		for seq, data := range newSeqs {
			stored[seq] = data
			maxSeq = max(maxSeq, seq)
		}
		for seq := range newDeletes {
			deleted[seq] = true
		}
		for seq := range newUncertain {
			uncertain[seq] = true
		}
	}
	if len(stored) < 300 {
		t.Fatalf("only %d messages stored", len(stored))
	}
}

// TestPowerLoss_IntervalPolicy shows what the lazy policy gives up: the
// store reopens and serves only messages that were stored, intact.
func TestPowerLoss_IntervalPolicy(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	fs := newFaultFS()
	cfg := FileConfig{Config: Config{Name: "PLI"}, Dir: "/data/PLI", SegmentSize: 2048, FS: fs, SyncInterval: time.Hour}
	stored := map[string]bool{}
	for round := range 5 {
		cfg.FS = fs
		s, err := OpenFile(cfg)
		if err != nil {
			t.Fatalf("round %d: open: %v", round, err)
		}
		st := s.State(false)
		var sm Msg
		for seq := st.FirstSeq; seq <= st.LastSeq; seq++ {
			m, err := s.LoadMsg(seq, &sm)
			if err == nil && !stored[string(m.Data)] {
				t.Fatalf("round %d: seq %d holds %q, never stored", round, seq, m.Data)
			}
		}
		for i := range 100 {
			data := "r" + strconv.Itoa(round) + "-" + strconv.Itoa(i)
			if _, err := s.StoreMsg("x", nil, []byte(data), 0); err != nil {
				t.Fatal(err)
			}
			stored[data] = true
		}
		fs = fs.powerLoss(r, true)
		_ = s.Close()
	}
}
