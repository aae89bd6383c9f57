package store

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// storeKind builds one kind of store; every suite test runs against all
// of them (STYLE §7: one suite, every store).
type storeKind struct {
	name string
	open func(t testing.TB, cfg Config) Store
}

func storeKinds() []storeKind {
	return []storeKind{
		{"memory", func(t testing.TB, cfg Config) Store {
			s, err := NewMemory(cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		}},
		{"file", func(t testing.TB, cfg Config) Store {
			return openFileT(t, FileConfig{Config: cfg, Dir: t.TempDir(), SegmentSize: 4096})
		}},
		{"file-interval", func(t testing.TB, cfg Config) Store {
			return openFileT(t, FileConfig{Config: cfg, Dir: t.TempDir(), SegmentSize: 4096, SyncInterval: 10 * time.Millisecond})
		}},
	}
}

func openFileT(t testing.TB, cfg FileConfig) Store {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "TEST"
	}
	s, err := OpenFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func forEachStore(t *testing.T, cfg Config, f func(t *testing.T, s Store)) {
	for _, k := range storeKinds() {
		t.Run(k.name, func(t *testing.T) { f(t, k.open(t, cfg)) })
	}
}

func mustStore(t testing.TB, s Store, subj string, hdr, data []byte) uint64 {
	t.Helper()
	seq, err := s.StoreMsg(subj, hdr, data, 0)
	if err != nil {
		t.Fatalf("StoreMsg(%q): %v", subj, err)
	}
	return seq
}

func checkMsg(t testing.TB, s Store, seq uint64, subj string, hdr, data []byte) {
	t.Helper()
	m, err := s.LoadMsg(seq, nil)
	if err != nil {
		t.Fatalf("LoadMsg(%d): %v", seq, err)
	}
	if m.Seq != seq || m.Subject != subj || !bytes.Equal(m.Header, hdr) || (hdr == nil) != (m.Header == nil) || !bytes.Equal(m.Data, data) {
		t.Fatalf("LoadMsg(%d) = seq %d %q hdr %q data %q; want %q hdr %q data %q", seq, m.Seq, m.Subject, m.Header, m.Data, subj, hdr, data)
	}
}

func TestSuite_StoreLoad(t *testing.T) {
	forEachStore(t, Config{Name: "S"}, func(t *testing.T, s Store) {
		ts := time.Unix(1700000000, 5).UnixNano()
		seq, err := s.StoreMsg("a.b", []byte("NATS/1.0\r\nX: 1\r\n\r\n"), []byte("hello"), ts)
		if err != nil || seq != 1 {
			t.Fatalf("StoreMsg = %d, %v", seq, err)
		}
		if seq := mustStore(t, s, "a.c", nil, []byte("world")); seq != 2 {
			t.Fatalf("seq = %d", seq)
		}
		if seq := mustStore(t, s, "a.d", []byte{}, nil); seq != 3 {
			t.Fatalf("seq = %d", seq)
		}
		checkMsg(t, s, 1, "a.b", []byte("NATS/1.0\r\nX: 1\r\n\r\n"), []byte("hello"))
		checkMsg(t, s, 2, "a.c", nil, []byte("world"))
		checkMsg(t, s, 3, "a.d", []byte{}, nil)
		m, _ := s.LoadMsg(1, nil)
		if m.Time != ts {
			t.Fatalf("time %d, want %d", m.Time, ts)
		}
		for _, seq := range []uint64{0, 4, 100} {
			if _, err := s.LoadMsg(seq, nil); !errors.Is(err, ErrNotFound) {
				t.Fatalf("LoadMsg(%d) err = %v", seq, err)
			}
		}
		st := s.State(false)
		bytes := s.MsgSize("a.b", make([]byte, 18), []byte("hello")) + s.MsgSize("a.c", nil, []byte("world")) + s.MsgSize("a.d", nil, nil)
		want := State{Msgs: 3, Bytes: bytes, FirstSeq: 1, LastSeq: 3, NumSubjects: 3,
			FirstTime: time.Unix(0, ts).UTC(), LastTime: st.LastTime}
		if fmt.Sprint(st) != fmt.Sprint(want) {
			t.Fatalf("State = %+v\nwant %+v", st, want)
		}
		if _, err := s.StoreMsg("a.*", nil, nil, 0); !errors.Is(err, ErrBadSubject) {
			t.Fatalf("wildcard subject err = %v", err)
		}
	})
}

func TestSuite_LoadReusesMsg(t *testing.T) {
	forEachStore(t, Config{}, func(t *testing.T, s Store) {
		mustStore(t, s, "a", nil, []byte("first payload"))
		mustStore(t, s, "b", nil, []byte("2nd"))
		var sm Msg
		if _, err := s.LoadMsg(1, &sm); err != nil {
			t.Fatal(err)
		}
		m, err := s.LoadMsg(2, &sm)
		if err != nil || m != &sm || string(sm.Data) != "2nd" || sm.Subject != "b" {
			t.Fatalf("LoadMsg into sm: %v %+v", err, sm)
		}
	})
}

func TestSuite_NextAndLast(t *testing.T) {
	forEachStore(t, Config{}, func(t *testing.T, s Store) {
		subjects := []string{"orders.eu.new", "orders.us.new", "orders.eu.paid", "stock.x", "orders.eu.new"}
		for _, subj := range subjects {
			mustStore(t, s, subj, nil, []byte(subj))
		}
		next := []struct {
			filter string
			start  uint64
			want   uint64 // 0 = not found
		}{
			{"", 0, 1}, {">", 2, 2}, {"orders.eu.new", 1, 1}, {"orders.eu.new", 2, 5},
			{"orders.*.paid", 1, 3}, {"orders.>", 4, 5}, {"stock.*", 1, 4}, {"*.x", 5, 0},
			{"orders", 1, 0}, {"nothing.here", 1, 0}, {"orders.*", 1, 0}, {">", 6, 0},
		}
		for _, c := range next {
			m, err := s.LoadNextMsg(c.filter, c.start, nil)
			switch {
			case c.want == 0 && !errors.Is(err, ErrNotFound):
				t.Errorf("LoadNextMsg(%q, %d) = %v, %v; want not found", c.filter, c.start, m, err)
			case c.want != 0 && (err != nil || m.Seq != c.want || m.Subject != subjects[c.want-1]):
				t.Errorf("LoadNextMsg(%q, %d) = %+v, %v; want seq %d", c.filter, c.start, m, err, c.want)
			}
		}
		last := map[string]uint64{"": 5, "orders.eu.new": 5, "orders.us.new": 2, "orders.*.new": 5,
			"orders.*.paid": 3, "stock.>": 4, "x": 0, "orders.*": 0}
		for filter, want := range last {
			m, err := s.LoadLastMsg(filter, nil)
			if want == 0 {
				if !errors.Is(err, ErrNotFound) {
					t.Errorf("LoadLastMsg(%q) = %v, %v", filter, m, err)
				}
				continue
			}
			if err != nil || m.Seq != want {
				t.Errorf("LoadLastMsg(%q) = %+v, %v; want %d", filter, m, err, want)
			}
		}
		// After removing the newest orders.eu.new, last falls back.
		if ok, err := s.RemoveMsg(5, false); !ok || err != nil {
			t.Fatalf("RemoveMsg(5) = %v, %v", ok, err)
		}
		if m, err := s.LoadLastMsg("orders.eu.new", nil); err != nil || m.Seq != 1 {
			t.Fatalf("LoadLastMsg after remove = %+v, %v", m, err)
		}
		got := s.SubjectsState("orders.>")
		want := map[string]uint64{"orders.eu.new": 1, "orders.us.new": 1, "orders.eu.paid": 1}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("SubjectsState = %v, want %v", got, want)
		}
	})
}

func TestSuite_RemoveAndErase(t *testing.T) {
	forEachStore(t, Config{}, func(t *testing.T, s Store) {
		for i := range 10 {
			mustStore(t, s, fmt.Sprintf("s.%d", i%3), nil, []byte(fmt.Sprintf("secret-%d", i)))
		}
		for _, c := range []struct {
			seq   uint64
			erase bool
			ok    bool
		}{{5, false, true}, {5, false, false}, {7, true, true}, {1, false, true}, {10, true, true}, {11, false, false}} {
			ok, err := s.RemoveMsg(c.seq, c.erase)
			if err != nil || ok != c.ok {
				t.Fatalf("RemoveMsg(%d, %v) = %v, %v; want %v", c.seq, c.erase, ok, err, c.ok)
			}
			if _, err := s.LoadMsg(c.seq, nil); !errors.Is(err, ErrNotFound) {
				t.Fatalf("LoadMsg(%d) after remove: %v", c.seq, err)
			}
		}
		st := s.State(true)
		if st.Msgs != 6 || st.FirstSeq != 2 || st.LastSeq != 10 || st.NumDeleted != 3 || fmt.Sprint(st.Deleted) != "[5 7 10]" {
			t.Fatalf("State = %+v", st)
		}
		// The sequence of the removed last message is not reused.
		if seq := mustStore(t, s, "s.0", nil, nil); seq != 11 {
			t.Fatalf("next seq = %d, want 11", seq)
		}
		checkMsg(t, s, 9, "s.2", nil, []byte("secret-8"))
	})
}

func TestSuite_Purge(t *testing.T) {
	fill := func(t *testing.T, s Store) {
		for i := range 10 {
			mustStore(t, s, fmt.Sprintf("p.%d", i%2), nil, []byte{byte(i)})
		}
	}
	cases := []struct {
		name   string
		opts   PurgeOpts
		purged uint64
		first  uint64
		msgs   uint64
	}{
		{"all", PurgeOpts{}, 10, 11, 0},
		{"upto", PurgeOpts{Seq: 4}, 3, 4, 7},
		{"keep", PurgeOpts{Keep: 3}, 7, 8, 3},
		{"keep-more", PurgeOpts{Keep: 30}, 0, 1, 10},
		{"subject", PurgeOpts{Subject: "p.0"}, 5, 2, 5},
		{"subject-wild-upto", PurgeOpts{Subject: "p.*", Seq: 3}, 2, 3, 8},
		{"subject-keep", PurgeOpts{Subject: "p.1", Keep: 1}, 4, 1, 6},
		{"beyond-last", PurgeOpts{Seq: 100}, 10, 100, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			forEachStore(t, Config{}, func(t *testing.T, s Store) {
				fill(t, s)
				n, err := s.Purge(c.opts)
				if err != nil || n != c.purged {
					t.Fatalf("Purge(%+v) = %d, %v; want %d", c.opts, n, err, c.purged)
				}
				st := s.State(false)
				if st.FirstSeq != c.first || st.Msgs != c.msgs {
					t.Fatalf("State after purge = %+v; want first %d msgs %d", st, c.first, c.msgs)
				}
				next := max(st.LastSeq+1, 11)
				if seq := mustStore(t, s, "p.0", nil, nil); seq != next {
					t.Fatalf("seq after purge = %d, want %d", seq, next)
				}
			})
		})
	}
	forEachStore(t, Config{}, func(t *testing.T, s Store) {
		if _, err := s.Purge(PurgeOpts{Seq: 1, Keep: 1}); !errors.Is(err, ErrBadPurge) {
			t.Fatalf("seq+keep: %v", err)
		}
	})
}

func TestSuite_Limits(t *testing.T) {
	t.Run("max-msgs-old", func(t *testing.T) {
		forEachStore(t, Config{Limits: Limits{MaxMsgs: 3}}, func(t *testing.T, s Store) {
			for i := range 10 {
				mustStore(t, s, "a", nil, []byte{byte(i)})
			}
			if st := s.State(false); st.Msgs != 3 || st.FirstSeq != 8 || st.LastSeq != 10 {
				t.Fatalf("State = %+v", st)
			}
		})
	})
	t.Run("max-msgs-new", func(t *testing.T) {
		forEachStore(t, Config{Limits: Limits{MaxMsgs: 3, Discard: DiscardNew}}, func(t *testing.T, s Store) {
			for i := range 3 {
				mustStore(t, s, "a", nil, []byte{byte(i)})
			}
			if _, err := s.StoreMsg("a", nil, nil, 0); !errors.Is(err, ErrMaxMsgs) {
				t.Fatalf("4th message: %v", err)
			}
			if st := s.State(false); st.Msgs != 3 || st.LastSeq != 3 {
				t.Fatalf("State = %+v", st)
			}
		})
	})
	t.Run("max-bytes", func(t *testing.T) {
		// Room for two and a half messages of the store's own size.
		for _, k := range storeKinds() {
			probe := k.open(t, Config{})
			one := int64(probe.MsgSize("a", nil, make([]byte, 9)))
			t.Run(k.name, func(t *testing.T) {
				s := k.open(t, Config{Limits: Limits{MaxBytes: 2*one + one/2}})
				for range 5 {
					mustStore(t, s, "a", nil, make([]byte, 9))
				}
				if st := s.State(false); st.Msgs != 2 || st.Bytes != uint64(2*one) || st.FirstSeq != 4 {
					t.Fatalf("State = %+v", st)
				}
				s = k.open(t, Config{Limits: Limits{MaxBytes: 2*one + one/2, Discard: DiscardNew}})
				mustStore(t, s, "a", nil, make([]byte, 9))
				mustStore(t, s, "a", nil, make([]byte, 9))
				if _, err := s.StoreMsg("a", nil, make([]byte, 9), 0); !errors.Is(err, ErrMaxBytes) {
					t.Fatalf("over max bytes: %v", err)
				}
				// Exactly full is allowed, as nats-server allows it.
				s = k.open(t, Config{Limits: Limits{MaxBytes: 2 * one, Discard: DiscardNew}})
				mustStore(t, s, "a", nil, make([]byte, 9))
				mustStore(t, s, "a", nil, make([]byte, 9))
			})
		}
	})
	t.Run("per-subject", func(t *testing.T) {
		forEachStore(t, Config{Limits: Limits{MaxMsgsPerSubject: 2}}, func(t *testing.T, s Store) {
			for i := range 9 {
				mustStore(t, s, fmt.Sprintf("kv.%d", i%3), nil, []byte{byte(i)})
			}
			st := s.State(true)
			if st.Msgs != 6 || st.FirstSeq != 4 || st.NumSubjects != 3 {
				t.Fatalf("State = %+v", st)
			}
			if m, err := s.LoadNextMsg("kv.1", 0, nil); err != nil || m.Seq != 5 {
				t.Fatalf("oldest kv.1 = %+v, %v", m, err)
			}
			// Interleaved history: the subject's oldest goes, not the stream's.
			mustStore(t, s, "kv.1", nil, nil)
			if _, err := s.LoadMsg(5, nil); !errors.Is(err, ErrNotFound) {
				t.Fatalf("seq 5 should be gone: %v", err)
			}
			if _, err := s.LoadMsg(4, nil); err != nil {
				t.Fatalf("seq 4 should stay: %v", err)
			}
		})
		forEachStore(t, Config{Limits: Limits{MaxMsgsPerSubject: 1, Discard: DiscardNew, DiscardNewPerSubject: true}}, func(t *testing.T, s Store) {
			mustStore(t, s, "kv.a", nil, nil)
			if _, err := s.StoreMsg("kv.a", nil, nil, 0); !errors.Is(err, ErrMaxMsgsPerSubject) {
				t.Fatalf("second kv.a: %v", err)
			}
			mustStore(t, s, "kv.b", nil, nil)
		})
	})
	t.Run("max-msg-size", func(t *testing.T) {
		forEachStore(t, Config{Limits: Limits{MaxMsgSize: 10}}, func(t *testing.T, s Store) {
			if _, err := s.StoreMsg("abc", nil, make([]byte, 8), 0); !errors.Is(err, ErrMaxMsgSize) {
				t.Fatalf("oversized: %v", err)
			}
			mustStore(t, s, "abc", nil, make([]byte, 7))
		})
	})
	t.Run("set-limits", func(t *testing.T) {
		forEachStore(t, Config{}, func(t *testing.T, s Store) {
			for i := range 10 {
				mustStore(t, s, fmt.Sprintf("x.%d", i%2), nil, nil)
			}
			if err := s.SetLimits(Limits{MaxMsgsPerSubject: 3}); err != nil {
				t.Fatal(err)
			}
			if st := s.State(false); st.Msgs != 6 || st.FirstSeq != 5 {
				t.Fatalf("after per-subject limit: %+v", st)
			}
			if err := s.SetLimits(Limits{MaxMsgs: 2}); err != nil {
				t.Fatal(err)
			}
			if st := s.State(false); st.Msgs != 2 || st.FirstSeq != 9 {
				t.Fatalf("after max msgs: %+v", st)
			}
		})
	})
}

func TestSuite_MaxAge(t *testing.T) {
	forEachStore(t, Config{Limits: Limits{MaxAge: 50 * time.Millisecond}}, func(t *testing.T, s Store) {
		old := time.Now().Add(-time.Hour).UnixNano()
		if _, err := s.StoreMsg("a", nil, nil, old); err != nil {
			t.Fatal(err)
		}
		mustStore(t, s, "a", nil, nil)
		waitFor(t, 5*time.Second, func() bool { return s.State(false).Msgs == 0 })
		if st := s.State(false); st.FirstSeq != 3 || st.LastSeq != 2 {
			t.Fatalf("State = %+v", st)
		}
	})
}

func TestSuite_ClosedStore(t *testing.T) {
	forEachStore(t, Config{}, func(t *testing.T, s Store) {
		mustStore(t, s, "a", nil, nil)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.StoreMsg("a", nil, nil, 0); !errors.Is(err, ErrClosed) {
			t.Fatalf("store after close: %v", err)
		}
		if _, err := s.LoadMsg(1, nil); !errors.Is(err, ErrClosed) {
			t.Fatalf("load after close: %v", err)
		}
	})
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met before deadline")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSuite_AppendFlush(t *testing.T) {
	forEachStore(t, Config{}, func(t *testing.T, s Store) {
		for i := 1; i <= 50; i++ {
			seq, err := s.Append("batch", nil, []byte{byte(i)}, 0)
			if err != nil || seq != uint64(i) {
				t.Fatalf("Append = %d, %v", seq, err)
			}
			checkMsg(t, s, seq, "batch", nil, []byte{byte(i)}) // visible before Flush
		}
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
		if st := s.State(false); st.Msgs != 50 {
			t.Fatalf("State = %+v", st)
		}
	})
}

// TestSuite_Concurrent runs writers, readers, removers and purges at once
// (for -race) and checks the counts add up.
func TestSuite_Concurrent(t *testing.T) {
	forEachStore(t, Config{Limits: Limits{MaxMsgsPerSubject: 50}}, func(t *testing.T, s Store) {
		const writers, each = 4, 300
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					if _, err := s.StoreMsg(fmt.Sprintf("c.%d.%d", w, i%7), nil, []byte("x"), 0); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Add(2)
		go func() {
			defer wg.Done()
			var sm Msg
			for i := range 2000 {
				_, _ = s.LoadNextMsg("c.*.3", uint64(i), &sm)
				_, _ = s.LoadLastMsg("c.1.>", &sm)
				_ = s.State(i%10 == 0)
				_ = s.SubjectsState("c.2.*")
			}
		}()
		go func() {
			defer wg.Done()
			for i := range 200 {
				if _, err := s.RemoveMsg(uint64(i*5+1), i%20 == 0); err != nil {
					errs <- err
					return
				}
				if i%50 == 49 {
					if _, err := s.Purge(PurgeOpts{Subject: "c.0.>", Keep: 5}); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		st := s.State(true)
		var sum uint64
		for _, n := range s.SubjectsState("") {
			sum += n
		}
		if st.LastSeq != writers*each || sum != st.Msgs || uint64(st.NumDeleted)+st.Msgs != st.LastSeq-st.FirstSeq+1 {
			t.Fatalf("State %+v, subjects sum %d", st, sum)
		}
	})
}

// TestSuite_BytesCountLikeNatsServer pins what a message counts towards
// Bytes and MaxBytes to nats-server 2.15's record sizes (filestore.go
// fileStoreMsgSizeRaw: 30 bytes more, 34 with a non-empty header;
// memstore.go memStoreMsgSizeRaw: 16 more), before and after a removal.
func TestSuite_BytesCountLikeNatsServer(t *testing.T) {
	hdr := []byte("NATS/1.0\r\nX: 1\r\n\r\n") // 18 bytes
	want := map[string][3]uint64{
		// "a.b" hdr "hello", "a.c" "world", "a.d" with an empty header
		"memory":        {3 + 18 + 5 + 16, 3 + 5 + 16, 3 + 16},
		"file":          {3 + 18 + 5 + 34, 3 + 5 + 30, 3 + 30},
		"file-interval": {3 + 18 + 5 + 34, 3 + 5 + 30, 3 + 30},
	}
	for _, k := range storeKinds() {
		t.Run(k.name, func(t *testing.T) {
			s := k.open(t, Config{})
			w := want[k.name]
			mustStore(t, s, "a.b", hdr, []byte("hello"))
			mustStore(t, s, "a.c", nil, []byte("world"))
			mustStore(t, s, "a.d", []byte{}, nil)
			if got := s.State(false).Bytes; got != w[0]+w[1]+w[2] {
				t.Fatalf("Bytes = %d, want %d (%v)", got, w[0]+w[1]+w[2], w)
			}
			if got := s.MsgSize("a.b", hdr, []byte("hello")); got != w[0] {
				t.Fatalf("MsgSize = %d, want %d", got, w[0])
			}
			if _, err := s.RemoveMsg(1, false); err != nil {
				t.Fatal(err)
			}
			if got := s.State(false).Bytes; got != w[1]+w[2] {
				t.Fatalf("Bytes after removing the first = %d, want %d", got, w[1]+w[2])
			}
		})
	}
}
