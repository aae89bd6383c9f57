package streaming

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Acks (NATS-NOTES 1.6; nats-server consumer.go processAck). A client
// acknowledges by publishing to the ack subject of a message:
//
//	$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>          (v1)
//	$JS.ACK.<domain>.<acchash>.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>[.<token>]  (v2)
//
// with one of these bodies: empty, +ACK or +OK (ack); -NAK [{"delay":ns}
// or a duration] (redeliver, now or after delay); +WPI (work in progress:
// restart the ack timer); +TERM [reason] (stop redelivering); +NXT [req]
// (ack and pull the next batch). An ack sent as a request (double ack)
// gets an empty reply once applied — for a durable file consumer, once
// written to its state file.

var (
	ackAck  = []byte("+ACK")
	ackOK   = []byte("+OK")
	ackNak  = []byte("-NAK")
	ackWPI  = []byte("+WPI")
	ackTerm = []byte("+TERM")
	ackNext = []byte("+NXT")
)

// ackInfo is what an ack subject carries.
type ackInfo struct {
	stream, consumer string
	dc, sseq, dseq   uint64
}

// parseAckSubject parses a v1 or v2 ack subject.
func parseAckSubject(subject string) (ackInfo, bool) {
	rest, ok := strings.CutPrefix(subject, "$JS.ACK.")
	if !ok {
		return ackInfo{}, false
	}
	var tok [12]string
	n := 0
	for n < len(tok) {
		i := strings.IndexByte(rest, '.')
		if i < 0 {
			tok[n] = rest
			n++
			break
		}
		tok[n], rest = rest[:i], rest[i+1:]
		n++
	}
	var t []string
	switch {
	case n == 7:
		t = tok[:7]
	case n >= 9:
		t = tok[2:9]
	default:
		return ackInfo{}, false
	}
	a := ackInfo{stream: t[0], consumer: t[1]}
	var err1, err2, err3 error
	a.dc, err1 = strconv.ParseUint(t[2], 10, 64)
	a.sseq, err2 = strconv.ParseUint(t[3], 10, 64)
	a.dseq, err3 = strconv.ParseUint(t[4], 10, 64)
	return a, err1 == nil && err2 == nil && err3 == nil && a.sseq > 0
}

// onAck is the handler of $JS.ACK.> (the acker's goroutine: no blocking).
func (e *Engine) onAck(subject, reply string, _, data []byte) {
	a, ok := parseAckSubject(subject)
	if !ok {
		return
	}
	st := e.lookup(a.stream)
	if st == nil {
		return
	}
	c := st.consumer(a.consumer)
	if c == nil {
		return
	}
	c.processAck(a, data, reply)
}

// onFlowControl is the handler of $JS.FC.>.
func (e *Engine) onFlowControl(subject, _ string, _, _ []byte) {
	sn, cn, ok := parseFCSubject(subject)
	if !ok {
		return
	}
	if st := e.lookup(sn); st != nil {
		if c := st.consumer(cn); c != nil {
			c.flowControlReply(subject)
		}
	}
}

func (c *consumer) processAck(a ackInfo, body []byte, reply string) {
	body = bytes.TrimSpace(body)
	switch {
	case len(body) == 0, bytes.Equal(body, ackAck), bytes.Equal(body, ackOK):
		c.ack(a.sseq, reply)
	case bytes.HasPrefix(body, ackNext):
		c.ack(a.sseq, "")
		c.nextRequest(reply, body[len(ackNext):])
	case bytes.HasPrefix(body, ackNak):
		c.nak(a.sseq, body[len(ackNak):])
		c.replyAck(reply)
	case bytes.Equal(body, ackWPI):
		c.progress(a.sseq)
		c.replyAck(reply)
	case bytes.HasPrefix(body, ackTerm):
		reason := string(bytes.TrimSpace(body[len(ackTerm):]))
		if c.ack(a.sseq, reply) {
			c.e.advisoryTerminated(c, a.sseq, a.dc, reason)
		}
	}
}

func (c *consumer) replyAck(reply string) {
	if reply != "" {
		_ = c.e.ic.Publish(reply, "", nil, nil)
	}
}

// ack acknowledges sseq (and, with ack policy all, everything pending
// below it). A reply is sent once the ack is durable. It reports whether
// sseq was pending.
func (c *consumer) ack(sseq uint64, reply string) bool {
	c.mu.Lock()
	wasFull := c.cfg.MaxAckPending > 0 && len(c.pending) >= c.cfg.MaxAckPending
	var found bool
	switch c.cfg.AckPolicy {
	case AckExplicit:
		if _, ok := c.pending[sseq]; ok {
			c.ackOneLocked(sseq)
			found = true
		}
	case AckAll:
		for s := range c.pending {
			if s <= sseq {
				c.ackOneLocked(s)
				found = true
			}
		}
	}
	if found {
		c.updateFloorLocked()
		c.markDirtyLocked()
	}
	kick := found && (wasFull || len(c.removals) > 0)
	if reply != "" {
		if c.state != nil && !c.closed {
			c.ackWaiters = append(c.ackWaiters, reply)
			reply = ""
			select {
			case c.urgent <- struct{}{}:
			default:
			}
		}
	}
	c.mu.Unlock()
	c.replyAck(reply)
	if kick {
		c.kick()
	}
	return found
}

// ackOneLocked removes one acknowledged message from pending.
func (c *consumer) ackOneLocked(seq uint64) {
	delete(c.pending, seq)
	delete(c.rdc, seq)
	if c.push.holders != nil {
		delete(c.push.holders, seq)
	}
	if c.st.config().Retention != LimitsPolicy {
		c.removals = append(c.removals, seq)
	}
}

// nakDelay is the optional argument of -NAK: {"delay": ns} or a duration.
func nakDelay(arg []byte) time.Duration {
	arg = bytes.TrimSpace(arg)
	if len(arg) == 0 {
		return 0
	}
	if arg[0] == '{' {
		var v struct {
			Delay time.Duration `json:"delay"`
		}
		if json.Unmarshal(arg, &v) == nil {
			return v.Delay
		}
		return 0
	}
	d, _ := time.ParseDuration(string(arg))
	return d
}

// nak queues sseq for redelivery, now or after the delay.
func (c *consumer) nak(sseq uint64, arg []byte) {
	delay := nakDelay(arg)
	c.mu.Lock()
	p, ok := c.pending[sseq]
	if !ok {
		c.mu.Unlock()
		return
	}
	if delay > 0 {
		p.deadline = time.Now().Add(delay).UnixNano()
		if c.nextAck == 0 || p.deadline < c.nextAck {
			c.nextAck = p.deadline
		}
	} else if _, queued := c.rdqSet[sseq]; !queued {
		c.rdq = append(c.rdq, sseq)
		c.rdqSet[sseq] = struct{}{}
	}
	c.mu.Unlock()
	c.kick()
}

// progress restarts the ack timer of sseq (+WPI).
func (c *consumer) progress(sseq uint64) {
	c.mu.Lock()
	if p, ok := c.pending[sseq]; ok {
		if _, queued := c.rdqSet[sseq]; !queued {
			p.deadline = time.Now().Add(c.ackWaitFor(max(c.rdc[sseq], 1))).UnixNano()
		}
	}
	c.mu.Unlock()
}
