package streaming

import (
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/natsctl/natsctl/internal/streaming/store"
)

// The delivery goroutine: pick messages under mu into an outBatch, then
// publish the batch outside mu with one wake-up per receiving connection.

const (
	maxPerRound  = 256     // messages gathered per lock hold
	maxOutBytes  = 1 << 20 // bytes gathered per lock hold
	pushIdlePoll = 250 * time.Millisecond
)

// outMsg is one message to publish; byte slices point into outBatch.buf.
type outMsg struct {
	to, subject    string
	reply, hdr, dt span
	hasHdr         bool
	seq            uint64 // stream sequence of a delivered message, 0 for a status
}

type span struct{ off, n int }

// outBatch collects messages and statuses in delivery order.
type outBatch struct {
	msgs    []outMsg
	buf     []byte
	scratch []byte
}

func (b *outBatch) add(to, subject string, reply []byte, hdr []byte, hasHdr bool, data []byte) {
	m := outMsg{to: to, subject: subject, hasHdr: hasHdr}
	m.reply = b.put(reply)
	m.hdr = b.put(hdr)
	m.dt = b.put(data)
	b.msgs = append(b.msgs, m)
}

func (b *outBatch) put(p []byte) span {
	s := span{off: len(b.buf), n: len(p)}
	b.buf = append(b.buf, p...)
	return s
}

func (b *outBatch) bytes(s span) []byte { return b.buf[s.off : s.off+s.n : s.off+s.n] }

func (b *outBatch) reset() {
	clear(b.msgs)
	b.msgs = b.msgs[:0]
	if cap(b.buf) > 8<<20 {
		b.buf = nil
	}
	b.buf = b.buf[:0]
}

// run is the delivery goroutine.
func (c *consumer) run() {
	defer close(c.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wait := c.work()
		if wait <= 0 {
			wait = time.Hour
		}
		timer.Reset(wait)
		select {
		case <-c.signal:
		case <-timer.C:
		case <-c.quit:
			return
		}
	}
}

// work delivers what it can and returns how long until the next timed
// event (ack deadline, request expiry, heartbeat).
func (c *consumer) work() time.Duration {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return 0
		}
		now := time.Now()
		c.checkAckDeadlinesLocked(now.UnixNano())
		var n int
		var full bool
		if c.cfg.isPush() {
			n, full = c.fillPushLocked(now)
		} else {
			c.expireRequestsLocked(now)
			n, full = c.fillPullLocked(now)
		}
		var resumed *time.Time // the pause that just ended
		if c.pauseEndedLocked(now) {
			resumed = c.cfg.PauseUntil
		}
		if c.inactiveLocked(now) {
			c.mu.Unlock()
			c.e.removeConsumer(c, "inactive", false)
			return 0
		}
		wait := c.nextWakeLocked(now)
		removals := c.removals
		c.removals = nil
		track := c.cfg.DeliverGroup != "" && c.cfg.AckPolicy != AckNone
		if n > 0 {
			c.markDirtyLocked()
		}
		c.mu.Unlock()
		if resumed != nil {
			c.e.advisoryPause(c, resumed)
		}
		c.flushOut(track)
		if len(removals) > 0 {
			c.st.removeAcked(c, removals)
		}
		if !full {
			return wait
		}
	}
}

// flushOut publishes the gathered batch. Only the delivery goroutine
// calls it.
func (c *consumer) flushOut(track bool) {
	if len(c.out.msgs) == 0 {
		return
	}
	b := c.e.ic.Batch()
	for i := range c.out.msgs {
		m := &c.out.msgs[i]
		var hdr []byte
		if m.hasHdr {
			hdr = c.out.bytes(m.hdr)
		}
		cid, _ := b.Publish(m.to, m.subject, c.out.bytes(m.reply), hdr, c.out.bytes(m.dt))
		if track && m.seq != 0 && cid != 0 {
			c.holders = append(c.holders, holder{seq: m.seq, cid: cid})
		}
	}
	b.Flush()
	c.out.reset()
	if len(c.holders) > 0 {
		c.noteHolders(c.holders)
		c.holders = c.holders[:0]
	}
}

// nextSeqLocked chooses the next message: a redelivery first, then the
// last-per-subject set, then the next new matching message. redelivery
// reports which. ok is false when nothing is available (or max_ack_pending
// holds new messages back).
func (c *consumer) nextSeqLocked() (seq uint64, redelivery, ok bool) {
	for len(c.rdq) > 0 {
		seq = c.rdq[0]
		c.rdq = c.rdq[1:]
		delete(c.rdqSet, seq)
		if _, ok := c.pending[seq]; ok {
			return seq, true, true
		}
	}
	if c.cfg.AckPolicy != AckNone && c.cfg.MaxAckPending > 0 && len(c.pending) >= c.cfg.MaxAckPending {
		return 0, false, false
	}
	if len(c.lps) > 0 {
		return c.lps[0], false, true
	}
	seq = c.scan.NextMatching(c.filters, c.sseq)
	return seq, false, seq != 0
}

// putBackLocked returns seq, taken by nextSeqLocked but not delivered
// (rate limit, replay timing, max bytes), to where it came from.
func (c *consumer) putBackLocked(seq uint64, redelivery bool) {
	if redelivery {
		c.rdq = slices.Insert(c.rdq, 0, seq)
		c.rdqSet[seq] = struct{}{}
	}
}

// loadLocked loads seq into c.sm. A message removed meanwhile is skipped:
// for a redelivery it leaves pending; for a new one the cursor passes it.
func (c *consumer) loadLocked(seq uint64, redelivery bool) (*store.Msg, bool) {
	m, err := c.st.st.LoadMsg(seq, &c.sm)
	if err == nil {
		return m, true
	}
	if redelivery {
		c.dropPendingLocked(seq)
	} else {
		c.passLocked(seq)
	}
	if !errors.Is(err, store.ErrNotFound) {
		c.e.log.Error("consumer skipped an unreadable message", "stream", c.st.name, "consumer", c.name, "seq", seq, "err", err)
	}
	return nil, false
}

// passLocked moves the cursor past seq without delivering it.
func (c *consumer) passLocked(seq uint64) {
	if len(c.lps) > 0 && c.lps[0] == seq {
		c.lps = c.lps[1:]
		if len(c.lps) > 0 {
			c.sseq = c.lps[0]
		} else {
			c.sseq = seq + 1
		}
	} else {
		c.sseq = seq + 1
	}
	if c.npc > 0 {
		c.npc--
	}
}

// replayWaitLocked is how long replay_policy original holds m back.
func (c *consumer) replayWaitLocked(m *store.Msg, now time.Time) time.Duration {
	if c.cfg.ReplayPolicy != ReplayOriginal || c.replayPrevTs == 0 {
		return 0
	}
	gap := time.Duration(m.Time - c.replayPrevTs)
	return gap - now.Sub(c.replayPrevAt)
}

// deliverLocked records the delivery of m and appends it to the batch to
// subject (the pull request's inbox or the deliver subject). It returns
// the number of bytes counted against a pull request's max_bytes.
func (c *consumer) deliverLocked(m *store.Msg, redelivery bool, to string, now time.Time) int {
	seq := m.Seq
	if !redelivery {
		c.passLocked(seq)
	}
	c.dseq++
	dc := uint64(1)
	nowNs := now.UnixNano()
	if c.cfg.AckPolicy != AckNone {
		if p, ok := c.pending[seq]; ok {
			dc = c.rdc[seq] + 1
			if dc == 1 {
				dc = 2
			}
			c.rdc[seq] = dc
			p.ts = nowNs
			p.deadline = nowNs + int64(c.ackWaitFor(dc))
		} else {
			p := &pendingMsg{dseq: c.dseq, ts: nowNs, deadline: nowNs + int64(c.ackWaitFor(1))}
			c.pending[seq] = p
		}
		if d := c.pending[seq].deadline; c.nextAck == 0 || d < c.nextAck {
			c.nextAck = d
		}
	} else {
		c.asflr, c.adflr = c.sseq-1, c.dseq
		if c.st.config().Retention != LimitsPolicy {
			c.removals = append(c.removals, seq)
		}
	}
	if c.cfg.ReplayPolicy == ReplayOriginal {
		c.replayPrevTs, c.replayPrevAt = m.Time, now
	}
	c.lastActive = now
	c.activity = now
	pending := c.numPendingLocked()
	reply := c.ackReply(dc, seq, c.dseq, m.Time, pending)
	hdr, hasHdr := m.Header, m.Header != nil
	data := m.Data
	if c.cfg.HeadersOnly {
		hdr = headersOnly(m.Header, len(m.Data))
		hasHdr, data = true, nil
	}
	c.out.add(to, m.Subject, reply, hdr, hasHdr, data)
	c.out.msgs[len(c.out.msgs)-1].seq = seq
	return len(m.Subject) + len(reply) + len(m.Header) + len(m.Data)
}

// ackReply builds the v1 ack subject (NATS-NOTES 1.6):
// $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>.
func (c *consumer) ackReply(dc, sseq, dseq uint64, ts int64, pending uint64) []byte {
	b := c.out.scratch[:0]
	b = append(b, "$JS.ACK."...)
	b = append(b, c.st.name...)
	b = append(b, '.')
	b = append(b, c.name...)
	b = append(b, '.')
	b = strconv.AppendUint(b, dc, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, sseq, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, dseq, 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, pending, 10)
	c.out.scratch = b
	return b
}

// headersOnly is the header block sent instead of a message with
// headers_only: the original headers plus Nats-Msg-Size.
func headersOnly(hdr []byte, size int) []byte {
	var h []byte
	if len(hdr) >= len(hdrLine) {
		h = append(h, hdr[:len(hdr)-2]...) // drop the final CRLF
	} else {
		h = append(h, hdrLine...)
	}
	h = append(h, "Nats-Msg-Size: "...)
	h = strconv.AppendInt(h, int64(size), 10)
	return append(h, "\r\n\r\n"...)
}

// ackWaitFor is the ack deadline for delivery number dc (backoff when
// configured).
func (c *consumer) ackWaitFor(dc uint64) time.Duration {
	if n := len(c.cfg.BackOff); n > 0 {
		i := int(min(dc-1, uint64(n-1)))
		return c.cfg.BackOff[i]
	}
	return c.cfg.AckWait
}

// checkAckDeadlinesLocked queues expired pending messages for
// redelivery, or, past max_deliver, drops them with an advisory.
func (c *consumer) checkAckDeadlinesLocked(now int64) {
	if c.nextAck == 0 || now < c.nextAck {
		return
	}
	var expired []uint64
	var next int64
	for seq, p := range c.pending {
		if _, queued := c.rdqSet[seq]; queued {
			continue
		}
		if p.deadline <= now {
			expired = append(expired, seq)
		} else if next == 0 || p.deadline < next {
			next = p.deadline
		}
	}
	c.nextAck = next
	slices.Sort(expired)
	for _, seq := range expired {
		dc := max(c.rdc[seq], 1)
		if c.cfg.MaxDeliver > 0 && dc >= uint64(c.cfg.MaxDeliver) {
			c.dropPendingLocked(seq)
			c.e.advisoryMaxDeliver(c, seq, dc)
			continue
		}
		c.rdq = append(c.rdq, seq)
		c.rdqSet[seq] = struct{}{}
	}
}

// dropPendingLocked forgets a pending message without acknowledging it
// (max_deliver reached, or removed from the stream).
func (c *consumer) dropPendingLocked(seq uint64) {
	delete(c.pending, seq)
	delete(c.rdc, seq)
	c.updateFloorLocked()
	c.markDirtyLocked()
}

// updateFloorLocked moves the ack floor up to just below the lowest
// pending message (or to the cursor when nothing is pending). Each stream
// sequence is walked over once in the consumer's life: amortised O(1).
func (c *consumer) updateFloorLocked() {
	if len(c.pending) == 0 {
		c.asflr = max(c.asflr, c.sseq-1)
		c.adflr = c.dseq
		return
	}
	for s := c.asflr + 1; s < c.sseq; s++ {
		if p, ok := c.pending[s]; ok {
			c.asflr, c.adflr = s-1, p.dseq-1
			return
		}
	}
}

// nextWakeLocked is the time to the earliest timed event.
func (c *consumer) nextWakeLocked(now time.Time) time.Duration {
	var at time.Time
	consider := func(t time.Time) {
		if !t.IsZero() && (at.IsZero() || t.Before(at)) {
			at = t
		}
	}
	if c.nextAck != 0 {
		consider(time.Unix(0, c.nextAck))
	}
	for _, r := range c.waiting {
		if !r.expires.IsZero() {
			consider(r.expires)
		}
		if r.hb > 0 {
			consider(r.hbNext)
		}
	}
	if c.cfg.isPush() {
		consider(c.push.nextWake(c, now))
	}
	if c.cfg.InactiveThreshold > 0 {
		consider(c.activity.Add(c.cfg.InactiveThreshold))
	}
	consider(c.holdUntil)
	if c.pausedLocked(now) {
		consider(*c.cfg.PauseUntil)
	}
	if at.IsZero() {
		return 0
	}
	return max(at.Sub(now), time.Millisecond)
}

// inactiveLocked reports whether the consumer passed inactive_threshold
// without a pull request waiting or, in push mode, without interest.
func (c *consumer) inactiveLocked(now time.Time) bool {
	if c.cfg.InactiveThreshold <= 0 {
		return false
	}
	if c.cfg.isPush() {
		if c.e.ic.HasInterest(c.cfg.DeliverSubject) {
			c.activity = now
			return false
		}
	} else if len(c.waiting) > 0 {
		c.activity = now
		return false
	}
	return now.Sub(c.activity) >= c.cfg.InactiveThreshold
}
