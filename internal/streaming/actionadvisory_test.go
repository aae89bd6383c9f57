package streaming

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestActionAdvisories: `nats events` showed no stream or consumer
// created/updated/deleted events from natsctl.
func TestActionAdvisories(t *testing.T) {
	bothServers(t, func(t *testing.T, js jetstream.JetStream) {
		ctx := ctxT(t)
		nc := js.Conn()
		sub, err := nc.SubscribeSync("$JS.EVENT.ADVISORY.>")
		if err != nil {
			t.Fatal(err)
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		cfg := jetstream.StreamConfig{Name: "A", Subjects: []string{"a"}}
		mustCreate(t, js, cfg)
		cfg.Description = "x"
		if _, err := js.UpdateStream(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		if _, err := js.CreateConsumer(ctx, "A", jetstream.ConsumerConfig{Durable: "C"}); err != nil {
			t.Fatal(err)
		}
		if err := js.DeleteConsumer(ctx, "A", "C"); err != nil {
			t.Fatal(err)
		}
		if err := js.DeleteStream(ctx, "A"); err != nil {
			t.Fatal(err)
		}
		want := []string{
			"STREAM.CREATED.A stream_action create",
			"STREAM.UPDATED.A stream_action modify",
			"CONSUMER.CREATED.A.C consumer_action create",
			"CONSUMER.DELETED.A.C consumer_action delete",
			"STREAM.DELETED.A stream_action delete",
		}
		var got []string
		for len(got) < len(want) {
			m, err := sub.NextMsg(10 * time.Second)
			if err != nil {
				t.Fatalf("after %q: %v", got, err)
			}
			subj := strings.TrimPrefix(m.Subject, "$JS.EVENT.ADVISORY.")
			if strings.HasPrefix(subj, "API") {
				continue // nats-server's API audit
			}
			var a struct {
				Type, ID, Stream, Consumer, Action string
				Time                               time.Time `json:"timestamp"`
			}
			if err := json.Unmarshal(m.Data, &a); err != nil || a.ID == "" || a.Time.IsZero() || a.Stream != "A" {
				t.Fatalf("%s: %s (%v)", m.Subject, m.Data, err)
			}
			got = append(got, subj+" "+strings.TrimPrefix(a.Type, "io.nats.jetstream.advisory.v1.")+" "+a.Action)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("advisories:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}
