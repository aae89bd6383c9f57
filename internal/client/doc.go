// Package client is the NATS client every natsctl command uses. It speaks the
// NATS client protocol to nats-server or to our own server: connect over TCP
// or TLS (upgraded after INFO, or first with TLSHandshakeFirst) to a list of
// URLs, authenticate (user/password, token, nkey, .creds), publish with
// headers and reply subjects, subscribe (callback, channel, synchronous,
// queue groups, auto-unsubscribe), request/reply over one shared wildcard
// inbox, flush, drain and close.
//
// Resilience: keep-alive PINGs detect a dead server; a lost connection is
// re-established over the configured URLs plus those the cluster announces
// (INFO connect_urls), with per-server backoff and jitter; subscriptions are
// re-sent on the new connection; publishes made while disconnected wait in a
// bounded buffer; a server announcing lame-duck mode is left for another.
// Each subscription's queue is bounded (pending limits) and overflow is
// reported as ErrSlowConsumer rather than growing memory.
//
// # Goroutines
//
// Per connection to a server (a "sock"): a read loop that owns the parser,
// a writer that owns socket writes, and a keep-alive pinger. Publishers append
// to one outbound buffer under Conn.mu and wake the writer through a
// capacity-1 channel; the writer swaps the buffer for its spare and writes
// outside the lock. A reconnect goroutine runs while disconnected. Per
// asynchronous subscription, one goroutine runs the callback (or feeds the
// channel). Connection callbacks run in order on one event goroutine.
//
// # Locks
//
// Conn.mu, then Conn.subsMu, then Subscription.mu; respMux.mu is taken alone.
// No lock is held during I/O or while user code runs.
//
// It does not implement JetStream; that is built on top of it.
package client
