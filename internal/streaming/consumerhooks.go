package streaming

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/natsctl/natsctl/internal/streaming/store"
)

// Hook points between streams and their consumers. The stream code calls
// these at the few places where consumers care: subscriptions at start,
// a batch stored, messages removed, stream stop and delete.

// consumerSet is the part of a stream that holds its consumers.
type consumerSet struct {
	consMu    sync.Mutex
	consumers map[string]*consumer
	// removalGen changes when messages may have been removed other than
	// by acknowledgement (purge, delete, limits): consumers then recount
	// num_pending exactly.
	removalGen atomic.Uint64
	lastMsgs   uint64 // ingest goroutine: messages after the last batch
	lastSeq    uint64 // and the last sequence
}

// startConsumers subscribes to ack and flow control replies.
func (e *Engine) startConsumers() error {
	for subj, h := range map[string]func(string, string, []byte, []byte){
		"$JS.ACK.>": e.onAck,
		"$JS.FC.>":  e.onFlowControl,
	} {
		if _, err := e.ic.Subscribe(subj, "", h); err != nil {
			return fmt.Errorf("streaming: subscribe %s: %w", subj, err)
		}
	}
	e.srv.OnConnClosed(e.connClosed)
	return nil
}

// connClosed hands the messages a departed deliver_group member held to
// the remaining members at once.
func (e *Engine) connClosed(cid uint64) {
	if e.stopped.Load() {
		return
	}
	for _, st := range e.sortedStreams() {
		for _, c := range st.consumerList() {
			if c.hasGroup.Load() {
				c.connGone(cid)
			}
		}
	}
}

// consumer returns the named consumer, or nil.
func (st *stream) consumer(name string) *consumer {
	st.consMu.Lock()
	c := st.consumers[name]
	st.consMu.Unlock()
	return c
}

func (st *stream) numConsumers() int {
	st.consMu.Lock()
	defer st.consMu.Unlock()
	return len(st.consumers)
}

// afterBatch is called by the ingest goroutine after a batch is stored
// and flushed: wake the consumers, and notice removals by limits.
func (st *stream) afterBatch() {
	s := st.st.State(false)
	if s.Msgs < st.lastMsgs+(s.LastSeq-st.lastSeq) {
		st.removalGen.Add(1)
	}
	st.lastMsgs, st.lastSeq = s.Msgs, s.LastSeq
	for _, c := range st.consumerList() {
		c.kick()
	}
}

// afterRemoval is called after a purge or a message delete.
func (st *stream) afterRemoval() {
	st.removalGen.Add(1)
	first := st.st.State(false).FirstSeq
	for _, c := range st.consumerList() {
		c.purgedBelow(first)
		c.kick()
	}
}

// purgedBelow moves the cursor and drops pending messages below first.
func (c *consumer) purgedBelow(first uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sseq < first {
		c.sseq = first
	}
	for seq := range c.pending {
		if seq < first {
			delete(c.pending, seq)
			delete(c.rdc, seq)
		}
	}
	for len(c.lps) > 0 && c.lps[0] < first {
		c.lps = c.lps[1:]
	}
	if c.asflr < first-1 {
		c.asflr = first - 1
	}
	c.updateFloorLocked()
	c.markDirtyLocked()
}

// stopConsumers stops every consumer (stream stop or delete).
func (st *stream) stopConsumers(deleted bool) {
	st.consMu.Lock()
	cs := st.consumers
	st.consumers = map[string]*consumer{}
	st.consMu.Unlock()
	for _, c := range cs {
		c.stop(deleted)
	}
}

// removeConsumer deletes c (API delete, inactivity). With wait, it returns
// once the consumer's goroutines have ended and its directory is gone, so a
// consumer created next under the same name cannot lose its files to this
// removal; the delivery goroutine itself (inactivity) must not wait.
func (e *Engine) removeConsumer(c *consumer, reason string, wait bool) {
	st := c.st
	st.consMu.Lock()
	removed := st.consumers[c.name] == c
	if removed {
		delete(st.consumers, c.name)
	}
	st.consMu.Unlock()
	if removed {
		e.advisoryConsumer(st.name, c.name, "DELETED")
	}
	remove := func() {
		c.stop(true)
		e.log.Debug("consumer removed", "stream", st.name, "consumer", c.name, "reason", reason)
	}
	if wait {
		remove()
		return
	}
	go remove()
}

// recoverConsumers reopens the durable consumers of a file stream.
func (st *stream) recoverConsumers() error {
	dir := filepath.Join(st.dir, "consumers")
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, ent := range ents {
		if !ent.IsDir() {
			continue
		}
		cdir := filepath.Join(dir, ent.Name())
		b, err := os.ReadFile(filepath.Join(cdir, metaFile))
		if err != nil {
			// Created and not yet described: a crash during create.
			_ = os.RemoveAll(cdir)
			continue
		}
		var meta consumerMeta
		if err := json.Unmarshal(b, &meta); err != nil {
			return fmt.Errorf("streaming: consumer %s/%s: %s: %w", st.name, ent.Name(), metaFile, err)
		}
		c := newConsumer(st, &meta.Config, meta.Created)
		c.dir = cdir
		sf, snap, err := openStateFile(cdir, st.e.cfg.SyncInterval <= 0)
		if err != nil {
			return err
		}
		c.state = sf
		c.mu.Lock()
		if snap == nil {
			c.position()
		} else if err := c.decodeState(snap); err != nil {
			c.mu.Unlock()
			sf.close()
			return fmt.Errorf("streaming: consumer %s/%s: %w", st.name, ent.Name(), err)
		} else {
			first := st.st.State(false).FirstSeq
			c.sseq = max(c.sseq, 1)
			if c.sseq < first {
				c.sseq = first
			}
			c.recountPendingLocked()
		}
		c.activity = time.Now()
		c.mu.Unlock()
		st.consumers[c.name] = c
		c.start()
		st.e.log.Info("consumer recovered", "stream", st.name, "consumer", c.name,
			"delivered_stream_seq", c.sseq-1, "ack_pending", len(c.pending))
	}
	return nil
}

// removeAcked applies interest and work-queue retention to messages c
// acknowledged (delivery goroutine of c, no consumer lock held).
func (st *stream) removeAcked(c *consumer, seqs []uint64) {
	cfg := st.config()
	var sm store.Msg
	for _, seq := range seqs {
		if cfg.Retention == InterestPolicy {
			m, err := st.st.LoadMsg(seq, &sm)
			if err != nil {
				continue
			}
			needed := false
			for _, o := range st.consumerList() {
				if o != c && o.needsAck(seq, m.Subject) {
					needed = true
					break
				}
			}
			if needed {
				continue
			}
		}
		if _, err := st.st.RemoveMsg(seq, false); err != nil {
			st.e.log.Error("retention removal", "stream", st.name, "seq", seq, "err", err)
		}
	}
}

// needsAck reports whether c has yet to deliver or see acknowledged the
// message seq on subject.
func (c *consumer) needsAck(seq uint64, subject string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !matchesFilters(subject, c.filters) {
		return false
	}
	if seq >= c.sseq {
		return true
	}
	_, pending := c.pending[seq]
	return pending
}

func matchesFilters(subject string, filters []string) bool {
	if len(filters) == 0 {
		return true
	}
	for _, f := range filters {
		if subjectMatches(subject, f) {
			return true
		}
	}
	return false
}

// deliveryAdvisory: a message reached max_deliver, or was terminated.
type deliveryAdvisory struct {
	advisoryEvent
	Stream     string `json:"stream"`
	Consumer   string `json:"consumer"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
	Reason     string `json:"reason,omitempty"`
}

func (e *Engine) advisoryMaxDeliver(c *consumer, seq, dc uint64) {
	e.advisory("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES."+c.st.name+"."+c.name, deliveryAdvisory{
		advisoryEvent: newAdvisoryEvent("io.nats.jetstream.advisory.v1.max_deliver"),
		Stream:        c.st.name, Consumer: c.name, StreamSeq: seq, Deliveries: dc,
	})
}

func (e *Engine) advisoryTerminated(c *consumer, seq, dc uint64, reason string) {
	e.advisory("$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED."+c.st.name+"."+c.name, deliveryAdvisory{
		advisoryEvent: newAdvisoryEvent("io.nats.jetstream.advisory.v1.terminated"),
		Stream:        c.st.name, Consumer: c.name, StreamSeq: seq, Deliveries: dc, Reason: reason,
	})
}

// numConsumers counts the consumers of every stream.
func (e *Engine) numConsumers() int {
	n := 0
	for _, st := range e.sortedStreams() {
		n += st.numConsumers()
	}
	return n
}
