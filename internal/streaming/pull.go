package streaming

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// Pull consumers (ADR-13, ADR-37): requests on
// $JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer> wait in a queue bounded by
// max_waiting; the delivery goroutine serves them in turn and ends each
// with the status nats-server sends (NATS-NOTES 1.4).

// pullReq is one waiting request.
type pullReq struct {
	reply     string
	n         int // messages still wanted
	d         int // messages delivered
	maxBytes  int
	bytesLeft int
	noWait    bool
	expires   time.Time
	hb        time.Duration
	hbNext    time.Time
}

// nextRequest is the JSON form of a pull request.
type nextRequest struct {
	Batch     int           `json:"batch"`
	Expires   time.Duration `json:"expires"`
	MaxBytes  int           `json:"max_bytes"`
	NoWait    bool          `json:"no_wait"`
	Heartbeat time.Duration `json:"idle_heartbeat"`
}

// Status headers (nats-server consumer.go; nats.go matches descriptions).
var (
	hdrNoMessages      = []byte("NATS/1.0 404 No Messages\r\n\r\n")
	hdrConsumerDeleted = []byte("NATS/1.0 409 Consumer Deleted\r\n\r\n")
	hdrPushBased       = []byte("NATS/1.0 409 Consumer is push based\r\n\r\n")
	hdrMaxWaiting      = []byte("NATS/1.0 409 Exceeded MaxWaiting\r\n\r\n")
	hdrNoResponders    = []byte("NATS/1.0 503\r\n\r\n")
	hdrIdleHeartbeat   = "NATS/1.0 100 Idle Heartbeat\r\n"
)

// pendingStatus is a status with Nats-Pending-Messages/-Bytes.
func pendingStatus(code int, desc string, n, b int) []byte {
	h := make([]byte, 0, 96)
	h = append(h, "NATS/1.0 "...)
	h = strconv.AppendInt(h, int64(code), 10)
	h = append(h, ' ')
	h = append(h, desc...)
	h = append(h, "\r\nNats-Pending-Messages: "...)
	h = strconv.AppendInt(h, int64(n), 10)
	h = append(h, "\r\nNats-Pending-Bytes: "...)
	h = strconv.AppendInt(h, int64(b), 10)
	return append(h, "\r\n\r\n"...)
}

func statusErr(code int, desc string) []byte {
	return []byte("NATS/1.0 " + strconv.Itoa(code) + " " + desc + "\r\n\r\n")
}

// parseNextRequest decodes an empty body (batch 1), a bare number or JSON,
// as nats-server's nextReqFromMsg does.
func parseNextRequest(body []byte) (*pullReq, string) {
	req := bytes.TrimSpace(body)
	r := &pullReq{n: 1}
	switch {
	case len(req) == 0:
	case req[0] == '{':
		var nr nextRequest
		if err := json.Unmarshal(req, &nr); err != nil {
			return nil, err.Error()
		}
		if nr.Heartbeat > 0 && nr.Heartbeat*2 > nr.Expires {
			return nil, "heartbeat value too large"
		}
		r.n, r.maxBytes, r.noWait, r.hb = nr.Batch, nr.MaxBytes, nr.NoWait, nr.Heartbeat
		r.bytesLeft = r.maxBytes
		if nr.Expires > 0 {
			r.expires = time.Now().Add(nr.Expires)
		}
		if r.hb > 0 {
			r.hbNext = time.Now().Add(r.hb)
		}
	default:
		if n, err := strconv.Atoi(string(req)); err == nil {
			r.n = n
		}
	}
	if r.n <= 0 {
		r.n = 1
	}
	return r, ""
}

// nextRequest queues a pull request (called on the requester's goroutine).
func (c *consumer) nextRequest(reply string, body []byte) {
	if reply == "" {
		return
	}
	send := func(hdr []byte) { _ = c.e.ic.Publish(reply, "", hdr, nil) }
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		send(hdrNoResponders)
		return
	}
	if c.cfg.isPush() {
		c.mu.Unlock()
		send(hdrPushBased)
		return
	}
	r, bad := parseNextRequest(body)
	cfg := &c.cfg
	var fail []byte
	switch {
	case bad != "":
		fail = statusErr(400, "Bad Request - "+bad)
	case cfg.MaxRequestBatch > 0 && r.n > cfg.MaxRequestBatch:
		fail = statusErr(409, "Exceeded MaxRequestBatch of "+strconv.Itoa(cfg.MaxRequestBatch))
	case !r.expires.IsZero() && cfg.MaxRequestExpires > 0 && r.expires.After(time.Now().Add(cfg.MaxRequestExpires)):
		fail = statusErr(409, "Exceeded MaxRequestExpires of "+cfg.MaxRequestExpires.String())
	case r.maxBytes > 0 && cfg.MaxRequestMaxBytes > 0 && r.maxBytes > cfg.MaxRequestMaxBytes:
		fail = statusErr(409, "Exceeded MaxRequestMaxBytes of "+strconv.Itoa(cfg.MaxRequestMaxBytes))
	}
	if fail == nil && r.noWait && r.expires.IsZero() && c.numPendingLocked()+uint64(len(c.rdq)) == 0 && len(c.lps) == 0 {
		fail = hdrNoMessages
	}
	if fail == nil && len(c.waiting) >= cfg.MaxWaiting {
		c.dropGoneRequestsLocked()
		if len(c.waiting) >= cfg.MaxWaiting {
			if r.hb > 0 {
				// nats-server stays silent here so that a client with
				// heartbeats retries after missing them, not in a loop.
				c.mu.Unlock()
				return
			}
			fail = hdrMaxWaiting
		}
	}
	c.activity = time.Now()
	if fail != nil {
		c.mu.Unlock()
		send(fail)
		return
	}
	r.reply = reply
	c.waiting = append(c.waiting, r)
	c.mu.Unlock()
	c.kick()
}

// dropGoneRequestsLocked removes requests whose requester went away.
func (c *consumer) dropGoneRequestsLocked() {
	kept := c.waiting[:0]
	for _, r := range c.waiting {
		if c.e.ic.HasInterest(r.reply) {
			kept = append(kept, r)
		}
	}
	clear(c.waiting[len(kept):])
	c.waiting = kept
}

// status appends a status message for r to the batch.
func (c *consumer) status(reply string, hdr []byte) {
	c.out.add(reply, reply, nil, hdr, true, nil)
}

// expireRequestsLocked ends expired requests with 408 and sends idle
// heartbeats to those that are due.
func (c *consumer) expireRequestsLocked(now time.Time) {
	kept := c.waiting[:0]
	for _, r := range c.waiting {
		if !r.expires.IsZero() && !now.Before(r.expires) {
			c.status(r.reply, pendingStatus(408, "Request Timeout", r.n, r.bytesLeft))
			continue
		}
		if r.hb > 0 && !now.Before(r.hbNext) {
			c.status(r.reply, c.heartbeatHdr(""))
			r.hbNext = now.Add(r.hb)
		}
		kept = append(kept, r)
	}
	clear(c.waiting[len(kept):])
	c.waiting = kept
}

// heartbeatHdr is the idle heartbeat status; stalled is the flow control
// reply being waited on, if any.
func (c *consumer) heartbeatHdr(stalled string) []byte {
	h := make([]byte, 0, 96)
	h = append(h, hdrIdleHeartbeat...)
	h = append(h, "Nats-Last-Consumer: "...)
	h = strconv.AppendUint(h, c.dseq, 10)
	h = append(h, "\r\nNats-Last-Stream: "...)
	h = strconv.AppendUint(h, c.sseq-1, 10)
	h = append(h, "\r\n"...)
	if stalled != "" {
		h = append(h, "Nats-Consumer-Stalled: "...)
		h = append(h, stalled...)
		h = append(h, "\r\n"...)
	}
	return append(h, "\r\n"...)
}

// removeRequestLocked removes waiting[i].
func (c *consumer) removeRequestLocked(i int) {
	copy(c.waiting[i:], c.waiting[i+1:])
	c.waiting[len(c.waiting)-1] = nil
	c.waiting = c.waiting[:len(c.waiting)-1]
}

// pickRequestLocked returns the index of the first request whose
// requester is still there, dropping the others.
func (c *consumer) pickRequestLocked() int {
	for len(c.waiting) > 0 {
		if c.e.ic.HasInterest(c.waiting[0].reply) {
			return 0
		}
		c.removeRequestLocked(0)
	}
	return -1
}

// fillPullLocked serves waiting requests. full reports that it stopped
// at the per-round limit with more to do.
func (c *consumer) fillPullLocked(now time.Time) (n int, full bool) {
	for n < maxPerRound && len(c.out.buf) < maxOutBytes {
		i := c.pickRequestLocked()
		if i < 0 || now.Before(c.holdUntil) || c.pausedLocked(now) {
			return n, false
		}
		r := c.waiting[i]
		seq, redelivery, ok := c.nextSeqLocked()
		if !ok {
			c.endOfStreamLocked()
			return n, false
		}
		m, ok := c.loadLocked(seq, redelivery)
		if !ok {
			continue
		}
		if w := c.replayWaitLocked(m, now); w > 0 {
			c.putBackLocked(seq, redelivery)
			c.holdUntil = now.Add(w)
			return n, false
		}
		size := len(m.Subject) + len(m.Header) + len(m.Data) + len(c.st.name) + len(c.name) + 48
		if r.maxBytes > 0 {
			if size > r.bytesLeft {
				c.status(r.reply, pendingStatus(409, "Message Size Exceeds MaxBytes", r.n, r.bytesLeft))
				c.removeRequestLocked(i)
				c.putBackLocked(seq, redelivery)
				continue
			}
			r.bytesLeft -= size
			if r.bytesLeft == 0 {
				r.n = 1
			}
		}
		c.deliverLocked(m, redelivery, r.reply, now)
		n++
		r.n--
		r.d++
		if r.hb > 0 {
			r.hbNext = now.Add(r.hb)
		}
		c.removeRequestLocked(i)
		if r.n > 0 {
			// Back of the queue: requests take turns (workers sharing a
			// durable get a fair share).
			c.waiting = append(c.waiting, r)
		} else if r.maxBytes > 0 && r.bytesLeft > 0 {
			c.status(r.reply, pendingStatus(409, "Batch Completed", 0, r.bytesLeft))
		}
	}
	return n, true
}

// endOfStreamLocked ends no_wait requests when nothing more is available:
// 404 No Messages, as nats-server does (with expires and nothing yet
// delivered, a no_wait request waits for its expiry instead).
func (c *consumer) endOfStreamLocked() {
	kept := c.waiting[:0]
	for _, r := range c.waiting {
		if r.noWait && (r.expires.IsZero() || r.d > 0) {
			c.status(r.reply, hdrNoMessages)
			continue
		}
		kept = append(kept, r)
	}
	clear(c.waiting[len(kept):])
	c.waiting = kept
}
