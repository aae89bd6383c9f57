package streaming

import (
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestConsumer_DurableResumesAfterClientRestart: a worker acks the first
// three of five fetched messages and goes away; a new client of the same
// durable gets exactly the first unacknowledged message next (redelivered
// once its ack wait ends), then the rest in order, and never an acked one.
func TestConsumer_DurableResumesAfterClientRestart(t *testing.T) {
	s, _ := runEngine(t, Config{})
	_, js := connectJS(t, s)
	mustCreate(t, js, jetstream.StreamConfig{Name: "JOBS", Subjects: []string{"jobs"}})
	publishAsyncN(t, js, "jobs", 10)
	cfg := jetstream.ConsumerConfig{Durable: "worker", AckPolicy: jetstream.AckExplicitPolicy, AckWait: 300 * time.Millisecond}
	cons := mustConsumer(t, js, "JOBS", cfg)

	batch, err := cons.Fetch(5, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for m := range batch.Messages() {
		if n++; n <= 3 {
			if err := m.DoubleAck(ctxT(t)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n != 5 {
		t.Fatalf("first client got %d messages", n)
	}

	// The first client is gone (messages 4 and 5 unacknowledged); a new one
	// binds to the same durable.
	_, js2 := connectJS(t, s)
	cons2, err := js2.Consumer(ctxT(t), "JOBS", "worker")
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for len(got) < 7 {
		b, err := cons2.Fetch(7-len(got), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		fetched := 0
		for m := range b.Messages() {
			v, _ := strconv.Atoi(string(m.Data()))
			got = append(got, v)
			fetched++
			if err := m.DoubleAck(ctxT(t)); err != nil {
				t.Fatal(err)
			}
		}
		if fetched == 0 {
			t.Fatalf("nothing more after %v", got)
		}
	}
	// Messages 0..2 were acked. Unacked 3 and 4 come back after the ack
	// wait, but 5.. are deliverable at once: what must hold is that every
	// unacked message arrives, none acked does, and 3 comes before 4.
	seen := map[int]bool{}
	pos := map[int]int{}
	for i, v := range got {
		if v < 3 {
			t.Fatalf("acked message %d delivered again: %v", v, got)
		}
		if seen[v] {
			t.Fatalf("message %d delivered twice: %v", v, got)
		}
		seen[v], pos[v] = true, i
	}
	for v := 3; v < 10; v++ {
		if !seen[v] {
			t.Fatalf("message %d never delivered: %v", v, got)
		}
	}
	if pos[3] > pos[4] {
		t.Fatalf("redelivery out of order: %v", got)
	}
	info, err := cons2.Info(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.NumAckPending != 0 || info.NumPending != 0 || info.AckFloor.Stream != 10 {
		t.Fatalf("after resuming: ack pending %d, pending %d, ack floor %d", info.NumAckPending, info.NumPending, info.AckFloor.Stream)
	}
}

// TestConsumer_DeleteThenRecreateSameName: a durable deleted and at once
// created again under the same name gets a working state directory every
// time (the old one is gone before the delete is answered).
func TestConsumer_DeleteThenRecreateSameName(t *testing.T) {
	s, _ := runEngine(t, Config{})
	_, js := connectJS(t, s)
	mustCreate(t, js, jetstream.StreamConfig{Name: "R", Subjects: []string{"r"}})
	publishAsyncN(t, js, "r", 5)
	cfg := jetstream.ConsumerConfig{Durable: "again", AckPolicy: jetstream.AckExplicitPolicy}
	for i := 0; i < 30; i++ {
		c := mustConsumer(t, js, "R", cfg)
		m, err := c.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatalf("round %d: next: %v", i, err)
		}
		if err := m.DoubleAck(ctxT(t)); err != nil {
			t.Fatalf("round %d: ack: %v", i, err)
		}
		if err := js.DeleteConsumer(ctxT(t), "R", "again"); err != nil {
			t.Fatalf("round %d: delete: %v", i, err)
		}
	}
}
