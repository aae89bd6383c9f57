package streaming

import (
	"time"

	"github.com/natsctl/natsctl/internal/server"
)

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
	Type     string           `json:"type"`
	ID       string           `json:"id"`
	Time     time.Time        `json:"timestamp"`
	Server   string           `json:"server"`
	Client   server.Requester `json:"client"`
	Subject  string           `json:"subject"`
	Request  string           `json:"request,omitempty"`
	Response string           `json:"response"`
}

// auditAPI publishes the audit advisory of a served request.
func (e *Engine) auditAPI(r apiReq, out reply) {
	if !e.ic.HasInterest(auditSubject) {
		return
	}
	_ = e.ic.Publish(auditSubject, "", nil, mustJSON(apiAudit{
		Type: typeAPIAudit, ID: randomName() + randomName(), Time: time.Now().UTC(),
		Server: e.srv.Name(), Client: r.from, Subject: r.subject,
		Request: string(r.data), Response: string(out.data),
	}))
}
