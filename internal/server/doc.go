// Package server is the natsctl broker: it accepts client connections, speaks
// the NATS client protocol byte-for-byte as nats-server does, matches subjects
// and delivers messages.
//
// # Goroutines
//
// Each connection has a read goroutine that owns the parser and the inbound
// state, and a write goroutine that owns socket writes. A publisher's read
// goroutine appends MSG bytes to each subscriber's outbound buffer under that
// subscriber's mu and remembers the subscriber; after the whole read batch it
// wakes each touched writer once (one wake-up per connection per batch). The
// writer swaps the buffer out under mu and writes it outside the lock. The
// accept loop, the per-connection ping timer, lame-duck mode, the monitoring
// HTTP server (monitor_http.go; its request handlers are net/http's, cut off
// by Shutdown) and the slow-consumer attribution of a closed connection are
// the other goroutines; all are counted in Server.wg.
//
// # Monitoring
//
// Monitoring adds no per-message work beyond the existing counters and the
// sampled top-subjects countdown (subjz.go): /varz, /connz, /subsz and
// /metrics are built from snapshots, each connection copied under its mu
// for a moment (monitor.go). Closed connections are kept in a bounded ring
// (closedconns.go).
//
// # Message tracing
//
// A message whose headers ask for a trace (msgtrace*.go, nats-server's
// Nats-Trace-Dest or a sampled traceparent) is followed on its
// publisher's read goroutine through c.mt: deliveries, imports and routes
// record events in it, and the event is published when processing ends.
// A stream that takes the message finishes its own event on the stream's
// goroutine; an atomic count of unfinished parts decides who sends. A PUB
// without headers pays one branch in the parser and one in deliver.
//
// # Routes (clustering)
//
// A route is a conn with route set (route*.go): the same write goroutine
// and outbound buffer, its own read loop and parser (route_proto.go). Its
// peer's interest is subscriptions in the Sublist owned by the route conn;
// a client publish that matches them appends one RMSG per route after local
// delivery (route_msg.go). Messages from a route are delivered locally only.
// Each configured seed has a goroutine that dials it with backoff while no
// route to that server exists; gossip-learned servers get a few attempts.
//
// # Lock order
//
// Server.mu (connection table) -> cluster.mu -> Sublist.mu -> conn.mu. A
// goroutine never holds two conn.mu at once, and no I/O happens under any
// lock. The Sublist's onChange hook (route interest) runs after Sublist.mu
// is released and takes cluster.mu, then conn.mu of each route.
// Monitoring: subjSampler.mu -> subjectTop.mu; closedRing.mu is taken alone.
//
// # Accounts
//
// Every connection belongs to an account (account.go), each with its own
// Sublist: $G until authentication binds another. Exports and imports
// (imports.go) are subscriptions whose delivery republishes the message in
// the other account through a pooled in-process connection, on the
// publisher's goroutine with no lock held. The account set is an immutable
// map swapped whole (Reload, operator-mode accounts loaded on demand in
// jwt.go). The system account (sysacc.go) answers $SYS requests from
// monitor.go's builders and publishes advisories. Lock order additions:
// Server.reloadMu -> Server.mu -> conn.mu (Reload re-checks each client);
// operatorState.mu, respMap.mu and sysState.mu are taken alone. An engine
// that implements AccountWatcher (accountwatch.go) hears of accounts that
// appear or go; Reload calls it holding reloadMu only, operator mode with
// no lock held (never under operatorState.mu).
//
// Security (auth.go, perms.go, tls.go): a connection's permissions are an
// atomic pointer set by its read goroutine on CONNECT and read by publishers
// delivering to it; its allow_responses grants are guarded by its conn.mu.
package server
