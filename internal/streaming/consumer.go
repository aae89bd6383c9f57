package streaming

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/natsctl/natsctl/internal/streaming/store"
)

// A consumer is a view of a stream with a delivery cursor (ADR-13, ADR-9;
// nats-server server/consumer.go for behaviour). State machine:
//
//   - sseq is the next stream sequence to look at for a new message; every
//     matching sequence below it was delivered at least once or skipped.
//   - dseq is the last consumer sequence assigned; each delivery, first or
//     redelivery, takes the next one (ordered consumers rely on it being
//     gap-free).
//   - pending holds the delivered, unacknowledged messages (ack policy
//     explicit or all) with their ack deadline; rdc counts deliveries of
//     those delivered more than once; rdq is the redelivery queue (expired
//     or NAKed), served before new messages.
//   - the ack floor (asflr, adflr) is the highest stream/consumer sequence
//     below which nothing is pending.
//   - npc is num_pending: matching messages at or above sseq, kept
//     incrementally (counted up to npUpTo) and recounted exactly when the
//     stream removed messages (removal generation).
//
// Goroutines: one delivery goroutine per consumer (run) does all sending
// of messages and pull statuses; acks, pull requests and API calls change
// state under mu from their own goroutines and signal it. Messages are
// published outside mu. Durable file consumers have a second goroutine
// that writes state (consumerstate.go).
//
// Lock order: stream.consMu -> consumer.mu -> store locks. consumer.mu is
// never held while publishing.
type consumer struct {
	e       *Engine
	st      *stream
	name    string
	created time.Time
	scan    store.Scanner
	dir     string // state directory; "" for memory consumers

	mu      sync.Mutex
	cfg     ConsumerConfig
	filters []string

	sseq, dseq   uint64
	asflr, adflr uint64
	lps          []uint64 // last_per_subject sequences still to deliver first
	pending      map[uint64]*pendingMsg
	rdc          map[uint64]uint64
	rdq          []uint64
	rdqSet       map[uint64]struct{}
	nextAck      int64 // earliest ack deadline (Unix ns) not yet queued; 0: none
	lastActive   time.Time
	lastDeliver  time.Time
	activity     time.Time // for inactive_threshold
	npc, npUpTo  uint64
	npGen        uint64

	waiting []*pullReq // pull mode
	push    pushState  // push mode

	// replay original: timestamp of the previous message delivered.
	replayPrevTs int64
	replayPrevAt time.Time
	rate         rateLimiter
	holdUntil    time.Time // replay original / rate limit: deliver again at
	pauseArmed   bool      // a pause is in force: announce its end

	closed     bool
	dirty      bool
	ackWaiters []string // double-ack replies waiting for the state write
	removals   []uint64 // retention removals, done by run outside mu

	sm      store.Msg
	out     outBatch
	holders []holder // delivery goroutine only

	signal   chan struct{}
	urgent   chan struct{} // state writer: a double-ack waits
	quit     chan struct{}
	done     chan struct{}
	wdone    chan struct{}
	stopped  sync.Once
	state    *stateFile
	hasGroup atomic.Bool // deliver_group set: track which member holds what
}

type pendingMsg struct {
	dseq     uint64
	ts       int64 // last delivery, Unix ns
	deadline int64 // redeliver at, Unix ns
}

// newConsumer builds a consumer positioned per its deliver policy.
// st.consMu must be held by the caller (creation is serialised by the API
// goroutine).
func newConsumer(st *stream, cfg *ConsumerConfig, created time.Time) *consumer {
	c := &consumer{
		e: st.e, st: st, name: cfg.Name, created: created, cfg: *cfg,
		filters: normFilters(cfg.filters()),
		pending: make(map[uint64]*pendingMsg),
		rdc:     make(map[uint64]uint64),
		rdqSet:  make(map[uint64]struct{}),
		signal:  make(chan struct{}, 1),
		urgent:  make(chan struct{}, 1),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
		wdone:   make(chan struct{}),
	}
	c.scan, _ = st.st.(store.Scanner)
	c.activity = time.Now()
	c.rate.init(cfg.RateLimit)
	c.hasGroup.Store(cfg.DeliverGroup != "")
	c.armPauseLocked()
	return c
}

// normFilters drops filters that match everything.
func normFilters(f []string) []string {
	if len(f) == 1 && (f[0] == ">" || f[0] == "") {
		return nil
	}
	return slices.Clone(f)
}

// position sets the start of a new consumer from its deliver policy.
func (c *consumer) position() {
	state := c.st.st.State(false)
	switch c.cfg.DeliverPolicy {
	case DeliverAll:
		c.sseq = state.FirstSeq
	case DeliverLast:
		c.sseq = state.LastSeq + 1
		if last := c.lastMatching(); last > 0 {
			c.sseq = last
		}
	case DeliverNew:
		c.sseq = state.LastSeq + 1
	case DeliverByStartSequence:
		c.sseq = max(c.cfg.OptStartSeq, state.FirstSeq)
	case DeliverByStartTime:
		c.sseq = c.scan.SeqAtTime(c.cfg.OptStartTime.UnixNano())
	case DeliverLastPerSubject:
		c.lps = c.scan.LastPerSubject(c.filters)
		c.sseq = state.LastSeq + 1
		if len(c.lps) > 0 {
			c.sseq = c.lps[0]
		}
	}
	c.sseq = max(c.sseq, 1)
	c.asflr = c.sseq - 1
	c.recountPendingLocked()
}

// lastMatching is the newest matching sequence, 0 if none.
func (c *consumer) lastMatching() uint64 {
	if len(c.filters) == 0 {
		var sm store.Msg
		if m, err := c.st.st.LoadLastMsg("", &sm); err == nil {
			return m.Seq
		}
		return 0
	}
	var best uint64
	for _, f := range c.filters {
		var sm store.Msg
		if m, err := c.st.st.LoadLastMsg(f, &sm); err == nil {
			best = max(best, m.Seq)
		}
	}
	return best
}

// recountPendingLocked counts num_pending exactly from sseq.
func (c *consumer) recountPendingLocked() {
	last := c.st.st.State(false).LastSeq
	c.npGen = c.st.removalGen.Load()
	c.npUpTo = last
	if len(c.lps) > 0 {
		// Pending: the last-per-subject set, then everything after it.
		lastLps := c.lps[len(c.lps)-1]
		c.npc = uint64(len(c.lps)) + c.scan.CountMatching(c.filters, lastLps+1, last)
		return
	}
	c.npc = c.scan.CountMatching(c.filters, c.sseq, last)
}

// numPendingLocked brings npc up to date with the stream and returns it.
func (c *consumer) numPendingLocked() uint64 {
	if c.st.removalGen.Load() != c.npGen {
		c.recountPendingLocked()
		return c.npc
	}
	last := c.st.st.State(false).LastSeq
	if last > c.npUpTo {
		from := max(c.npUpTo+1, c.sseq)
		if len(c.lps) > 0 {
			from = max(c.npUpTo+1, c.lps[len(c.lps)-1]+1)
		}
		c.npc += c.scan.CountMatching(c.filters, from, last)
		c.npUpTo = last
	}
	return c.npc
}

// kick wakes the delivery goroutine.
func (c *consumer) kick() {
	select {
	case c.signal <- struct{}{}:
	default:
	}
}

// start launches the goroutines.
func (c *consumer) start() {
	go c.run()
	if c.state != nil {
		go c.writeLoop()
	} else {
		close(c.wdone)
	}
}

// stop ends the goroutines; with deleted, waiting pulls are told
// "409 Consumer Deleted" and the state directory is removed.
func (c *consumer) stop(deleted bool) {
	c.stopped.Do(func() {
		c.mu.Lock()
		c.closed = true
		reqs := c.waiting
		c.waiting = nil
		c.mu.Unlock()
		close(c.quit)
		<-c.done
		<-c.wdone
		if deleted {
			for _, r := range reqs {
				_ = c.e.ic.Publish(r.reply, "", hdrConsumerDeleted, nil)
			}
		}
		if c.state != nil {
			c.state.close()
		}
		if deleted && c.dir != "" {
			_ = os.RemoveAll(c.dir)
		}
	})
}

// info builds ConsumerInfo.
func (c *consumer) info() *ConsumerInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.infoLocked()
}

func (c *consumer) infoLocked() *ConsumerInfo {
	// No cluster: nats-server reports one for a consumer only when
	// clustered (natscli's consumer report shows it).
	ci := &ConsumerInfo{
		Stream: c.st.name, Name: c.name, Created: c.created, Config: c.cfg,
		Delivered:      SequenceInfo{Consumer: c.dseq, Stream: c.sseq - 1},
		AckFloor:       SequenceInfo{Consumer: c.adflr, Stream: c.asflr},
		NumAckPending:  len(c.pending),
		NumRedelivered: len(c.rdc),
		NumWaiting:     len(c.waiting),
		NumPending:     c.numPendingLocked(),
		TS:             time.Now().UTC(),
	}
	if !c.lastActive.IsZero() {
		t := c.lastActive.UTC()
		ci.Delivered.Last = &t
	}
	if c.cfg.isPush() {
		ci.PushBound = c.e.ic.HasInterest(c.cfg.DeliverSubject)
	}
	if c.cfg.PauseUntil != nil {
		if rem := time.Until(*c.cfg.PauseUntil); rem > 0 {
			ci.Paused, ci.PauseRemaining = true, rem
		}
	}
	return ci
}

// randomName is an 8-character name for an ephemeral consumer created
// without one (legacy CONSUMER.CREATE.<stream>).
func randomName() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// consumerDir is where a durable file consumer keeps its state.
func (st *stream) consumerDir(name string) string {
	return filepath.Join(st.dir, "consumers", name)
}
