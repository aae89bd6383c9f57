// Package streaming is natsctl's stream engine: persistent streams served
// through the JetStream JSON API ($JS.API.>) so that the official clients
// (nats.go jetstream, nats.js, natscli) work unchanged.
//
// # Place in the server
//
// The engine is a client of the core (DESIGN.md): it implements
// server.Engine and attaches as an in-process connection. It subscribes to
// the API subjects, to each stream's subjects and (with allow_direct) to
// the stream's DIRECT.GET subjects, and answers by publishing to reply
// subjects. The server knows only that an engine is running (INFO then
// says jetstream: true and version JetStreamVersion).
//
// # Goroutines
//
//   - Subscription handlers run on the publisher's goroutine: they copy the
//     message into a bounded queue and return (publish.go explains what a
//     full queue does).
//   - One goroutine per stream stores publishes in batches: Append each,
//     Flush once (group commit), then publish the acks. It also owns the
//     duplicate window and the last Nats-Msg-Id.
//   - One API goroutine serves every $JS.API request in arrival order, so
//     creations, updates, deletions and their checks never race. Direct
//     gets (read-only) are the exception: they are served at once on the
//     requester's goroutine, so concurrent readers run in parallel.
//
// Lock order: Engine.mu (the stream table) -> stream.subMu -> the server's
// locks (through InternalClient). The global engine's accountEngines.opMu
// (accounts.go) is held while an account's engine starts or stops, and is
// taken before that engine's locks; accountEngines.mu is taken alone. The stores have their own locks and are
// safe for concurrent use.
//
// # On disk
//
//	<store_dir>/LOCK                   flock: one server per directory
//	<store_dir>/streams/<name>/meta.json  config and creation time
//	<store_dir>/streams/<name>/msgs/      the file store's segments
//
// Memory streams keep their meta.json too: they come back empty after a
// restart, as on nats-server.
//
// # Snapshots
//
// snapshot.go and restore.go serve $JS.API.STREAM.SNAPSHOT and RESTORE
// with nats-server's chunked, acknowledged protocol, in nats-server
// 2.15's portable archive format (package jsbackup). Each transfer runs on its own goroutine,
// counted in the engine's WaitGroup and ended by Shutdown; a restore is
// written to a staging directory and turned into a stream on the API
// goroutine.
//
// # Not here yet
//
// Sources, mirrors, subject transforms, republish, compression,
// per-message TTL, clustering. Consumers are described in consumer.go
// (state machine and goroutines), pull.go, push.go, ack.go and
// consumerstate.go (durable state on disk); docs/consumers.md is the
// user-facing summary.
package streaming
