// Package monitorapi holds the Go types of the monitoring HTTP JSON that
// nats-server serves (/varz, /connz, /subsz, /routez, /accountz, /healthz,
// /jsz) and the few natsctl extensions nats-server lacks (/subjz and the
// slow-consumer attribution on a closed connection).
//
// The types are the contract between the server that produces the JSON and
// the tools that read it (natsctl top, nats-top, exporters). Field names and
// JSON types are nats-server's, verified by tests that decode our encoding
// strictly into nats-server's own structs: a time is a time.Time (RFC 3339),
// a duration is integer nanoseconds (time.Duration), uptimes and idle times
// are strings as FormatUptime writes them, nested sections are objects.
// Only a subset of nats-server's fields is present; every field that is here
// has nats-server's type, so a decoder written for nats-server accepts it.
//
// Extensions are named with a natsctl_ prefix (or live on their own
// endpoint) so they can never collide with a field nats-server adds later,
// and they are omitted when empty so nats-server-only readers see nothing new.
//
// The package holds data and small pure helpers only: no I/O, no locks.
package monitorapi
