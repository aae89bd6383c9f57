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
// accept loop, the per-connection ping timer and lame-duck mode are the other
// goroutines; all are counted in Server.wg.
//
// # Lock order
//
// Server.mu (connection table) -> Sublist.mu -> conn.mu. A goroutine never
// holds two conn.mu at once, and no I/O happens under any lock.
//
// Security (auth.go, perms.go, tls.go): a connection's permissions are an
// atomic pointer set by its read goroutine on CONNECT and read by publishers
// delivering to it; its allow_responses grants are guarded by its conn.mu.
package server
