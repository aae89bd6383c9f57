package streaming

import "time"

// Advisories ($JS.EVENT.ADVISORY.>: stream and consumer actions,
// deliveries, pauses, the API audit) are published in the engine's
// account only when someone listens, each starting with nats-server's
// TypedEvent envelope.

// advisoryEvent is the envelope: type, a unique id and the time.
type advisoryEvent struct {
	Type string    `json:"type"`
	ID   string    `json:"id"`
	Time time.Time `json:"timestamp"`
}

func newAdvisoryEvent(typ string) advisoryEvent {
	return advisoryEvent{Type: typ, ID: randomName() + randomName(), Time: time.Now().UTC()}
}

// advisory publishes v on subject when someone listens.
func (e *Engine) advisory(subject string, v any) {
	if !e.ic.HasInterest(subject) {
		return
	}
	_ = e.ic.Publish(subject, "", nil, mustJSON(v))
}
