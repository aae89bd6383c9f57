package server

// Interest propagation (nats-server route.go updateRouteSubscriptionMap):
// this server tells every route which subjects its local subscribers want,
// once per distinct subject for plain subscriptions (RS+ on the first, RS-
// when the last goes) and, for queue groups, the member count as the RS+
// weight on every change. A peer's interest becomes a subscription in our
// Sublist owned by the route's conn, so matching a publish finds local and
// remote interest in one lookup.

// interestKey is "subject" or "subject queue".
func interestKey(subject, queue string) string {
	if queue == "" {
		return subject
	}
	return subject + " " + queue
}

// localInterestChanged is the Sublist's onChange hook. Route-owned
// subscriptions are the peers' interest and are not propagated again.
func (s *Server) localInterestChanged(sub *subscription, added bool) {
	if sub.c != nil && sub.c.route != nil {
		return
	}
	cl := s.cluster
	key := interestKey(sub.subject, sub.queue)
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
		line = appendRouteSub(nil, sub.subject, "", 0)
	case sub.queue == "" && !added && n <= 0:
		line = appendRouteUnsub(nil, sub.subject, "")
	case sub.queue == "":
		return // the subject's interest was already known
	case n > 0:
		line = appendRouteSub(nil, sub.subject, sub.queue, n)
	default:
		line = appendRouteUnsub(nil, sub.subject, sub.queue)
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
		subj, queue := key, ""
		for i := 0; i < len(key); i++ {
			if key[i] == ' ' {
				subj, queue = key[:i], key[i+1:]
				break
			}
		}
		b = appendRouteSub(b, subj, queue, n)
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
	if string(acc) != globalAccount {
		return nil // only the global account exists here
	}
	if !validSubject(subject) || (queue != nil && !validQueue(queue)) {
		c.log.Debug("route sent an invalid subject; ignored", "subject", string(subject))
		return nil
	}
	key := interestKey(string(subject), string(queue))
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
			c.srv.sl.setQueueWeight(old, weight)
		}
		return nil
	}
	sub := &subscription{c: c, subject: string(subject), queue: string(queue), sid: key}
	if sub.queue != "" {
		sub.qw = weight
	}
	c.subs[key] = sub
	c.mu.Unlock()
	c.srv.sl.Insert(sub)
	if c.isClosed() {
		c.srv.sl.Remove(sub) // closed meanwhile: closeConn may have missed it
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
	if string(acc) != globalAccount {
		return nil
	}
	key := interestKey(string(subject), string(queue))
	c.mu.Lock()
	sub := c.subs[key]
	delete(c.subs, key)
	c.mu.Unlock()
	if sub != nil {
		c.srv.sl.Remove(sub)
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
