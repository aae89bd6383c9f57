package server_test

import (
	"testing"

	nsrv "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

func TestMsgTrace_RouteEgress(t *testing.T) {
	// Our routes do not carry traces on (route protocol 2, as nats-server
	// sees a server without tracing): the origin lists the route with
	// nats-server's "no support" errors, and a trace-only message does
	// not cross it.
	a := runClustered(t)
	b := runClustered(t, a)
	waitMesh(t, a, b)
	sb := connect(t, b)
	sub, _ := sb.SubscribeSync("routed")
	flush(t, sb)
	waitFor(t, "interest on A", func() bool { return remoteSubs(a, "routed") == 1 })
	pub := connect(t, a, nats.Name("pub"))
	dest, events := tracer(t, pub)
	for _, only := range []bool{false, true} {
		if err := pub.PublishMsg(tracedMsg("routed", dest, only)); err != nil {
			t.Fatal(err)
		}
		if err := pub.Publish("routed", []byte("plain")); err != nil {
			t.Fatal(err)
		}
		ev := nextTrace(t, events)
		eg := ev.Egresses()
		want := "Message delivered but remote does not support message tracing so no trace event generated from there"
		if only {
			want = "Not delivered because remote does not support message tracing"
		}
		if len(eg) != 1 || eg[0].Kind != nsrv.ROUTER || eg[0].Name != b.Name() || eg[0].Error != want || eg[0].Subscription != "" {
			t.Fatalf("only=%v: egresses %+v", only, eg)
		}
		// Route order: the traced message, if it crossed, comes first.
		if !only {
			if m := nextMsg(t, sub); string(m.Data) != "payload" {
				t.Fatalf("B got %q first", m.Data)
			}
		}
		if m := nextMsg(t, sub); string(m.Data) != "plain" {
			t.Fatalf("only=%v: B got %q, want the plain message", only, m.Data)
		}
	}
}
