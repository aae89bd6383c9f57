package monitorapi

import (
	"fmt"
	"strings"
)

// SortOpt is a /connz sort key, the value of its `sort` query parameter.
type SortOpt string

// The /connz sort keys nats-server accepts (server/monitor_sort_opts.go).
const (
	ByCid      SortOpt = "cid"        // connection id
	ByStart    SortOpt = "start"      // start time; same order as cid
	BySubs     SortOpt = "subs"       // number of subscriptions
	ByPending  SortOpt = "pending"    // bytes waiting to be written to the client
	ByOutMsgs  SortOpt = "msgs_to"    // messages sent to the client
	ByInMsgs   SortOpt = "msgs_from"  // messages received from the client
	ByOutBytes SortOpt = "bytes_to"   // bytes sent to the client
	ByInBytes  SortOpt = "bytes_from" // bytes received from the client
	ByLast     SortOpt = "last"       // last activity time
	ByIdle     SortOpt = "idle"       // time since last activity
	ByUptime   SortOpt = "uptime"     // time since the connection started
	ByStop     SortOpt = "stop"       // when a closed connection stopped
	ByReason   SortOpt = "reason"     // why a closed connection closed
	ByRTT      SortOpt = "rtt"        // round-trip time
)

// SortOpts lists every valid key, in nats-server's order.
var SortOpts = []SortOpt{
	ByCid, ByStart, BySubs, ByPending, ByOutMsgs, ByInMsgs, ByOutBytes,
	ByInBytes, ByLast, ByIdle, ByUptime, ByStop, ByReason, ByRTT,
}

// IsValid reports whether s is a key /connz accepts. The empty key is valid
// and means ByCid.
func (s SortOpt) IsValid() bool {
	if s == "" {
		return true
	}
	for _, o := range SortOpts {
		if s == o {
			return true
		}
	}
	return false
}

// Descending reports whether /connz lists the largest value first for s.
// nats-server sorts cid and start ascending and, contrary to the comment in
// its ConnzOptions ("all others are descending"), also uptime (shortest
// first) and reason (alphabetical); everything else is descending. The
// reference server's observed order is the contract: see
// TestSortOrder_MatchesNATSServer.
func (s SortOpt) Descending() bool {
	switch s {
	case "", ByCid, ByStart, ByUptime, ByReason:
		return false
	}
	return true
}

// ClosedOnly reports whether s is only valid together with state=closed.
func (s SortOpt) ClosedOnly() bool { return s == ByStop || s == ByReason }

// ParseSortOpt validates a sort key given by a user or a query string. closed
// says whether the request is for closed connections (state=closed), which
// stop and reason need. The error texts follow nats-server's 400 replies.
func ParseSortOpt(key string, closed bool) (SortOpt, error) {
	s := SortOpt(strings.ToLower(strings.TrimSpace(key)))
	if !s.IsValid() {
		return "", fmt.Errorf("invalid sorting option: %s (valid: %s)", key, validList())
	}
	if s.ClosedOnly() && !closed {
		return "", fmt.Errorf("sort by %s only valid on closed connections", s)
	}
	if s == "" {
		s = ByCid
	}
	return s, nil
}

func validList() string {
	names := make([]string, len(SortOpts))
	for i, o := range SortOpts {
		names[i] = string(o)
	}
	return strings.Join(names, ", ")
}
