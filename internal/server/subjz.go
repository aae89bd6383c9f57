package server

import (
	"container/heap"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/natsctl/natsctl/internal/monitorapi"
)

// Top subjects (/subjz) are counted by sampling, so that the message path
// pays one decrement and a predictable branch per PUB:
//
//   - each connection's read goroutine counts down a random gap (uniform in
//     1..2N-1, mean N = monitor.subjRate) and samples the message that ends
//     it, crediting its subject with the whole gap: msgs += gap, bytes +=
//     gap*size. Random gaps cannot alias with a publisher that cycles
//     through subjects, and the credited messages add up to the total but
//     for the gap still open.
//   - a connection's first subjExactFirst messages are counted one by one,
//     so that light publishers are reported exactly and the estimate of a
//     heavy one is off by about one gap at most plus the sampling noise;
//   - samples go into a small per-connection map under its own mutex, which
//     only the sampler and a /subjz request take;
//   - a full map, or the connection's close, folds it into the server-wide
//     table, a space-saving top-k (Metwally et al.): at most maxTopSubjects
//     subjects, a new one replacing the smallest and inheriting its count
//     as an over-estimate.
//
// A /subjz request merges the server table with every open connection's
// map. Counts are estimates; with subjRate 1 they are exact.
const (
	defaultSubjRate = 64
	subjExactFirst  = 1000 // a connection's first messages are all counted
	maxLocalSubj    = 64
	maxTopSubjects  = 4096
)

// subjSampler is a connection's share of the top-subjects counter.
type subjSampler struct {
	skip  int64  // messages left in the current gap; read goroutine only
	gap   int64  // length of the current gap, the weight of its sample
	rng   uint64 // xorshift state; read goroutine only
	exact int64  // messages still counted one by one

	mu sync.Mutex
	m  map[string]*subjCount
}

type subjCount struct{ msgs, bytes int64 }

// sampleSubject records the message that ended the current gap and draws
// the next gap. Called by the read goroutine when skip runs out.
func (c *conn) sampleSubject(subj []byte, size int) {
	ss := &c.subj
	rate := c.srv.mon.subjRate.Load()
	if rate <= 0 { // counting is off: look again after a long while
		ss.skip = math.MaxInt32
		return
	}
	w := max(ss.gap, 1)
	if ss.rng == 0 {
		ss.rng = c.cid*0x9E3779B97F4A7C15 | 1
		ss.exact = subjExactFirst
	}
	g := int64(1)
	if ss.exact > 0 {
		ss.exact--
	} else if rate > 1 {
		ss.rng ^= ss.rng << 13
		ss.rng ^= ss.rng >> 7
		ss.rng ^= ss.rng << 17
		g += int64(ss.rng % uint64(2*rate-1))
	}
	ss.gap, ss.skip = g, g-1

	ss.mu.Lock()
	e := ss.m[string(subj)]
	if e == nil {
		if len(ss.m) >= maxLocalSubj {
			c.srv.mon.subjTop.fold(ss.m)
			clear(ss.m)
		}
		if ss.m == nil {
			ss.m = make(map[string]*subjCount)
		}
		e = &subjCount{}
		ss.m[string(subj)] = e
	}
	e.msgs += w
	e.bytes += w * int64(size)
	ss.mu.Unlock()
}

// foldSubjects moves the connection's samples into the server table (on
// close).
func (c *conn) foldSubjects() {
	c.subj.mu.Lock()
	if len(c.subj.m) > 0 {
		c.srv.mon.subjTop.fold(c.subj.m)
		clear(c.subj.m)
	}
	c.subj.mu.Unlock()
}

// subjectTop is the server-wide space-saving table.
type subjectTop struct {
	mu sync.Mutex
	m  map[string]*topEntry
	h  topHeap // min-heap by msgs
}

type topEntry struct {
	subject     string
	msgs, bytes int64
	idx         int
}

// fold adds a connection's counts. Callers may hold that connection's
// subject mutex (lock order: subjSampler.mu -> subjectTop.mu).
func (t *subjectTop) fold(m map[string]*subjCount) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = make(map[string]*topEntry)
	}
	for subj, c := range m {
		if e := t.m[subj]; e != nil {
			e.msgs += c.msgs
			e.bytes += c.bytes
			heap.Fix(&t.h, e.idx)
			continue
		}
		if len(t.h) < maxTopSubjects {
			e := &topEntry{subject: subj, msgs: c.msgs, bytes: c.bytes}
			t.m[subj] = e
			heap.Push(&t.h, e)
			continue
		}
		// Space-saving: the smallest entry makes room and its counts carry
		// over, so a subject's count never under-estimates.
		e := t.h[0]
		delete(t.m, e.subject)
		e.subject = subj
		e.msgs += c.msgs
		e.bytes += c.bytes
		t.m[subj] = e
		heap.Fix(&t.h, 0)
	}
}

// snapshot copies the table into dst.
func (t *subjectTop) snapshot(dst map[string]*subjCount) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for subj, e := range t.m {
		dst[subj] = &subjCount{msgs: e.msgs, bytes: e.bytes}
	}
}

type topHeap []*topEntry

func (h topHeap) Len() int           { return len(h) }
func (h topHeap) Less(i, j int) bool { return h[i].msgs < h[j].msgs }
func (h topHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}
func (h *topHeap) Push(x any) {
	e := x.(*topEntry)
	e.idx = len(*h)
	*h = append(*h, e)
}
func (h *topHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// SubjzOptions select what Subjz returns.
type SubjzOptions struct {
	Limit int    // <= 0: 100
	Sort  string // monitorapi.SubjzByMsgs (default) or SubjzByBytes
}

// Subjz reports the busiest published subjects (natsctl's /subjz).
func (s *Server) Subjz(opts SubjzOptions) (*monitorapi.Subjz, error) {
	if opts.Limit <= 0 {
		opts.Limit = 100
	}
	switch strings.ToLower(opts.Sort) {
	case "", monitorapi.SubjzByMsgs:
		opts.Sort = monitorapi.SubjzByMsgs
	case monitorapi.SubjzByBytes:
		opts.Sort = monitorapi.SubjzByBytes
	default:
		return nil, &badRequest{"invalid sort option: " + opts.Sort + " (valid: msgs, bytes)"}
	}
	all := make(map[string]*subjCount)
	s.mon.subjTop.snapshot(all)
	for _, c := range s.snapshotConns() {
		c.subj.mu.Lock()
		for subj, n := range c.subj.m {
			e := all[subj]
			if e == nil {
				e = &subjCount{}
				all[subj] = e
			}
			e.msgs += n.msgs
			e.bytes += n.bytes
		}
		c.subj.mu.Unlock()
	}
	list := make([]monitorapi.SubjectStats, 0, len(all))
	for subj, n := range all {
		list = append(list, monitorapi.SubjectStats{Subject: subj, Msgs: n.msgs, Bytes: n.bytes})
	}
	byBytes := opts.Sort == monitorapi.SubjzByBytes
	slices.SortFunc(list, func(a, b monitorapi.SubjectStats) int {
		x, y := a.Msgs, b.Msgs
		if byBytes {
			x, y = a.Bytes, b.Bytes
		}
		switch {
		case x > y:
			return -1
		case x < y:
			return 1
		}
		return strings.Compare(a.Subject, b.Subject)
	})
	out := &monitorapi.Subjz{
		ID:       s.id,
		Now:      nowUTC(),
		Total:    len(list),
		Limit:    opts.Limit,
		Sort:     opts.Sort,
		Sampling: int(s.mon.subjRate.Load()),
		Subjects: list[:min(opts.Limit, len(list))],
	}
	return out, nil
}
