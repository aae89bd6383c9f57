package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// replies sends a core request on nc and collects every reply that arrives
// within the window after the first: one server answering is one reply.
func replies(t *testing.T, nc *nats.Conn, subj string, body []byte) []*nats.Msg {
	t.Helper()
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	nc.PublishRequest(subj, inbox, body)
	first, err := sub.NextMsg(10 * time.Second)
	if err != nil {
		t.Fatalf("%s: no reply: %v", subj, err)
	}
	out := []*nats.Msg{first}
	for {
		m, err := sub.NextMsg(300 * time.Millisecond) // a second server would answer by now
		if err != nil {
			return out
		}
		out = append(out, m)
	}
}

// Streams are not clustered yet: one server runs JetStream and the others
// reach its streams over routes. Created through A, a stream exists once,
// API requests made on B and C get one reply, a publish on C one ack.
func TestHeavyCluster_StreamOnOneServer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs natsctl serve processes")
	}
	js := startNode(t, "", "--jetstream")
	a := startNode(t, js.route) // JetStream off by default in a cluster
	b := startNode(t, a.route)
	c := startNode(t, b.route)
	waitMeshed(t, js, a, b, c)
	onA, onB, onC := natsConnect(t, a.url), natsConnect(t, b.url), natsConnect(t, c.url)

	jsA, err := jetstream.New(onA)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for { // the JetStream server's API interest reaches A within the deadline
		_, err = jsA.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}})
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("create stream through A: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	for name, nc := range map[string]*nats.Conn{"B": onB, "C": onC} {
		got := replies(t, nc, "$JS.API.STREAM.INFO.ORDERS", nil)
		if len(got) != 1 || !strings.Contains(string(got[0].Data), `"name":"ORDERS"`) {
			t.Fatalf("STREAM.INFO on %s: %d replies: %q", name, len(got), got[0].Data)
		}
		names := replies(t, nc, "$JS.API.STREAM.NAMES", nil)
		var r struct {
			Total   int      `json:"total"`
			Streams []string `json:"streams"`
		}
		json.Unmarshal(names[0].Data, &r)
		if len(names) != 1 || r.Total != 1 {
			t.Fatalf("STREAM.NAMES on %s: %d replies, %s: the stream must exist once", name, len(names), names[0].Data)
		}
	}
	acks := replies(t, onC, "orders.new", []byte("o1"))
	var ack struct {
		Stream string `json:"stream"`
		Seq    uint64 `json:"seq"`
	}
	json.Unmarshal(acks[0].Data, &ack)
	if len(acks) != 1 || ack.Stream != "ORDERS" || ack.Seq != 1 {
		t.Fatalf("publish on C: %d acks: %s", len(acks), acks[0].Data)
	}
	jsC, _ := jetstream.New(onC)
	if info, err := jsC.Stream(ctx, "ORDERS"); err != nil || info.CachedInfo().State.Msgs != 1 {
		t.Fatalf("stream seen from C: %v", err)
	}
}
