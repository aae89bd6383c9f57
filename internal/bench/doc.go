// Package bench is the engine behind `natsctl bench`: it runs a scenario
// (publishers, subscribers, requesters, responders) against any NATS server,
// measures throughput per client and in aggregate, latency in an HDR
// histogram, and lost, duplicated and out-of-order messages, and renders the
// result as a table, CSV or JSON.
//
// # Scenarios
//
// A Scenario is one mode (pub, sub, pubsub, fanout, queue, reqrep, ...). Modes
// register themselves by name (Register); the streaming modes (js pub, js
// get, js consume, js fetch, js ordered, kv put, kv get: js*.go, kv.go) are
// Scenario types of their own, configured by Config.JS, that count
// acknowledged or received messages per client and time round trips where
// there are some. Every scenario receives an *Env
// holding the configuration, a way to connect, the shared progress counter
// and the clock, and returns a *Result.
//
// # Payloads
//
// Payloads are random by default (zeros compress and flatter a server). When
// a payload has room (16 bytes or more) its first 16 bytes carry a stamp:
// warm-up flag, publisher index and sequence, and the send time. Receivers use
// it for latency and for loss, duplicate and order accounting (stamp.go).
// Unpaced runs stamp the send time on one message in latencySample.
//
// # Goroutines
//
// One goroutine per publisher or requester; subscribers run in the client's
// subscription goroutines and keep their counters to themselves until the
// run ends (only the progress counter is shared, through an atomic). The
// runner goroutine waits for completion, samples the server's monitoring
// endpoint and draws progress. No locks are held across I/O.
//
// It does not start servers; Compare (compare.go) runs scenarios as child
// processes against servers it starts or is given.
package bench
