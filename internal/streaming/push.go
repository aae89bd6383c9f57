package streaming

import (
	"strconv"
	"strings"
	"time"
)

// Push consumers (ADR-9, ADR-15; NATS-NOTES 1.5): messages are published
// to deliver_subject while it has interest (one member of deliver_group
// gets each), with idle heartbeats and flow control.

// fcWindow is the flow-control window: a FlowControl Request goes out
// once half of it is unconfirmed, and delivery pauses past all of it.
var fcWindow = 2 << 20

// pushState is the push-mode part of a consumer (under consumer.mu).
type pushState struct {
	hbNext  time.Time
	fcReply string // outstanding flow control request, "" when none
	fcSize  int    // unconfirmed bytes when it was sent
	pbytes  int    // delivered bytes not yet confirmed by flow control
	fcSeq   uint64
	idle    bool // no interest on the deliver subject
	// holders maps a pending stream sequence to the connection of the
	// deliver_group member that received it, so that its messages are
	// handed to the others at once when it goes away (a NATS Streaming
	// feature JetStream lacks; see NATS-NOTES 3).
	holders map[uint64]uint64
}

// fillPushLocked delivers to the deliver subject.
func (c *consumer) fillPushLocked(now time.Time) (n int, full bool) {
	ps := &c.push
	if !c.e.ic.HasInterest(c.cfg.DeliverSubject) {
		ps.idle = true
		return 0, false
	}
	ps.idle = false
	for n < maxPerRound && len(c.out.buf) < maxOutBytes {
		if now.Before(c.holdUntil) || c.pausedLocked(now) {
			break
		}
		if c.cfg.FlowControl && ps.pbytes > fcWindow {
			break // stalled until the client answers flow control
		}
		seq, redelivery, ok := c.nextSeqLocked()
		if !ok {
			break
		}
		m, ok := c.loadLocked(seq, redelivery)
		if !ok {
			continue
		}
		if w := c.replayWaitLocked(m, now); w > 0 {
			c.putBackLocked(seq, redelivery)
			c.holdUntil = now.Add(w)
			break
		}
		if w := c.rate.wait(len(m.Subject)+len(m.Header)+len(m.Data), now); w > 0 {
			c.putBackLocked(seq, redelivery)
			c.holdUntil = now.Add(w)
			break
		}
		size := c.deliverLocked(m, redelivery, c.cfg.DeliverSubject, now)
		n++
		ps.pbytes += size
		if c.cfg.FlowControl && ps.fcReply == "" && ps.pbytes > fcWindow/2 {
			c.sendFlowControlLocked()
		}
	}
	if c.cfg.Heartbeat > 0 {
		switch {
		case n > 0:
			ps.hbNext = now.Add(c.cfg.Heartbeat)
		case ps.hbNext.IsZero():
			ps.hbNext = now.Add(c.cfg.Heartbeat)
		case !now.Before(ps.hbNext):
			c.out.add(c.cfg.DeliverSubject, c.cfg.DeliverSubject, nil, c.heartbeatHdr(ps.fcReply), true, nil)
			ps.hbNext = now.Add(c.cfg.Heartbeat)
		}
	}
	return n, n >= maxPerRound || len(c.out.buf) >= maxOutBytes
}

var hdrFlowControl = []byte("NATS/1.0 100 FlowControl Request\r\n\r\n")

// sendFlowControlLocked asks the client to confirm what it received, on
// $JS.FC.<stream>.<consumer>.<token>.
func (c *consumer) sendFlowControlLocked() {
	ps := &c.push
	ps.fcSeq++
	ps.fcReply = "$JS.FC." + c.st.name + "." + c.name + "." + strconv.FormatUint(ps.fcSeq, 36)
	ps.fcSize = ps.pbytes
	c.out.add(c.cfg.DeliverSubject, c.cfg.DeliverSubject, []byte(ps.fcReply), hdrFlowControl, true, nil)
}

// flowControlReply handles the client's answer to a flow control request.
func (c *consumer) flowControlReply(subject string) {
	c.mu.Lock()
	ps := &c.push
	if subject != ps.fcReply {
		c.mu.Unlock()
		return
	}
	ps.pbytes = max(ps.pbytes-ps.fcSize, 0)
	ps.fcReply, ps.fcSize = "", 0
	c.mu.Unlock()
	c.kick()
}

// nextWake is when push mode needs the delivery goroutine again.
func (ps *pushState) nextWake(c *consumer, now time.Time) time.Time {
	var at time.Time
	if ps.idle {
		at = now.Add(pushIdlePoll)
	}
	if c.cfg.Heartbeat > 0 && !ps.hbNext.IsZero() && (at.IsZero() || ps.hbNext.Before(at)) {
		at = ps.hbNext
	}
	return at
}

// noteHolders records which deliver_group member received each message.
func (c *consumer) noteHolders(h []holder) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps := &c.push
	if ps.holders == nil {
		ps.holders = make(map[uint64]uint64)
	}
	for _, x := range h {
		if _, ok := c.pending[x.seq]; ok {
			ps.holders[x.seq] = x.cid
		}
	}
}

type holder struct{ seq, cid uint64 }

// connGone hands the pending messages held by connection cid to the
// other deliver_group members now instead of after ack_wait.
func (c *consumer) connGone(cid uint64) {
	c.mu.Lock()
	ps := &c.push
	var moved bool
	for seq, h := range ps.holders {
		if h != cid {
			continue
		}
		delete(ps.holders, seq)
		if _, ok := c.pending[seq]; !ok {
			continue
		}
		if _, queued := c.rdqSet[seq]; !queued {
			c.rdq = append(c.rdq, seq)
			c.rdqSet[seq] = struct{}{}
			moved = true
		}
	}
	c.mu.Unlock()
	if moved {
		c.kick()
	}
}

// isFlowControlSubject reports whether subject is a $JS.FC reply and
// returns its stream and consumer.
func parseFCSubject(subject string) (stream, cons string, ok bool) {
	rest, ok := strings.CutPrefix(subject, "$JS.FC.")
	if !ok {
		return "", "", false
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// rateLimiter is a token bucket over bytes per second (rate_limit_bps).
type rateLimiter struct {
	bps    float64
	tokens float64
	last   time.Time
}

func (r *rateLimiter) init(bitsPerSec uint64) {
	r.bps = float64(bitsPerSec) / 8
	r.tokens = r.bps
}

// wait returns how long to wait before size bytes may go; 0 takes them.
func (r *rateLimiter) wait(size int, now time.Time) time.Duration {
	if r.bps <= 0 {
		return 0
	}
	if !r.last.IsZero() {
		r.tokens = min(r.bps, r.tokens+now.Sub(r.last).Seconds()*r.bps)
	}
	r.last = now
	if r.tokens >= float64(size) || r.tokens >= r.bps {
		r.tokens -= float64(size)
		return 0
	}
	return time.Duration((float64(size) - r.tokens) / r.bps * float64(time.Second))
}
