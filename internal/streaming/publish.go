package streaming

import (
	"errors"
	"strconv"
	"time"

	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/streaming/store"
)

// Publishing (ADR-4, ADR-22). A message on a stream subject arrives on
// the publisher's goroutine (onMsg), which must not block: it copies the
// message into the stream's bounded queue and returns. The stream's
// goroutine (run) takes everything queued at once, appends it to the store,
// makes the whole batch durable with one Flush (one write and, with sync
// "always", one fsync: group commit) and only then publishes the acks.
//
// Back-pressure: when the queue is full (ingestQueueLen messages or
// ingestQueueBytes bytes waiting), the message is refused at once with
// 429 "too many requests" (10167) to its reply subject, as nats-server
// refuses when its ingest queue is over its limits, rather than blocking
// a client's read loop (which could stall the engine's own publishes).
// Clients with bounded outstanding acks (nats.go's PublishAsync, bench js
// pub --async) never come near it.

const (
	ingestQueueLen   = 64 << 10
	ingestQueueBytes = 256 << 20
	maxBatch         = 4096
	maxHeaderSize    = 64 << 10
)

// inMsg is one queued publish; hdr and data share one allocation.
type inMsg struct {
	subject, reply string
	hdr, data      []byte
	js             server.JetStreamTrace // a traced message's "js" event (zero when not traced)
	only           bool                  // trace only: checked, not stored nor acknowledged
}

// pendingAck is the outcome of one publish, sent after the batch is flushed.
type pendingAck struct {
	reply  string
	seq    uint64
	dup    bool
	stored bool // appended in this batch: depends on the flush
	err    *APIError
}

// onTracedMsg is the subscription handler for the stream's subjects. A
// traced message (server msgtrace.go) gets the stream's "js" event,
// finished once stored; a trace-only one goes through the checks of a
// publish but is not stored. As nats-server stores it, a traced message
// is kept with its trace disabled.
func (st *stream) onTracedMsg(tr server.Trace, subject, reply string, hdr, data []byte) {
	if !tr.Active() {
		st.onMsg(subject, reply, hdr, data, server.JetStreamTrace{}, false)
		return
	}
	if !tr.Only() {
		hdr = server.DisableTrace(hdr)
	}
	st.onMsg(subject, reply, hdr, data, tr.JetStream(st.name), tr.Only())
}

// onMsg queues a message for the stream's goroutine.
func (st *stream) onMsg(subject, reply string, hdr, data []byte, js server.JetStreamTrace, only bool) {
	n := len(hdr) + len(data)
	refuse := func() { // the ingest queue is full
		st.inBytes.Add(-int64(n))
		if !only {
			st.refuse(reply)
		}
		js.Failed(errTooManyRequests.Description)
	}
	if st.inBytes.Add(int64(n)) > ingestQueueBytes {
		refuse()
		return
	}
	buf := make([]byte, n)
	copy(buf, hdr)
	copy(buf[len(hdr):], data)
	m := &inMsg{subject: subject, reply: reply, data: buf[len(hdr):], js: js, only: only}
	if hdr != nil {
		m.hdr = buf[:len(hdr):len(hdr)]
	}
	select {
	case st.in <- m:
	default:
		refuse()
	}
}

func (st *stream) refuse(reply string) {
	st.dropped.Add(1)
	if reply != "" {
		_ = st.e.ic.Publish(reply, "", nil, mustJSON(pubAckError{Error: errTooManyRequests, Stream: st.name}))
	}
}

// run is the stream's goroutine: rebuild dedup state, then store batches
// until stop; what is queued at stop is still stored and acknowledged.
func (st *stream) run() {
	defer close(st.done)
	st.recoverPublishState()
	batch := make([]*inMsg, 0, 64)
	for {
		var stopping bool
		select {
		case m := <-st.in:
			batch = append(batch, m)
		case <-st.quit:
			stopping = true
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case m := <-st.in:
				batch = append(batch, m)
			default:
				break fill
			}
		}
		if len(batch) > 0 {
			st.processBatch(batch)
			clear(batch)
			batch = batch[:0]
		}
		if stopping && len(st.in) == 0 {
			return
		}
	}
}

// processBatch stores a batch, flushes once and acknowledges.
func (st *stream) processBatch(batch []*inMsg) {
	cfg := st.config()
	now := time.Now()
	st.dedup.expire(now.Add(-cfg.Duplicates).UnixNano())
	var room int64 = -1 // bytes left under the engine's storage limit
	if lim := st.e.limitFor(cfg.Storage); lim > 0 {
		room = max(lim-int64(st.e.usage(cfg.Storage)), 0)
	}
	acks := st.acks[:0]
	var size int64
	var lastStored uint64
	for _, m := range batch {
		size += int64(len(m.hdr) + len(m.data))
		a := st.storeOne(cfg, m, now, &room)
		if a.stored {
			lastStored = a.seq
		}
		if a.err != nil {
			m.js.Failed(a.err.Description)
		} else {
			m.js.Done(m.subject, cfg.Retention == InterestPolicy && st.numConsumers() == 0)
		}
		if m.reply != "" && !cfg.NoAck && !m.only {
			a.reply = m.reply
			acks = append(acks, a)
		}
	}
	st.inBytes.Add(-size)
	flushErr := st.st.Flush()
	if flushErr != nil {
		st.e.log.Error("stream store failed", "stream", st.name, "err", flushErr)
	}
	// Interest retention keeps a message only while consumers are
	// interested; with none (consumers are not implemented yet) nothing is
	// kept, as on nats-server, but the sequence is used and acknowledged.
	if cfg.Retention == InterestPolicy && lastStored > 0 && flushErr == nil && st.numConsumers() == 0 {
		if _, err := st.st.Purge(store.PurgeOpts{Seq: lastStored + 1}); err != nil {
			st.e.log.Error("stream purge for interest retention", "stream", st.name, "err", err)
		}
	}
	st.afterBatch()
	for i := range acks {
		a := &acks[i]
		if a.stored && flushErr != nil {
			a.err = errStore(flushErr)
		}
		st.ackBuf = st.appendAck(st.ackBuf[:0], a)
		_ = st.e.ic.Publish(a.reply, "", nil, st.ackBuf)
	}
	clear(acks)
	st.acks = acks[:0]
}

// appendAck renders a PubAck without encoding/json (hot path).
func (st *stream) appendAck(dst []byte, a *pendingAck) []byte {
	if a.err != nil {
		return append(dst, mustJSON(pubAckError{Error: a.err, Stream: st.name})...)
	}
	dst = append(dst, st.ackPre...)
	dst = strconv.AppendUint(dst, a.seq, 10)
	if a.dup {
		dst = append(dst, `,"duplicate":true`...)
	}
	return append(dst, '}')
}

// storeOne applies the publish checks of nats-server's order (sealed,
// size, expected stream, duplicate, expected last sequence, expected last
// subject sequence, expected last msg id, rollup) and appends the message.
func (st *stream) storeOne(cfg *StreamConfig, m *inMsg, now time.Time, room *int64) pendingAck {
	if cfg.Sealed {
		return pendingAck{err: errSealed}
	}
	if len(m.hdr) > maxHeaderSize {
		return pendingAck{err: errHeaderTooBig}
	}
	if cfg.MaxMsgSize > 0 && len(m.hdr)+len(m.data) > int(cfg.MaxMsgSize) {
		return pendingAck{err: errMsgTooBig}
	}
	var msgID, rollup []byte
	if len(m.hdr) > 0 {
		if v := headerValue(m.hdr, hdrExpStream); v != nil && string(v) != st.name {
			return pendingAck{err: errStreamNotMatch}
		}
		if aerr := checkMsgTTL(m.hdr); aerr != nil { // msgttl.go
			return pendingAck{err: aerr}
		}
		if msgID = headerValue(m.hdr, hdrMsgID); len(msgID) > 0 && cfg.Duplicates > 0 {
			if seq, ok := st.dedup.get(string(msgID)); ok {
				return pendingAck{seq: seq, dup: true}
			}
		}
		if v := headerValue(m.hdr, hdrExpLastSeq); v != nil {
			want, ok := parseUint(v)
			last := st.st.State(false).LastSeq
			if !ok || want != last {
				return pendingAck{err: errWrongLastSeq(last)}
			}
		}
		if v := headerValue(m.hdr, hdrExpLastSubjSeq); v != nil {
			subj := m.subject
			if s := headerValue(m.hdr, hdrExpLastSubjSub); len(s) > 0 {
				subj = string(s)
			}
			want, ok := parseUint(v)
			last, err := st.lastSeqFor(subj)
			if err != nil {
				return pendingAck{err: errStore(err)}
			}
			if !ok || want != last {
				return pendingAck{err: errWrongLastSeq(last)}
			}
		}
		if v := headerValue(m.hdr, hdrExpLastMsgID); v != nil && string(v) != st.lastMsgID {
			return pendingAck{err: errWrongLastMsgID(st.lastMsgID)}
		}
		if rollup = headerValue(m.hdr, hdrRollup); rollup != nil {
			if !cfg.AllowRollup || cfg.DenyPurge {
				return pendingAck{err: errRollupFailed("rollup not permitted")}
			}
			if r := string(rollup); r != "sub" && r != "all" {
				return pendingAck{err: errRollupFailed("rollup value invalid: " + strconv.Quote(r))}
			}
		}
	}
	if m.only {
		return pendingAck{} // traced, passed the checks, not stored
	}
	if *room >= 0 {
		n := int64(st.st.MsgSize(m.subject, m.hdr, m.data))
		if n > *room {
			if cfg.Storage == MemoryStorage {
				return pendingAck{err: errMemoryExceeded}
			}
			return pendingAck{err: errStorageExceeded}
		}
		*room -= n
	}
	seq, err := st.st.Append(m.subject, m.hdr, m.data, now.UnixNano())
	if err != nil {
		return pendingAck{err: errStore(err)}
	}
	st.lastMsgID = string(msgID)
	if len(msgID) > 0 && cfg.Duplicates > 0 {
		st.dedup.add(st.lastMsgID, seq, now.UnixNano())
	}
	switch string(rollup) {
	case "sub":
		_, err = st.st.Purge(store.PurgeOpts{Subject: m.subject, Seq: seq})
	case "all":
		_, err = st.st.Purge(store.PurgeOpts{Seq: seq})
	}
	if err != nil {
		st.e.log.Error("stream rollup", "stream", st.name, "seq", seq, "err", err)
	}
	return pendingAck{seq: seq, stored: true}
}

// recoverPublishState rebuilds, after a restart, the last Nats-Msg-Id and
// the duplicate window from the newest stored messages (nats-server does
// the same), so a retried publish is still recognised as a duplicate.
func (st *stream) recoverPublishState() {
	cfg := st.config()
	state := st.st.State(false)
	if state.Msgs == 0 {
		return
	}
	var sm store.Msg
	if m, err := st.st.LoadMsg(state.LastSeq, &sm); err == nil {
		st.lastMsgID = string(headerValue(m.Header, hdrMsgID))
	}
	if cfg.Duplicates <= 0 {
		return
	}
	since := time.Now().Add(-cfg.Duplicates).UnixNano()
	var ids []dedupEnt
	for seq := state.LastSeq; seq >= state.FirstSeq && seq > 0; seq-- {
		m, err := st.st.LoadMsg(seq, &sm)
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrCorrupt) {
			continue
		}
		if err != nil || m.Time < since {
			break
		}
		if id := headerValue(m.Header, hdrMsgID); len(id) > 0 {
			ids = append(ids, dedupEnt{id: string(id), seq: seq, ts: m.Time})
		}
	}
	for i := len(ids) - 1; i >= 0; i-- {
		st.dedup.add(ids[i].id, ids[i].seq, ids[i].ts)
	}
}

// dedupIndex remembers Nats-Msg-Id values within the duplicate window:
// a map for lookups and a FIFO in arrival order for expiry.
type dedupIndex struct {
	ids   map[string]uint64
	order []dedupEnt
	head  int
}

type dedupEnt struct {
	id  string
	seq uint64
	ts  int64
}

func (d *dedupIndex) get(id string) (uint64, bool) {
	seq, ok := d.ids[id]
	return seq, ok
}

func (d *dedupIndex) add(id string, seq uint64, ts int64) {
	if d.ids == nil {
		d.ids = make(map[string]uint64)
	}
	d.ids[id] = seq
	d.order = append(d.order, dedupEnt{id: id, seq: seq, ts: ts})
}

// expire forgets ids stored before cutoff (Unix ns).
func (d *dedupIndex) expire(cutoff int64) {
	for d.head < len(d.order) && d.order[d.head].ts < cutoff {
		e := d.order[d.head]
		if d.ids[e.id] == e.seq {
			delete(d.ids, e.id)
		}
		d.order[d.head] = dedupEnt{}
		d.head++
	}
	if d.head > 1024 && d.head*2 > len(d.order) {
		d.order = append(d.order[:0], d.order[d.head:]...)
		d.head = 0
	}
}
