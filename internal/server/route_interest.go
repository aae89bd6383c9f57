package server

import "strings"

// Interest propagation (nats-server route.go updateRouteSubscriptionMap):
// this server tells every route which subjects its local subscribers want,
// once per distinct subject for plain subscriptions (RS+ on the first, RS-
// when the last goes) and, for queue groups, the member count as the RS+
// weight on every change. A peer's interest becomes a subscription in our
// Sublist owned by the route's conn, so matching a publish finds local and
// remote interest in one lookup.

// interestKey is "account subject" or "account subject queue".
func interestKey(acc, subject, queue string) string {
	if queue == "" {
		return acc + " " + subject
	}
	return acc + " " + subject + " " + queue
}

// localInterestChanged is the Sublist's onChange hook. Route-owned
// subscriptions are the peers' interest and are not propagated again.
func (s *Server) localInterestChanged(sub *subscription, added bool) {
	if sub.c != nil && sub.c.route != nil {
		return
	}
	cl := s.cluster
	acc := sub.acc.Name
	key := interestKey(acc, sub.subject, sub.queue)
	cl.mu.Lock()
	defer cl.mu.Unlock()
	n := cl.interest[key]
	if added {
		n++
	} else {
		n--
	}
	if n <= 0 {
		delete(cl.interest, key)
	} else {
		cl.interest[key] = n
	}
	var line []byte
	switch {
	case sub.queue == "" && added && n == 1:
		line = appendRouteSub(nil, acc, sub.subject, "", 0)
	case sub.queue == "" && !added && n <= 0:
		line = appendRouteUnsub(nil, acc, sub.subject, "")
	case sub.queue == "":
		return // the subject's interest was already known
	case n > 0:
		line = appendRouteSub(nil, acc, sub.subject, sub.queue, n)
	default:
		line = appendRouteUnsub(nil, acc, sub.subject, sub.queue)
	}
	for _, rc := range cl.routes {
		rc.enqueue(line)
	}
}

// interestDumpLocked returns RS+ for all local interest, sent to a route
// when it is registered. cl.mu held.
func (cl *cluster) interestDumpLocked() []byte {
	var b []byte
	for key, n := range cl.interest {
		acc, rest, _ := strings.Cut(key, " ")
		subj, queue, _ := strings.Cut(rest, " ")
		b = appendRouteSub(b, acc, subj, queue, n)
	}
	return b
}

// routeSub records a peer's interest (RS+). A repeated RS+ for a queue group
// updates its weight.
func (c *conn) routeSub(acc, subject, queue []byte, weight int32) error {
	if !c.route.gotInfo {
		return errParseUnknownOp
	}
	if c.srv.opts.Trace {
		c.trace("RS+", subject)
	}
	a := c.srv.lookupAccount(string(acc))
	if a == nil {
		return nil // an account this server does not have
	}
	if !validSubject(subject) || (queue != nil && !validQueue(queue)) {
		c.log.Debug("route sent an invalid subject; ignored", "subject", string(subject))
		return nil
	}
	key := interestKey(a.Name, string(subject), string(queue))
	if weight < 1 {
		weight = 1
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	if old := c.subs[key]; old != nil {
		c.mu.Unlock()
		if old.queue != "" {
			a.sl.setQueueWeight(old, weight)
		}
		return nil
	}
	sub := &subscription{c: c, subject: string(subject), queue: string(queue), sid: key, acc: a}
	if sub.queue != "" {
		sub.qw = weight
	}
	c.subs[key] = sub
	c.mu.Unlock()
	a.sl.Insert(sub)
	if c.isClosed() {
		a.sl.Remove(sub) // closed meanwhile: closeConn may have missed it
	}
	return nil
}

// routeUnsub removes a peer's interest (RS-).
func (c *conn) routeUnsub(acc, subject, queue []byte) error {
	if !c.route.gotInfo {
		return errParseUnknownOp
	}
	if c.srv.opts.Trace {
		c.trace("RS-", subject)
	}
	key := interestKey(string(acc), string(subject), string(queue))
	c.mu.Lock()
	sub := c.subs[key]
	delete(c.subs, key)
	c.mu.Unlock()
	if sub != nil {
		sub.acc.sl.Remove(sub)
	}
	return nil
}

// setQueueWeight changes a route queue subscription's weight and drops the
// cached results that hold it.
func (sl *Sublist) setQueueWeight(sub *subscription, w int32) {
	sl.mu.Lock()
	sub.qw = w
	sl.invalidateLocked(sub.subject)
	sl.mu.Unlock()
}
