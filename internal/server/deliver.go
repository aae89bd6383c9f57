package server

import (
	"math/rand/v2"
)

// processPub handles one PUB/HPUB: match, then deliver to every plain
// subscription and one member of each queue group.
func (c *conn) processPub(pa *pubArgs, payload []byte) error {
	c.inMsgs++
	c.inBytes += int64(len(payload))
	if c.subj.skip--; c.subj.skip < 0 { // sampled top-subjects counter (subjz.go)
		c.sampleSubject(pa.subject, len(payload))
	}
	if c.srv.opts.Trace {
		c.trace("PUB", pa.subject)
	}
	if c.opts.Pedantic && !validLiteralSubject(pa.subject) {
		c.sendSelf(errLine(errInvalidPubSubj))
		return c.ok()
	}
	if p := c.sec.perms.Load(); p != nil && !c.checkPublish(p, pa.subject) {
		c.pubViolation(pa.subject) // no +OK, nothing delivered
		return nil
	}
	// nats-server acknowledges before delivering, even to the publisher.
	c.ok()
	if isUserInfoRequest(pa) { // userinfo.go
		c.answerUserInfo(pa)
		return nil
	}
	r := c.match(pa.subject)
	for _, sub := range r.psubs {
		c.deliver(sub, pa, payload)
	}
	for _, members := range r.qsubs {
		// One random member; if it cannot take the message (echo off,
		// auto-unsubscribed, closed), the next one does.
		start := rand.IntN(len(members))
		for i := range members {
			if c.deliver(members[(start+i)%len(members)], pa, payload) {
				break
			}
		}
	}
	if len(r.rsubs) > 0 || len(c.rts) > 0 {
		if c.noRoute {
			c.rts = c.rts[:0]
		} else {
			c.sendToRoutes(r, pa, payload)
		}
	}
	if len(r.psubs) == 0 && len(r.qsubs) == 0 && len(r.rsubs) == 0 && len(pa.reply) > 0 && c.opts.NoResponders {
		c.noResponders(pa)
	}
	return nil
}

// match looks subj up through this connection's own cache, revalidated by the
// sublist's generation, then the shared one.
func (c *conn) match(subj []byte) *matchResult {
	return c.matchIn(c.acc.sl, subj)
}

// matchIn is match in the Sublist sl.
func (c *conn) matchIn(sl *Sublist, subj []byte) *matchResult {
	if gen := sl.genid.Load(); gen != c.l1gen || c.l1 == nil || sl != c.l1sl {
		if c.l1 == nil {
			c.l1 = make(map[string]*matchResult)
		} else {
			clear(c.l1)
		}
		c.l1gen, c.l1sl = gen, sl
	}
	if r, ok := c.l1[string(subj)]; ok {
		return r
	}
	key := string(subj)
	r := sl.Match(key)
	if len(c.l1) >= maxL1Entries {
		clear(c.l1)
	}
	c.l1[key] = r
	return r
}

// deliver queues the message on sub's connection; false when it could not.
func (c *conn) deliver(sub *subscription, pa *pubArgs, payload []byte) bool {
	if c.mt != nil {
		return c.deliverTraced(sub, pa, payload) // msgtrace.go
	}
	sc := sub.c
	if sub.imp != nil {
		return c.forwardImport(sub, pa, payload) // another account's subscribers (imports.go)
	}
	if sc.route != nil {
		return c.addRouteTarget(sub) // a queue member on another server
	}
	if sc == c && !c.opts.Echo {
		return false
	}
	rp := sc.sec.perms.Load()
	if rp != nil && len(rp.sub.deny) > 0 && rp.sub.denies(pa.subject, sub.queue) {
		return false // a wildcard subscription overlapping a denied subject
	}
	if max := sub.max.Load(); max > 0 {
		n := sub.nm.Add(1)
		if n > max {
			return false
		}
		if n == max {
			defer sc.unsubscribe(sub)
		}
	} else {
		sub.nm.Add(1)
	}
	if sub.handler != nil {
		c.deliverInProcess(sub, Trace{}, pa, payload)
		return true
	}
	hdr, body := pa.hdr, payload
	if hdr >= 0 && !sc.headers.Load() {
		// A client that did not announce headers gets the payload alone.
		body, hdr = payload[hdr:], -1
	}
	c.scratch = appendMsgHeader(c.scratch[:0], pa.subject, sub.sid, pa.reply, hdr, len(body))
	if c.srv.opts.Trace {
		sc.traceOut(c.scratch)
	}
	size := int64(len(c.scratch) + len(body) + 2)

	sc.mu.Lock()
	if sc.closed {
		sc.mu.Unlock()
		return false
	}
	if sc.pending+size > c.srv.opts.MaxPending {
		pending := sc.pending // read under sc.mu: the writer changes it
		sc.mu.Unlock()
		c.srv.stats.slowConsumers.Add(1)
		sc.log.Info("slow consumer: pending bytes over max_pending", "pending", pending, "max_pending", c.srv.opts.MaxPending, "subject", sub.subject, "sid", sub.sid)
		sc.closeConn(closeSlowConsumerPending, false)
		return false
	}
	if rp != nil && rp.resp != nil && len(pa.reply) > 0 {
		sc.grantReplyLocked(rp, pa.reply)
	}
	sc.out.writeMsg(c.scratch, body, crlf)
	sc.pending += size
	if sc.pending > sc.stallMark() && sc != c && c.stallWait == nil && c.done != nil {
		if sc.stallCh == nil {
			sc.stallCh = make(chan struct{})
		}
		c.stallWait = sc.stallCh
	}
	sc.sent.msgs++
	sc.sent.bytes += int64(len(body))
	sc.mu.Unlock()
	c.outMsgs++
	c.outBytes += int64(len(body))
	if sc != c.pcdLast {
		c.pcd[sc] = struct{}{}
		c.pcdLast = sc
	}
	return true
}

// deliverInProcess calls an in-process subscription's handler; tr is the
// message's trace (deliverTraced), the zero Trace when it is not traced.
// Kept out of deliver, whose frame every delivery to a client pays for.
//
//go:noinline
func (c *conn) deliverInProcess(sub *subscription, tr Trace, pa *pubArgs, payload []byte) {
	var h []byte
	data := payload
	if pa.hdr >= 0 {
		h, data = payload[:pa.hdr], payload[pa.hdr:]
	}
	if sub.dhandler != nil {
		sub.dhandler(c.requester(), tr, string(pa.subject), string(pa.reply), h, data)
		return
	}
	sub.handler(string(pa.subject), string(pa.reply), h, data)
}

// unsubscribe removes sub after its auto-unsubscribe limit was reached.
func (c *conn) unsubscribe(sub *subscription) {
	c.mu.Lock()
	if c.subs[sub.sid] == sub {
		delete(c.subs, sub.sid)
	}
	c.mu.Unlock()
	sub.acc.removeSub(sub)
}

// noResponders answers a request nobody can serve with a 503 status on the
// requester's own subscriptions that match its reply subject, as nats-server
// does (NATS-NOTES 1.0).
//
// Not inlined: processPub runs for every message and this rarely; inlined,
// it made processPub's frame larger (callgrind: +2 instructions per PUB).
//
//go:noinline
func (c *conn) noResponders(pa *pubArgs) {
	hdr := append([]byte("NATS/1.0 503\r\nNats-Subject: "), pa.subject...)
	c.replySelf(pa.reply, append(hdr, "\r\n\r\n"...), nil)
}

// replySelf delivers a message (hdr, nil for none, then body) on reply to
// this connection's own subscriptions that match it: the requester's
// inbox, for answers the server gives itself.
func (c *conn) replySelf(reply, hdr, body []byte) {
	r := c.acc.sl.Match(string(reply))
	for _, sub := range r.all() {
		if sub.c != c {
			continue
		}
		h := -1
		if hdr != nil {
			h = len(hdr)
		}
		msg := appendMsgHeader(nil, reply, sub.sid, nil, h, len(hdr)+len(body))
		msg = append(append(append(msg, hdr...), body...), "\r\n"...)
		c.sendSelf(msg)
	}
}

// all returns every subscription of r in a new slice (r is shared).
func (r *matchResult) all() []*subscription {
	out := append([]*subscription(nil), r.psubs...)
	for _, g := range r.qsubs {
		out = append(out, g...)
	}
	return out
}
