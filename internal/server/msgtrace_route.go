package server

import (
	"bytes"
	"strconv"
	"time"
)

// Traces across routes (nats-server's distributed tracing): the origin
// sends a traced message to each route with a Nats-Trace-Hop header ("1",
// "2", ... per route; a server that got hop "1" would number its own
// "1.1", ...), lists the route as an egress with that hop, and the peer
// sends its own event for its deliveries. A trace-only message crosses
// too: the peer lists, and does not deliver. A peer whose route protocol
// predates tracing gets the message untagged (never when trace only), and
// the egress says no event comes from there. Routed messages are not
// routed again, so natsctl's own events are at most one hop deep.

// writeTracedRouteMsg is writeRouteMsg for a traced message: it records
// the egress and tags the copy with its hop.
func (c *conn) writeTracedRouteMsg(rc *conn, pa *pubArgs, payload, qs []byte) {
	t := c.mt
	rc.mu.Lock()
	traces := rc.route != nil && rc.route.traces
	rc.mu.Unlock()
	e := &traceEgress{traceBase: traceBase{traceTypeEgress, time.Now()}, Kind: traceKindRouter, CID: rc.cid, Name: rc.connName()}
	t.ev.Events = append(t.ev.Events, e)
	if !traces {
		if t.only {
			e.Error = traceErrOnlyNoSupport
			return
		}
		e.Error = traceErrNoSupport
		c.writeRouteMsg(rc, pa, payload, qs)
		return
	}
	t.ev.Hops++
	e.Hop = strconv.Itoa(t.ev.Hops)
	if t.hop != "" {
		e.Hop = t.hop + "." + e.Hop
	}
	tpa, tagged := withHeader(pa, payload, hdrTraceHop, e.Hop)
	c.writeRouteMsg(rc, &tpa, tagged, qs)
}

// traceRouteMsg handles a routed message whose headers carry a trace: it
// delivers it (or, trace only, lists its receivers) and sends this
// server's event. handled is false when there is no trace.
func (c *conn) traceRouteMsg(pa *pubArgs, acc []byte, queues [][]byte, payload []byte) (handled bool, err error) {
	a := c.srv.lookupAccount(string(acc))
	if a == nil {
		return false, nil
	}
	t, skip, _ := c.traceFor(pa, payload[:pa.hdr], a, traceKindRouter) // no draw: the first server made it
	if t == nil {
		return skip, nil
	}
	c.mt = t
	err = c.routeMsg(pa, acc, queues, payload)
	c.mt = nil
	t.done()
	return true, err
}

// setHeader returns hdr (a header block) with header name set to value, in
// a new slice: the first such line's value replaced, or a line added at
// the end of the block. hdr is returned as is when it is not a block.
func setHeader(hdr []byte, name, value string) []byte {
	key := []byte("\r\n" + name + ":")
	if i := bytes.Index(hdr, key); i >= 0 {
		start := i + len(key)
		end := bytes.Index(hdr[start:], []byte("\r\n"))
		if end < 0 {
			return hdr
		}
		end += start
		out := make([]byte, 0, len(hdr)+len(value)+1)
		out = append(out, hdr[:start]...)
		out = append(out, ' ')
		out = append(out, value...)
		return append(out, hdr[end:]...)
	}
	if !bytes.HasSuffix(hdr, []byte("\r\n\r\n")) {
		return hdr
	}
	out := make([]byte, 0, len(hdr)+len(name)+len(value)+4)
	out = append(out, hdr[:len(hdr)-2]...)
	out = append(out, name...)
	out = append(out, ": "...)
	out = append(out, value...)
	return append(out, "\r\n\r\n"...)
}
