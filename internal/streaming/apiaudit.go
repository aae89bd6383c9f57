package streaming

import "github.com/natsctl/natsctl/internal/server"

// The JetStream API audit advisory (nats-server jetstream_events.go,
// JSAPIAudit): after each $JS.API request is answered, when someone
// listens on $JS.EVENT.ADVISORY.API (`nats events --js-advisory`, audit
// tools), the request, the response and the client that asked. Pull
// requests (CONSUMER.MSG.NEXT) and direct gets are not API calls here, as
// in nats-server.

const (
	auditSubject = advisoryPrefix + "API"
	typeAPIAudit = "io.nats.jetstream.advisory.v1.api_audit"
)

type apiAudit struct {
	advisoryEvent
	Server   string           `json:"server"`
	Client   server.Requester `json:"client"`
	Subject  string           `json:"subject"`
	Request  string           `json:"request,omitempty"`
	Response string           `json:"response"`
}

// auditAPI publishes the audit advisory of a served request. It asks
// for interest first: building the advisory copies request and response.
func (e *Engine) auditAPI(r apiReq, out reply) {
	if !e.ic.HasInterest(auditSubject) {
		return
	}
	e.advisory(auditSubject, apiAudit{
		advisoryEvent: newAdvisoryEvent(typeAPIAudit), Server: e.srv.Name(), Client: r.from,
		Subject: r.subject, Request: string(r.data), Response: string(out.data),
	})
}
