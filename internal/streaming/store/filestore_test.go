package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func segFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+segSuffix))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(m)
	return m
}

func reopen(t *testing.T, s Store, cfg FileConfig) Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return openFileT(t, cfg)
}

func payload(i int) []byte {
	return []byte(fmt.Sprintf("payload-%04d-%s", i, strings.Repeat("x", i%17)))
}

func TestFileStore_ReopenKeepsEverything(t *testing.T) {
	cfg := FileConfig{Config: Config{Name: "R"}, Dir: t.TempDir(), SegmentSize: 512}
	s := openFileT(t, cfg)
	for i := 1; i <= 100; i++ {
		var hdr []byte
		if i%3 == 0 {
			hdr = []byte("NATS/1.0\r\nA: b\r\n\r\n")
		}
		if seq := mustStore(t, s, fmt.Sprintf("r.%d", i%5), hdr, payload(i)); seq != uint64(i) {
			t.Fatalf("seq %d, want %d", seq, i)
		}
	}
	for _, seq := range []uint64{50, 51, 77} {
		if _, err := s.RemoveMsg(seq, seq == 77); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Purge(PurgeOpts{Seq: 20}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Purge(PurgeOpts{Subject: "r.4"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RemoveMsg(100, false); err != nil { // the last one
		t.Fatal(err)
	}
	before := s.State(true)
	s = reopen(t, s, cfg)
	after := s.State(true)
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatalf("state changed over reopen:\n%+v\n%+v", before, after)
	}
	if r := s.Reports(); len(r) != 0 {
		t.Fatalf("clean reopen reported %v", r)
	}
	for i := 1; i <= 100; i++ {
		deleted := i < 20 || i == 50 || i == 51 || i == 77 || i%5 == 4 || i == 100
		m, err := s.LoadMsg(uint64(i), nil)
		if deleted {
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("seq %d should be gone: %v", i, err)
			}
			continue
		}
		if err != nil || !bytes.Equal(m.Data, payload(i)) || m.Subject != fmt.Sprintf("r.%d", i%5) || (m.Header != nil) != (i%3 == 0) {
			t.Fatalf("seq %d = %+v, %v", i, m, err)
		}
	}
	if seq := mustStore(t, s, "r.1", nil, nil); seq != 101 {
		t.Fatalf("seq after reopen = %d, want 101 (last was deleted before restart)", seq)
	}
}

func TestFileStore_EmptiedSegmentsRemoved(t *testing.T) {
	cfg := FileConfig{Config: Config{Name: "C"}, Dir: t.TempDir(), SegmentSize: 300}
	s := openFileT(t, cfg)
	for i := range 60 {
		mustStore(t, s, "c", nil, payload(i))
	}
	n := len(segFiles(t, cfg.Dir))
	if n < 5 {
		t.Fatalf("only %d segments; want several", n)
	}
	// Delete everything in the middle with tombstones, then the front: all
	// but the active segment can go, and the tombstones must survive that.
	for seq := uint64(30); seq < 60; seq++ {
		if _, err := s.RemoveMsg(seq, false); err != nil {
			t.Fatal(err)
		}
	}
	s = reopen(t, s, cfg)
	if got := len(segFiles(t, cfg.Dir)); got >= n {
		t.Fatalf("%d segments after deleting half, had %d", got, n)
	}
	if st := s.State(false); st.Msgs != 30 || st.LastSeq != 60 || st.FirstSeq != 1 {
		t.Fatalf("State = %+v", st)
	}
	if _, err := s.Purge(PurgeOpts{}); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s, cfg)
	if got := segFiles(t, cfg.Dir); len(got) != 1 {
		t.Fatalf("segments after purge: %v", got)
	}
	if st := s.State(false); st.Msgs != 0 || st.FirstSeq != 61 || st.LastSeq != 60 {
		t.Fatalf("State = %+v", st)
	}
	if seq := mustStore(t, s, "c", nil, nil); seq != 61 {
		t.Fatalf("seq %d", seq)
	}
}

func TestFileStore_SecureEraseOverwritesBytes(t *testing.T) {
	cfg := FileConfig{Dir: t.TempDir()}
	s := openFileT(t, cfg)
	mustStore(t, s, "a", nil, []byte("top-secret-value"))
	mustStore(t, s, "a", nil, []byte("public-value"))
	if _, err := s.RemoveMsg(1, true); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(segFiles(t, cfg.Dir)[0])
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("top-secret")) || !bytes.Contains(raw, []byte("public-value")) {
		t.Fatalf("erase did not overwrite exactly the erased payload")
	}
	s = reopen(t, s, cfg)
	if r := s.Reports(); len(r) != 0 {
		t.Fatalf("reports after erase: %v", r)
	}
	if st := s.State(false); st.Msgs != 1 || st.FirstSeq != 2 {
		t.Fatalf("State = %+v", st)
	}
}

// corruptFixture writes 3 segments of 10 messages each and returns the
// config, the segment files and each message's (file, offset).
func corruptFixture(t *testing.T) (FileConfig, []string, map[uint64]int64) {
	t.Helper()
	cfg := FileConfig{Config: Config{Name: "CORRUPT"}, Dir: t.TempDir(), SegmentSize: recHdrLen + 10*(recHdrLen+3+20)}
	s := openFileT(t, cfg)
	offs := make(map[uint64]int64)
	for i := 1; i <= 30; i++ {
		mustStore(t, s, "c.x", nil, []byte(fmt.Sprintf("message-%03d-%s", i, strings.Repeat("z", 8))))
	}
	b := s.(*store).be.(*fileBackend)
	for seq := uint64(1); seq <= 30; seq++ {
		_, off, _ := b.find(seq)
		offs[seq] = off
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	files := segFiles(t, cfg.Dir)
	if len(files) != 3 {
		t.Fatalf("fixture has %d segments", len(files))
	}
	return cfg, files, offs
}

func flipBit(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x10
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// checkServes verifies that exactly the messages not in lost are served,
// intact, and lost ones are not.
func checkServes(t *testing.T, s Store, lost map[uint64]bool) {
	t.Helper()
	for seq := uint64(1); seq <= 30; seq++ {
		m, err := s.LoadMsg(seq, nil)
		if lost[seq] {
			if err == nil {
				t.Fatalf("damaged seq %d served: %q", seq, m.Data)
			}
			continue
		}
		want := fmt.Sprintf("message-%03d-%s", seq, strings.Repeat("z", 8))
		if err != nil || string(m.Data) != want {
			t.Fatalf("seq %d = %v, %v; want %q", seq, m, err, want)
		}
	}
	if st := s.State(false); st.LastSeq != 30 {
		t.Fatalf("LastSeq = %d", st.LastSeq)
	}
}

func checkReport(t *testing.T, reps []Report, file string, first, last uint64) {
	t.Helper()
	if len(reps) != 1 {
		t.Fatalf("want 1 report, got %v", reps)
	}
	r := reps[0]
	str := r.String()
	if r.File != filepath.Base(file) || r.FirstSeq != first || r.LastSeq != last ||
		!strings.Contains(str, "corrupt") || !strings.Contains(str, "CORRUPT") ||
		!strings.Contains(str, fmt.Sprintf("%d-%d", first, last)) {
		t.Fatalf("report %q (%+v); want file %s seqs %d-%d", str, r, filepath.Base(file), first, last)
	}
}

func TestFileStore_CorruptBitFlip(t *testing.T) {
	for _, c := range []struct {
		name string
		seq  uint64
		at   int64 // offset within the record
	}{
		{"payload-middle-segment", 15, recHdrLen + 6},
		{"length-field", 5, 9},
		{"magic", 12, 1},
		{"seq-last-segment-middle", 25, 17},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, files, offs := corruptFixture(t)
			file := files[(c.seq-1)/10]
			flipBit(t, file, offs[c.seq]+c.at)
			s := openFileT(t, cfg)
			checkReport(t, s.Reports(), file, c.seq, c.seq)
			checkServes(t, s, map[uint64]bool{c.seq: true})
			if seq := mustStore(t, s, "c.x", nil, nil); seq != 31 {
				t.Fatalf("next seq %d", seq)
			}
		})
	}
}

func TestFileStore_TruncatedMiddleSegment(t *testing.T) {
	cfg, files, offs := corruptFixture(t)
	// Cut the second segment inside message 15: 15-20 are lost.
	if err := os.Truncate(files[1], offs[15]+10); err != nil {
		t.Fatal(err)
	}
	s := openFileT(t, cfg)
	checkReport(t, s.Reports(), files[1], 15, 20)
	lost := map[uint64]bool{}
	for seq := uint64(15); seq <= 20; seq++ {
		lost[seq] = true
	}
	checkServes(t, s, lost)
	// The damaged middle segment is not "repaired" by truncation.
	if fi, err := os.Stat(files[1]); err != nil || fi.Size() != offs[15]+10 {
		t.Fatalf("middle segment changed: %v %v", fi, err)
	}
}

func TestFileStore_TornTailTruncated(t *testing.T) {
	cfg, files, offs := corruptFixture(t)
	last := files[2]
	fi, _ := os.Stat(last)
	// A crash in the middle of writing message 31: half a record.
	rec := appendRecord(nil, kindMsg, 0, 31, 1, "c.x", nil, []byte("never acknowledged"))
	f, err := os.OpenFile(last, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write(rec[:len(rec)/2])
	_ = f.Close()
	s := openFileT(t, cfg)
	reps := s.Reports()
	if len(reps) != 1 || !reps[0].Torn || strings.Contains(reps[0].String(), "corrupt") ||
		!strings.Contains(reps[0].String(), "sequences from 31 may be lost") {
		t.Fatalf("reports %v", reps)
	}
	if fi2, _ := os.Stat(last); fi2.Size() != fi.Size() {
		t.Fatalf("tail not truncated: %d, want %d", fi2.Size(), fi.Size())
	}
	checkServes(t, s, nil)
	if seq := mustStore(t, s, "c.x", nil, []byte("after")); seq != 31 {
		t.Fatalf("seq %d", seq)
	}
	s = reopen(t, s, cfg)
	checkMsg(t, s, 31, "c.x", nil, []byte("after"))
	_ = offs
}

func TestFileStore_CorruptOnRead(t *testing.T) {
	cfg, files, offs := corruptFixture(t)
	s := openFileT(t, cfg)
	flipBit(t, files[0], offs[3]+recHdrLen+5)
	for range 2 {
		if m, err := s.LoadMsg(3, nil); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("LoadMsg of flipped record = %+v, %v", m, err)
		}
	}
	if m, err := s.LoadNextMsg("c.x", 3, nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("LoadNextMsg of flipped record = %+v, %v", m, err)
	}
	checkReport(t, s.Reports(), files[0], 3, 3)
	checkMsg(t, s, 4, "c.x", nil, []byte("message-004-zzzzzzzz"))
}

func TestFileStore_FlushMakesAppendsDurable(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	fs := newFaultFS()
	cfg := FileConfig{Dir: "/d", SegmentSize: 1024, FS: fs}
	s, err := OpenFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if _, err := s.Append("a", nil, payload(i), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	cfg.FS = fs.powerLoss(r, true)
	s, err = OpenFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 100 {
		checkMsg(t, s, uint64(i+1), "a", nil, payload(i))
	}
}

// A segment emptied and removed may hold the only tombstone of a message
// in an older segment that survives; that delete must survive too.
func TestFileStore_TombstonesOutliveTheirSegment(t *testing.T) {
	cfg := FileConfig{Dir: t.TempDir(), SegmentSize: recHdrLen + 10*(recHdrLen+1+20)}
	s := openFileT(t, cfg)
	data := make([]byte, 20)
	for range 10 {
		mustStore(t, s, "a", nil, data) // segment 1: 1-10
	}
	mustStore(t, s, "a", nil, data)                  // 11 opens segment 2
	if _, err := s.RemoveMsg(5, false); err != nil { // tombstone in segment 2
		t.Fatal(err)
	}
	for range 9 {
		mustStore(t, s, "a", nil, data) // 12-20
	}
	for range 10 {
		mustStore(t, s, "a", nil, data) // 21-30, segments 3 and on
	}
	n := len(segFiles(t, cfg.Dir))
	for seq := uint64(11); seq <= 20; seq++ {
		if _, err := s.RemoveMsg(seq, false); err != nil {
			t.Fatal(err)
		}
	}
	s = reopen(t, s, cfg)
	if got := len(segFiles(t, cfg.Dir)); got != n-1 {
		t.Fatalf("%d segments, want %d (segment 2 removed)", got, n-1)
	}
	if _, err := s.LoadMsg(5, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted message 5 came back: %v", err)
	}
	if st := s.State(false); st.Msgs != 19 || st.NumDeleted != 11 {
		t.Fatalf("State = %+v", st)
	}
}

func TestFileStore_IntervalSyncsInBackground(t *testing.T) {
	fs := newFaultFS()
	cfg := FileConfig{Dir: "/d", FS: fs, SyncInterval: 5 * time.Millisecond}
	s, err := OpenFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		mustStore(t, s, "a", nil, payload(i))
	}
	waitFor(t, 5*time.Second, fs.AllSynced)
	cfg.FS = fs.powerLoss(rand.New(rand.NewPCG(1, 1)), false)
	_ = s.Close()
	s, err = OpenFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 20 {
		checkMsg(t, s, uint64(i+1), "a", nil, payload(i))
	}
}
