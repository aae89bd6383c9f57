// Package jsclient is natsctl's JetStream client: the request/response
// types of the `$JS.API.>` JSON API (shared with the engine in
// internal/streaming, which speaks the same nats-server shapes), consumer
// create/info/list/delete, pull fetches with their status replies, acks, an
// ordered replay over an ephemeral pull consumer, and the key-value (ADR-8)
// and object store (ADR-20) conventions on top of streams.
//
// It is built on internal/client only, so commands, bench and tests can use
// it against natsctl's server and nats-server alike. It never imports cobra.
//
// Goroutines: none of its own except inside an Ordered consumer's
// subscription (owned by internal/client); every call takes a context and
// returns when it ends.
package jsclient
