package server

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// W3C trace context (nats-server 2.11 "external" traces): in an account
// with a trace destination (msg_trace), a message that carries a
// traceparent header whose flags say "sampled" is traced to that
// destination, for the given percentage of such messages, decided where
// the message enters (a client). A message not picked is marked with
// Nats-Trace-Dest "trace disabled" so that no other server traces it. A
// Nats-Trace-Dest header takes precedence; Nats-Trace-Only does not apply.

// accountTrace is an account's trace destination.
type accountTrace struct {
	dest     string
	sampling int // 1..100
}

// hdrTraceParent is matched in any case (W3C trace context).
const hdrTraceParent = "traceparent"

func (a *Account) setTraceDest(dest string, sampling int) error {
	if dest == "" {
		if sampling != 0 {
			return fmt.Errorf("trace sampling %d without a trace destination", sampling)
		}
		a.trace.Store(nil)
		return nil
	}
	if !validLiteralSubject([]byte(dest)) {
		return fmt.Errorf("trace destination %q is not a valid subject", dest)
	}
	if sampling < 0 || sampling > 100 {
		return fmt.Errorf("trace sampling %d: want 1 to 100", sampling)
	}
	if sampling == 0 {
		sampling = 100
	}
	a.trace.Store(&accountTrace{dest: dest, sampling: sampling})
	return nil
}

// externalTrace reports the destination of a message of account acc
// whose headers hold a sampled traceparent: "" when acc has none or the
// header is absent or not sampled; sampled is false when the message lost
// the draw (the caller marks it disabled). Only a client's message is
// drawn (kind); the next servers trace what the first one picked.
func externalTrace(acc *Account, hdr []byte, headers map[string][]string, kind int) (dest string, sampled bool) {
	at := acc.trace.Load()
	if at == nil || !containsFold(hdr, hdrTraceParent) {
		return "", false
	}
	if headers == nil {
		headers = traceHeaders(hdr)
	}
	found := false
	for k, vs := range headers {
		if !strings.EqualFold(k, hdrTraceParent) {
			continue
		}
		for _, v := range vs {
			if traceParentSampled(v) {
				found = true
			}
		}
	}
	if !found {
		return "", false
	}
	if kind == traceKindClient && at.sampling < 100 && rand.IntN(100) >= at.sampling {
		return at.dest, false
	}
	return at.dest, true
}

// traceParentSampled reports whether a traceparent value
// (version-traceid-parentid-flags) has the sampled flag.
func traceParentSampled(v string) bool {
	tk := strings.Split(v, "-")
	if len(tk) != 4 || len(tk[3]) != 2 {
		return false
	}
	f, err := strconv.ParseUint(tk[3], 16, 8)
	return err == nil && f&1 == 1
}

// containsFold reports whether b holds the ASCII lower-case word w in any
// case.
func containsFold(b []byte, w string) bool {
	for i := 0; i+len(w) <= len(b); i++ {
		if c := b[i] | 0x20; c != w[0] {
			continue
		}
		if bytes.EqualFold(b[i:i+len(w)], []byte(w)) {
			return true
		}
	}
	return false
}
