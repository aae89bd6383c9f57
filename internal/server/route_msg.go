package server

import "math/rand/v2"

// routeTarget is one route a message goes to, with the queue groups it was
// picked for ("q1 q2 ", each name followed by a space).
type routeTarget struct {
	rc *conn
	qs []byte
}

// addRouteTarget records that the message being delivered goes to sub's
// route for sub's queue group. The RMSG is written once per route after
// local delivery (sendToRoutes). Always true: a closed route is skipped later.
func (c *conn) addRouteTarget(sub *subscription) bool {
	for i := range c.rts {
		if t := &c.rts[i]; t.rc == sub.c {
			if sub.queue != "" {
				t.qs = append(append(t.qs, sub.queue...), ' ')
			}
			return true
		}
	}
	if len(c.rts) < cap(c.rts) {
		c.rts = c.rts[:len(c.rts)+1]
	} else {
		c.rts = append(c.rts, routeTarget{})
	}
	t := &c.rts[len(c.rts)-1]
	t.rc, t.qs = sub.c, t.qs[:0]
	if sub.queue != "" {
		t.qs = append(append(t.qs, sub.queue...), ' ')
	}
	return true
}

// sendToRoutes writes one RMSG/HMSG per route with interest: routes with a
// plain subscription (r.rsubs) and routes picked for queue groups (c.rts).
// A message from a client crosses at most one hop: routes never forward.
func (c *conn) sendToRoutes(r *matchResult, pa *pubArgs, payload []byte) {
	for _, s := range r.rsubs {
		c.addRouteTarget(s) // plain: no queue name added; one target per route
	}
	for i := range c.rts {
		t := &c.rts[i]
		if c.mt != nil { // a traced message (msgtrace.go)
			c.writeTracedRouteMsg(t.rc, pa, payload, t.qs)
			t.rc = nil
			continue
		}
		c.writeRouteMsg(t.rc, pa, payload, t.qs)
		t.rc = nil
	}
	c.rts = c.rts[:0]
}

// writeRouteMsg queues one routed message on rc.
func (c *conn) writeRouteMsg(rc *conn, pa *pubArgs, payload, qs []byte) {
	hdr, body := pa.hdr, payload
	if hdr >= 0 && !rc.headers.Load() {
		body, hdr = payload[hdr:], -1 // the peer does not take headers
	}
	if len(qs) > 0 {
		qs = qs[:len(qs)-1] // drop the trailing space
	}
	c.scratch = appendRouteMsgHeader(c.scratch[:0], c.acc.Name, pa.subject, pa.reply, qs, hdr, len(body))
	size := int64(len(c.scratch) + len(body) + 2)
	rc.mu.Lock()
	if rc.closed {
		rc.mu.Unlock()
		return
	}
	if rc.pending+size > c.srv.opts.MaxPending {
		pending := rc.pending
		rc.mu.Unlock()
		c.srv.stats.slowConsumers.Add(1)
		rc.log.Warn("route is a slow consumer: pending bytes over max_pending; closing it", "pending", pending)
		rc.closeConn(closeSlowConsumerPending, false)
		return
	}
	rc.out.writeMsg(c.scratch, body, crlf)
	rc.pending += size
	if rc.pending > rc.stallMark() && c.stallWait == nil && c.done != nil {
		// Hold the publisher back until the route drains (conn.waitStall).
		if rc.stallCh == nil {
			rc.stallCh = make(chan struct{})
		}
		c.stallWait = rc.stallCh
	}
	rc.sent.msgs++
	rc.sent.bytes += int64(len(body))
	rc.mu.Unlock()
	c.outMsgs++
	c.outBytes += int64(len(body))
	c.pcd[rc] = struct{}{}
}

// routeMsg delivers a message that arrived over a route: to every local
// plain subscriber, and for each queue group the sender picked this server
// for, to one random local member. Nothing is routed again.
func (c *conn) routeMsg(pa *pubArgs, acc []byte, queues [][]byte, payload []byte) error {
	if pa.hdr > 0 && c.mt == nil { // the headers may carry a trace (msgtrace.go)
		if handled, err := c.traceRouteMsg(pa, acc, queues, payload); handled {
			return err
		}
	}
	c.inMsgs++
	c.inBytes += int64(len(payload))
	a := c.srv.lookupAccount(string(acc))
	if a == nil {
		return nil // an account this server does not have
	}
	if c.srv.opts.Trace {
		c.trace("RMSG", pa.subject)
	}
	r := c.matchIn(a.sl, pa.subject)
	c.acc = a // deliveries forwarded by imports publish from it; read goroutine only
	for _, sub := range r.psubs {
		c.deliver(sub, pa, payload)
	}
	if len(queues) == 0 {
		return nil
	}
	for _, members := range r.qsubs {
		if len(members) == 0 || !hasQueue(queues, members[0].queue) {
			continue
		}
		start := rand.IntN(len(members))
		for i := range members {
			m := members[(start+i)%len(members)]
			if m.c.route != nil {
				continue // never a second hop
			}
			if c.deliver(m, pa, payload) {
				break
			}
		}
	}
	return nil
}

func hasQueue(queues [][]byte, q string) bool {
	for _, n := range queues {
		if string(n) == q {
			return true
		}
	}
	return false
}
