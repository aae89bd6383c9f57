package streaming

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natsctl/natsctl/internal/natsservertest"
)

// TestAPIAudit: a listener on $JS.EVENT.ADVISORY.API gets, for each API
// call, an advisory that decodes strictly into nats-server's JSAPIAudit,
// naming the subject, the request, the response and the client that
// asked; the same expectations hold on nats-server.
func TestAPIAudit(t *testing.T) {
	for _, tc := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"natsctl", func(t *testing.T) string { s, _ := runEngine(t, Config{}); return s.ClientURL() }},
		{"nats-server", func(t *testing.T) string { return natsservertest.Start(t, "-js", "-sd", t.TempDir()).ClientURL }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := tc.url(t)
			listener, err := nats.Connect(url)
			if err != nil {
				t.Fatal(err)
			}
			defer listener.Close()
			audits, err := listener.SubscribeSync("$JS.EVENT.ADVISORY.API")
			if err != nil {
				t.Fatal(err)
			}
			if err := listener.Flush(); err != nil {
				t.Fatal(err)
			}
			nc, err := nats.Connect(url, nats.Name("audited"))
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			cid, _ := nc.GetClientID()
			js, _ := jetstream.New(nc)
			if _, err := js.CreateStream(ctxT(t), jetstream.StreamConfig{Name: "AUD", Subjects: []string{"aud"}}); err != nil {
				t.Fatal(err)
			}
			var create *natsserver.JSAPIAudit
			deadline := time.Now().Add(10 * time.Second)
			for create == nil {
				m, err := audits.NextMsg(time.Until(deadline))
				if err != nil {
					t.Fatalf("no audit advisory for STREAM.CREATE: %v", err)
				}
				var a natsserver.JSAPIAudit
				dec := json.NewDecoder(bytes.NewReader(m.Data))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&a); err != nil {
					t.Fatalf("advisory %s: %v", m.Data, err)
				}
				if a.Subject == "$JS.API.STREAM.CREATE.AUD" {
					create = &a
				}
			}
			a := create
			if a.Type != "io.nats.jetstream.advisory.v1.api_audit" || a.ID == "" || a.Time.IsZero() || a.Server == "" {
				t.Errorf("event fields %+v", a.TypedEvent)
			}
			if !strings.Contains(a.Request, `"name":"AUD"`) || !strings.Contains(a.Response, `"type":"io.nats.jetstream.api.v1.stream_create_response"`) {
				t.Errorf("request %s\nresponse %s", a.Request, a.Response)
			}
			if c := a.Client; c == nil || c.Name != "audited" || c.ID != cid || c.Account != "$G" || c.Lang != "go" || c.Host != "127.0.0.1" {
				t.Errorf("client %+v, want audited, cid %d, $G", c, cid)
			}
		})
	}
}
