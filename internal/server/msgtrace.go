package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"strings"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/s2"
)

// Message tracing, as nats-server 2.11+ does it (`nats trace`, ADR-41):
// a message whose header block names a subject in Nats-Trace-Dest makes
// the server publish one JSON event (nats-server's MsgTraceEvent) to that
// subject in the publisher's account, once the message is processed: the
// ingress, the imports it crossed, the stream that stored it and one
// egress per delivery. With Nats-Trace-Only true the message is traced but
// not delivered (nor stored).
//
// Cost: a PUB without headers pays one branch (pa.hdr > 0 in the parser);
// an HPUB scans its header block once for the header name; only a traced
// message builds anything. While a message is traced its publisher's
// c.mt is set (read goroutine only), and deliveries record egresses in it.

// Header names and values (nats-server msgtrace.go).
const (
	hdrTraceDest   = "Nats-Trace-Dest"
	hdrTraceOnly   = "Nats-Trace-Only"
	hdrTraceHop    = "Nats-Trace-Hop"
	hdrTraceOrigin = "Nats-Trace-Origin-Account"
	// traceDisabled replaces the destination of a message that must not be
	// traced further (a stored message, an import that does not allow
	// tracing); it is not a valid subject.
	traceDisabled = "trace disabled"
)

// Connection kinds as nats-server numbers them in trace events.
const (
	traceKindClient = 0
	traceKindRouter = 1
)

// Egress errors, nats-server's texts.
const (
	traceErrNoEcho          = "Not delivered because of no echo"
	traceErrSubDeny         = "Not delivered because subscription denies this subject"
	traceErrClientClosed    = "Not delivered because client is closed"
	traceErrAutoSubExceeded = "Not delivered because auto-unsubscribe exceeded"
	traceErrOnlyNoSupport   = "Not delivered because remote does not support message tracing"
	traceErrNoSupport       = "Message delivered but remote does not support message tracing so no trace event generated from there"
)

// Event types (the "type" field of each event).
const (
	traceTypeIngress       = "in"
	traceTypeStreamExport  = "se"
	traceTypeServiceImport = "si"
	traceTypeJetStream     = "js"
	traceTypeEgress        = "eg"
)

// traceEvent is nats-server's MsgTraceEvent.
type traceEvent struct {
	Server  *eventServerInfo `json:"server"`
	Request traceRequest     `json:"request"`
	Hops    int              `json:"hops,omitempty"`
	Events  []any            `json:"events"`
}

// traceRequest is nats-server's MsgTraceRequest: the message's headers
// (names as sent) and its size (headers and data).
type traceRequest struct {
	Header  map[string][]string `json:"header,omitempty"`
	MsgSize int                 `json:"msgsize,omitempty"`
}

type traceBase struct {
	Type string    `json:"type"`
	TS   time.Time `json:"ts"`
}

type traceIngress struct {
	traceBase
	Kind    int    `json:"kind"`
	CID     uint64 `json:"cid"`
	Name    string `json:"name,omitempty"`
	Account string `json:"acc"`
	Subject string `json:"subj"`
	Error   string `json:"error,omitempty"`
}

type traceStreamExport struct {
	traceBase
	Account string `json:"acc"`
	To      string `json:"to"`
}

type traceServiceImport struct {
	traceBase
	Account string `json:"acc"`
	From    string `json:"from"`
	To      string `json:"to"`
}

type traceJetStream struct {
	traceBase
	Stream     string `json:"stream"`
	Subject    string `json:"subject,omitempty"`
	NoInterest bool   `json:"nointerest,omitempty"`
	Error      string `json:"error,omitempty"`
}

type traceEgress struct {
	traceBase
	Kind         int    `json:"kind"`
	CID          uint64 `json:"cid"`
	Name         string `json:"name,omitempty"`
	Hop          string `json:"hop,omitempty"`
	Account      string `json:"acc,omitempty"`
	Subscription string `json:"sub,omitempty"`
	Queue        string `json:"queue,omitempty"`
	Error        string `json:"error,omitempty"`
}

// msgTrace is one traced message. It is built on the publisher's read
// goroutine; a stream that stores the message finishes its JetStream
// event on its own goroutine, and whichever part ends last sends.
type msgTrace struct {
	srv     *Server
	acc     *Account // the publisher's: the event is published there
	dest    string
	only    bool         // trace only: deliver nothing
	via     *importEntry // the stream import the message is crossing, if any
	hop     string       // this server's place in the trace: "" at the origin, else Nats-Trace-Hop
	ingress *traceIngress
	ev      traceEvent
	parts   atomic.Int32 // unfinished parts: the publish, and each JetStream event
}

// processHPub is processPub for a client's HPUB (the parser calls it; a
// PUB does not come here, nor do in-process publishes or routed
// messages, see traceRouteMsg): it starts the trace the headers ask for.
func (c *conn) processHPub(pa *pubArgs, payload []byte) error {
	if handled, err := c.tracePub(pa, payload); handled {
		return err
	}
	return c.processPub(pa, payload)
}

// tracePub processes an HPUB whose headers ask for a trace, and reports
// handled=false when they do not (nothing done then).
func (c *conn) tracePub(pa *pubArgs, payload []byte) (handled bool, err error) {
	if c.mt != nil || c.nc == nil || c.route != nil {
		// Already traced (an import's forwarder), or an in-process
		// publisher or a route: they do not start traces.
		return false, nil
	}
	t, skip, drawLost := c.newTrace(pa, payload[:pa.hdr])
	if t == nil {
		if drawLost { // mark it so that no other server traces it
			mpa, marked := withHeader(pa, payload, hdrTraceDest, traceDisabled)
			return true, c.processPub(&mpa, marked)
		}
		return skip, nil
	}
	c.mt = t
	err = c.processPub(pa, payload)
	c.mt = nil
	t.done()
	return true, err
}

// newTrace starts the trace a message's header block hdr asks for, or
// returns nil and whether to drop the message: a trace-only message whose
// trace cannot start is not delivered as a plain one, and a destination
// the publisher may not publish to refuses the message (nats-server).
// drawLost: a W3C traceparent message the account's sampling did not
// pick (msgtrace_w3c.go), to be marked so that no other server traces it.
func (c *conn) newTrace(pa *pubArgs, hdr []byte) (t *msgTrace, skip, drawLost bool) {
	t, skip, drawLost = c.traceFor(pa, hdr, c.acc, traceKindClient)
	if t != nil {
		if p := c.sec.perms.Load(); p != nil && !c.checkPublish(p, []byte(t.dest)) {
			c.pubViolation([]byte(t.dest))
			return nil, true, false
		}
	}
	return t, skip, drawLost
}

// traceFor reads the trace a header block asks for, for a message that
// came from c (of kind) in account acc; nil and whether to drop the
// message, or whether it lost the sampling draw, when none starts
// (newTrace).
func (c *conn) traceFor(pa *pubArgs, hdr []byte, acc *Account, kind int) (t *msgTrace, skip, drawLost bool) {
	var headers map[string][]string
	var dest string
	if bytes.Contains(hdr, []byte(hdrTraceDest)) {
		headers = traceHeaders(hdr)
		dest = first(headers, hdrTraceDest)
		if dest == traceDisabled {
			return nil, false, false
		}
	}
	only := false
	if dest != "" {
		switch strings.ToLower(first(headers, hdrTraceOnly)) {
		case "1", "true", "on":
			only = true
		}
	} else if acc.trace.Load() != nil { // a W3C traceparent (msgtrace_w3c.go)
		var sampled bool
		dest, sampled = externalTrace(acc, hdr, headers, kind)
		if dest == "" {
			return nil, false, false
		}
		if !sampled {
			return nil, false, true
		}
		if headers == nil {
			headers = traceHeaders(hdr)
		}
	} else {
		return nil, false, false
	}
	if first(headers, hdrTraceOrigin) != "" || !validLiteralSubject([]byte(dest)) {
		return nil, only, false
	}
	t = &msgTrace{srv: c.srv, acc: acc, dest: dest, only: only}
	if kind != traceKindClient {
		t.hop = first(headers, hdrTraceHop)
	}
	t.ingress = &traceIngress{traceBase: traceBase{traceTypeIngress, time.Now()},
		Kind: kind, CID: c.cid, Name: c.connName(), Account: acc.Name, Subject: string(pa.subject)}
	t.ev = traceEvent{Request: traceRequest{Header: headers, MsgSize: pa.size}, Events: []any{t.ingress}}
	t.parts.Store(1)
	return t, false, false
}

// traceMaxPayload sends the event of an HPUB refused for its size before
// its payload was read, when the start of its header block in buf (the
// read that held the end of its line) asks for a trace, as nats-server
// does. The read loop calls it before closing the connection; the parser
// stopped at that HPUB, whose arguments are still in c.p.pa.
func (c *conn) traceMaxPayload(buf []byte) {
	pa := &c.p.pa
	if pa.hdr <= 0 || c.nc == nil || c.route != nil {
		return
	}
	// The line ends at the first newline after its subject when the
	// subject is in buf; otherwise the line began in an earlier read and
	// ends at the first newline of buf.
	start := 0
	if len(pa.subject) > 0 {
		for k := range buf {
			if &buf[k] == &pa.subject[0] {
				start = k
				break
			}
		}
	}
	nl := bytes.IndexByte(buf[start:], '\n')
	if nl < 0 {
		return
	}
	rest := buf[start+nl+1:]
	if t, _, _ := c.newTrace(pa, rest[:min(len(rest), pa.hdr)]); t != nil {
		t.ingressError("maximum payload exceeded")
		t.done()
	}
}

// connName is the name a trace event gives c: the client's, or a route's
// peer server name. c.mu not held.
func (c *conn) connName() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.route != nil && c.route.remoteName != "" {
		return c.route.remoteName
	}
	return c.name
}

// done finishes one part of the trace; the last one sends the event.
func (t *msgTrace) done() {
	if t.parts.Add(-1) != 0 {
		return
	}
	t.ev.Server = t.srv.eventServer()
	b, err := json.Marshal(&t.ev)
	if err != nil {
		t.srv.log.Warn("trace event not encoded", "err", err)
		return
	}
	hdr, msg := encodeTraceEvent(first(t.ev.Request.Header, "Accept-Encoding"), b)
	t.srv.forward(0, t.acc, true, []byte(t.dest), nil, hdr, msg, nil)
}

// encodeTraceEvent compresses the event as the traced message's
// Accept-Encoding asks, as nats-server does: snappy (or s2) in the
// snappy-compatible framing, gzip, or for any other value none, with a
// Content-Encoding header naming what was done ("identity" for none). It
// returns the header length (-1 for none) and the message.
func encodeTraceEvent(accept string, event []byte) (int, []byte) {
	var enc string
	var buf bytes.Buffer
	switch a := strings.ToLower(accept); {
	case a == "":
		return -1, event
	case strings.Contains(a, "snappy") || strings.Contains(a, "s2"):
		w := s2.NewWriter(&buf, s2.WriterSnappyCompat())
		_, _ = w.Write(event)
		_ = w.Close()
		enc, event = "snappy", buf.Bytes()
	case strings.Contains(a, "gzip"):
		w := gzip.NewWriter(&buf)
		_, _ = w.Write(event)
		_ = w.Close()
		enc, event = "gzip", buf.Bytes()
	default:
		enc = "identity"
	}
	hdr := "NATS/1.0\r\nContent-Encoding: " + enc + "\r\n\r\n"
	return len(hdr), append([]byte(hdr), event...)
}

// ingressError records why the message was refused.
func (t *msgTrace) ingressError(text string) { t.ingress.Error = text }

// egress records a delivery (or a refused one, with its error) to sub.
func (t *msgTrace) egress(sub *subscription, errText string) {
	sc := sub.c
	e := &traceEgress{traceBase: traceBase{traceTypeEgress, time.Now()}, CID: sc.cid, Error: errText}
	sc.mu.Lock()
	e.Name = sc.name
	acc := sc.acc
	sc.mu.Unlock()
	e.Subscription, e.Queue = sub.subject, sub.queue
	if t.via != nil && subsetOf(t.via.local, sub.subject) {
		// nats-server delivers an import through a copy of the
		// subscription in the exporter, on the import's subject, and
		// names that one.
		e.Subscription = t.via.src
	}
	if acc != nil && acc.Name != t.ingress.Account {
		e.Account = acc.Name
	}
	t.ev.Events = append(t.ev.Events, e)
}

// deliverTraced is deliver for a traced message: it records the egress,
// with nats-server's error when the subscriber does not get it, and
// delivers unless the message is trace only. c.mt is set.
func (c *conn) deliverTraced(sub *subscription, pa *pubArgs, payload []byte) bool {
	t, sc := c.mt, sub.c
	switch {
	case sub.imp != nil:
		return c.forwardImport(sub, pa, payload) // records its own event (imports.go)
	case sc.route != nil:
		return c.addRouteTarget(sub) // recorded when sent (route_msg.go)
	case sub.dhandler != nil: // the streaming engine: a stream adds its own event
		c.deliverInProcess(sub, Trace{t}, pa, payload)
		return true
	case sub.handler != nil: // other in-process subscribers: no event
		if t.only {
			return true
		}
		return c.deliverUntraced(sub, pa, payload)
	case sc == c && !c.opts.Echo:
		t.egress(sub, traceErrNoEcho)
		return false
	}
	if rp := sc.sec.perms.Load(); rp != nil && len(rp.sub.deny) > 0 && rp.sub.denies(pa.subject, sub.queue) {
		t.egress(sub, traceErrSubDeny)
		return false
	}
	if t.only {
		t.egress(sub, "")
		return true // listed, not delivered
	}
	sc.mu.Lock()
	closed := sc.closed
	sc.mu.Unlock()
	if closed {
		t.egress(sub, traceErrClientClosed)
		return false
	}
	ok := c.deliverUntraced(sub, pa, payload)
	errText := ""
	if max := sub.max.Load(); !ok && max > 0 && sub.nm.Load() > max {
		errText = traceErrAutoSubExceeded
	}
	// A slow consumer cut off now is listed without error, as nats-server
	// lists it (it records the egress before queueing).
	t.egress(sub, errText)
	return ok
}

// deliverUntraced is deliver with c.mt cleared for the call.
func (c *conn) deliverUntraced(sub *subscription, pa *pubArgs, payload []byte) bool {
	t := c.mt
	c.mt = nil
	ok := c.deliver(sub, pa, payload)
	c.mt = t
	return ok
}

// streamExport records a stream import carrying the message into account
// acc as subject to.
func (t *msgTrace) streamExport(acc string, to []byte) {
	t.ev.Events = append(t.ev.Events, &traceStreamExport{traceBase{traceTypeStreamExport, time.Now()}, acc, string(to)})
}

// serviceImport records a service import carrying the message from
// subject from to subject to in the exporting account acc.
func (t *msgTrace) serviceImport(acc string, from, to []byte) {
	t.ev.Events = append(t.ev.Events, &traceServiceImport{traceBase{traceTypeServiceImport, time.Now()}, acc, string(from), string(to)})
}

// first is the first value of header name.
func first(h map[string][]string, name string) string {
	if v := h[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// traceHeaders returns the headers of a "NATS/1.0..." block as a map,
// names as sent (nats-server does not canonicalize them here). Values are
// trimmed of spaces and tabs; lines with an empty name or value, or
// without a colon, are skipped, and an unterminated last line ignored.
//
//	NATS/1.0\r\n
//	Name: value\r\n      (repeated)
//	\r\n
func traceHeaders(hdr []byte) map[string][]string {
	// nats-server traces only a block without a status.
	const preamble = "NATS/1.0\r\n"
	if !bytes.HasPrefix(hdr, []byte(preamble)) {
		return nil
	}
	var m map[string][]string
	for rest := hdr[len(preamble):]; len(rest) > 0; {
		i := bytes.Index(rest, []byte("\r\n"))
		if i < 0 {
			break // an unterminated line is not a header
		}
		line := rest[:i]
		rest = rest[i+2:]
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.Trim(value, " \t")
		if len(name) == 0 || len(value) == 0 {
			continue
		}
		if m == nil {
			m = make(map[string][]string)
		}
		m[string(name)] = append(m[string(name)], string(value))
	}
	return m
}

// withTraceDest returns payload with its trace destination, if it has
// one, set to dest (traceDisabled for a message delivered on without its
// trace) and its new header length.
func withTraceDest(hdr int, payload []byte, dest string) (int, []byte) {
	if !hasTraceDest(payload[:hdr]) {
		return hdr, payload
	}
	pa, out := withHeader(&pubArgs{hdr: hdr}, payload, hdrTraceDest, dest)
	return pa.hdr, out
}

// withHeader returns a message (its pubArgs and payload, in a new slice)
// with header name set to value (setHeader).
func withHeader(pa *pubArgs, payload []byte, name, value string) (pubArgs, []byte) {
	h := setHeader(payload[:pa.hdr], name, value)
	out := append(h[:len(h):len(h)], payload[pa.hdr:]...)
	npa := *pa
	npa.hdr, npa.size = len(h), len(out)
	return npa, out
}
