package streaming

import (
	"encoding/json"
	"net/http"
	"testing"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

// TestJsz_ConsumerDetails decodes /jsz?consumers=true into nats-server's own
// type and finds the stream and consumer made through nats.go.
func TestJsz_ConsumerDetails(t *testing.T) {
	e := New(Config{StoreDir: t.TempDir()})
	s := servertest.Run(t, func(o *server.Options) { o.Engine = e }, servertest.Monitoring)
	_, js := connectJS(t, s)
	ctx := ctxT(t)
	mustCreate(t, js, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}})
	if _, err := js.Publish(ctx, "orders.1", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateOrUpdateConsumer(ctx, "ORDERS", jetstream.ConsumerConfig{Durable: "ship", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(s.MonitorURL() + "/jsz?consumers=true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info natsserver.JSInfo
	dec := json.NewDecoder(resp.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&info); err != nil {
		t.Fatalf("decode /jsz into nats-server's JSInfo: %v", err)
	}
	if info.Streams != 1 || info.Consumers != 1 || len(info.AccountDetails) != 1 {
		t.Fatalf("jsz: streams %d consumers %d accounts %d", info.Streams, info.Consumers, len(info.AccountDetails))
	}
	sd := info.AccountDetails[0].Streams
	if len(sd) != 1 || sd[0].Name != "ORDERS" || sd[0].State.Msgs != 1 || len(sd[0].Consumer) != 1 || sd[0].Consumer[0].Name != "ship" {
		t.Fatalf("stream detail: %+v", sd)
	}
	if sd[0].Consumer[0].NumPending != 1 {
		t.Fatalf("consumer num_pending %d, want 1", sd[0].Consumer[0].NumPending)
	}
}
