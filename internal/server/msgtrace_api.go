package server

import (
	"bytes"
	"time"
)

// TracedHandler is a MsgHandler that takes part in message tracing: the
// streaming engine reports through tr which stream stored the message.
type TracedHandler func(tr Trace, subject, reply string, hdr, data []byte)

// Trace is the trace of a message being delivered (msgtrace.go), or the
// zero Trace when the message is not traced. It is valid during the
// handler call; a JetStreamTrace taken from it outlives it.
type Trace struct{ t *msgTrace }

// Active reports whether the message is traced.
func (tr Trace) Active() bool { return tr.t != nil }

// Only reports a trace-only message: it must be traced, not stored.
func (tr Trace) Only() bool { return tr.t != nil && tr.t.only }

// JetStream adds the "js" event of a stream that takes the message; the
// trace event is sent once the returned JetStreamTrace is Done (and the
// delivery finished). On the zero Trace it returns the zero
// JetStreamTrace, whose Done does nothing. Call it from the handler.
func (tr Trace) JetStream(stream string) JetStreamTrace {
	if tr.t == nil {
		return JetStreamTrace{}
	}
	e := &traceJetStream{traceBase: traceBase{traceTypeJetStream, time.Now()}, Stream: stream}
	tr.t.ev.Events = append(tr.t.ev.Events, e)
	tr.t.parts.Add(1)
	return JetStreamTrace{t: tr.t, e: e}
}

// JetStreamTrace is a stream's part of a trace, finished by Done.
type JetStreamTrace struct {
	t *msgTrace
	e *traceJetStream
}

// Done records the stream's outcome (the subject it stored the message
// under, whether an interest-retention stream dropped it for want of
// interest) and sends the trace event if the delivery finished. Call it
// once, from any goroutine.
func (j JetStreamTrace) Done(subject string, noInterest bool) {
	if j.t == nil {
		return
	}
	j.e.Subject, j.e.NoInterest, j.e.TS = subject, noInterest, time.Now()
	j.t.done()
}

// Failed is Done for a message the stream refused: errText is the
// description of its error (nats-server names no subject then).
func (j JetStreamTrace) Failed(errText string) {
	if j.t == nil {
		return
	}
	j.e.Error = errText
	j.t.done()
}

// DisableTrace returns hdr (a header block) with its Nats-Trace-Dest value
// replaced by "trace disabled", in a new slice, as nats-server stores a
// traced message: delivering it later must not start a trace. hdr is
// returned as is when it has no such header.
func DisableTrace(hdr []byte) []byte { return setTraceDest(hdr, traceDisabled) }

// setTraceDest is hdr with its Nats-Trace-Dest value replaced by dest, in
// a new slice; hdr itself when it has no such header.
func setTraceDest(hdr []byte, dest string) []byte {
	if !hasTraceDest(hdr) {
		return hdr
	}
	return setHeader(hdr, hdrTraceDest, dest)
}

// hasTraceDest reports whether a header block has a Nats-Trace-Dest line.
func hasTraceDest(hdr []byte) bool {
	return bytes.Contains(hdr, []byte("\r\n"+hdrTraceDest+":"))
}
