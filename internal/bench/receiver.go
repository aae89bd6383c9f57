package bench

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/natsctl/natsctl/internal/client"
)

// receiver is one subscriber's (or requester's reply inbox's) accounting.
// handle runs on the subscription's goroutine; the mutex only makes the final
// read by the runner safe and is never contended during the run.
type receiver struct {
	name    string
	hdrLen  int
	latency bool // record latency of time-stamped messages
	// progress, when set, is advanced by 256 per 256 messages (sub mode).
	progress *atomic.Int64
	// signal, when set, gets a non-blocking send per message (closed-loop
	// requesters wait on it).
	signal chan struct{}

	count atomic.Int64 // measured (not warm-up) messages, duplicates included
	warm  atomic.Int64 // warm-up messages
	want  atomic.Int64 // the count at which the last message arrives, when known

	mu          sync.Mutex
	n           int64 // count, owned under mu
	bytes       int64
	first, last time.Time
	tr          tracker
	stamped     bool
	lat         *Latency
}

func newReceiver(name string, hdrLen int, latency bool) *receiver {
	r := &receiver{name: name, hdrLen: hdrLen, latency: latency}
	if latency {
		r.lat = NewLatency()
	}
	return r
}

// clockEvery: without latency to measure, a receiver reads the clock on
// its first message, every clockEvery-th, and the one it was told is the
// last (want): time.Now per message was the largest cost of a subscriber.
// A run's end is then off by at most clockEvery-1 message arrivals when
// the last message cannot be known in advance (timed runs, queue groups).
const clockEvery = 32

func (r *receiver) handle(m *client.Msg) {
	st, ok := readStamp(m.Data)
	if ok && st.warmup {
		r.warm.Add(1)
		return
	}
	r.mu.Lock()
	r.n++
	n := r.n
	timed := r.latency && ok && st.hasTime
	if timed || n == 1 || n%clockEvery == 0 || n == r.want.Load() {
		now := time.Now()
		if n == 1 {
			r.first = now
		}
		r.last = now
		if timed {
			r.lat.Record(time.Duration(since(now.UnixNano(), st.sent)))
		}
	}
	r.bytes += int64(len(m.Data) + r.hdrLen)
	if ok {
		r.stamped = true
		r.tr.observe(st.pub, st.seq)
	}
	r.mu.Unlock()
	r.count.Store(n)
	if r.progress != nil && n&255 == 0 {
		r.progress.Add(256)
	}
	if r.signal != nil {
		select {
		case r.signal <- struct{}{}:
		default:
		}
	}
}

// stats returns the receiver's counts; start is the run's first send, so
// that a subscriber's rate covers the whole transfer.
func (r *receiver) stats(start time.Time) ClientStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	end := r.last
	if end.IsZero() {
		end = start
	}
	if start.IsZero() {
		start = r.first
	}
	return ClientStats{Name: r.name, Msgs: r.count.Load(), Bytes: r.bytes, Start: start, End: end}
}

// delivery reports the receiver against expected messages; untracked when
// no message carried a stamp.
func (r *receiver) delivery(expected int64) Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.stamped {
		n := r.count.Load()
		return Delivery{Expected: expected, Received: n, Lost: max(0, expected-n)}
	}
	return r.tr.delivery(expected)
}

// waitUntil polls progress until it reports done, or its count stays
// still for timeout, or ctxDone closes. It reports whether it was done. The
// poll interval does not affect measurements: receivers time their own
// last message.
func waitUntil(ctxDone <-chan struct{}, progress func() (n int64, done bool), timeout time.Duration) bool {
	var last int64 = -1
	lastChange := time.Now()
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for {
		n, done := progress()
		if done {
			return true
		}
		if n != last {
			last, lastChange = n, time.Now()
		} else if time.Since(lastChange) > timeout {
			return false
		}
		select {
		case <-ctxDone:
			return false
		case <-t.C:
		}
	}
}

// allReached is a waitUntil progress function: every receiver has at least
// want messages counted by get.
func allReached(rs []*receiver, get func(*receiver) int64, want int64) func() (int64, bool) {
	return func() (int64, bool) {
		var total int64
		done := true
		for _, r := range rs {
			n := get(r)
			total += n
			done = done && n >= want
		}
		return total, done
	}
}

// sumReached is a waitUntil progress function: the receivers have want
// messages between them (a queue group).
func sumReached(rs []*receiver, get func(*receiver) int64, want int64) func() (int64, bool) {
	return func() (int64, bool) {
		var total int64
		for _, r := range rs {
			total += get(r)
		}
		return total, total >= want
	}
}

func measured(r *receiver) int64 { return r.count.Load() }
func warmed(r *receiver) int64   { return r.warm.Load() }
