package streaming

// Stream and consumer action advisories (nats-server jetstream_events.go,
// JSStreamActionAdvisory and JSConsumerActionAdvisory), which `nats events`
// and other monitors show:
//
//	$JS.EVENT.ADVISORY.STREAM.CREATED|UPDATED|DELETED.<stream>
//	$JS.EVENT.ADVISORY.CONSUMER.CREATED|DELETED.<stream>.<consumer>
//
// Published only when someone listens (advisory.go).

const (
	typeStreamAction   = "io.nats.jetstream.advisory.v1.stream_action"
	typeConsumerAction = "io.nats.jetstream.advisory.v1.consumer_action"
	advisoryPrefix     = "$JS.EVENT.ADVISORY."
)

type actionAdvisory struct {
	advisoryEvent
	Stream   string `json:"stream"`
	Consumer string `json:"consumer,omitempty"`
	Action   string `json:"action"` // create, modify, delete
}

// advisoryStream announces a stream created, updated or deleted; event is
// CREATED, UPDATED or DELETED.
func (e *Engine) advisoryStream(stream, event string) {
	e.advisory(advisoryPrefix+"STREAM."+event+"."+stream, actionAdvisory{
		advisoryEvent: newAdvisoryEvent(typeStreamAction), Stream: stream, Action: actionOf(event),
	})
}

// advisoryConsumer announces a consumer created or deleted.
func (e *Engine) advisoryConsumer(stream, consumer, event string) {
	e.advisory(advisoryPrefix+"CONSUMER."+event+"."+stream+"."+consumer, actionAdvisory{
		advisoryEvent: newAdvisoryEvent(typeConsumerAction), Stream: stream, Consumer: consumer, Action: actionOf(event),
	})
}

func actionOf(event string) string {
	switch event {
	case "CREATED":
		return "create"
	case "DELETED":
		return "delete"
	}
	return "modify"
}
