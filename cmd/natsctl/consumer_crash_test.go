package main

import (
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestServeBinary_DurableResumesAfterSIGKILL: messages whose double ack
// was confirmed are never delivered again to the durable after kill -9;
// every other message is, once: the new ones, and the unacknowledged ones
// when their ack wait (kept across the restart, as nats-server keeps it)
// runs out.
func TestServeBinary_DurableResumesAfterSIGKILL(t *testing.T) {
	dir := t.TempDir()
	p := startServe(t, "--store_dir", dir)
	nc, err := nats.Connect(p.url)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	ctx := ctxFor(t)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "W", Subjects: []string{"w.>"}}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 500; i++ {
		if _, err := js.Publish(ctx, "w.x", []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	c, err := js.CreateConsumer(ctx, "W", jetstream.ConsumerConfig{Durable: "D", AckPolicy: jetstream.AckExplicitPolicy, AckWait: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// Acknowledge 1..200 with confirmed double acks, out of order within
	// each batch, and leave 201..300 delivered but unacknowledged.
	b, err := c.Fetch(300, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []jetstream.Msg
	for m := range b.Messages() {
		msgs = append(msgs, m)
	}
	if len(msgs) != 300 {
		t.Fatalf("fetched %d", len(msgs))
	}
	for i := 199; i >= 0; i-- {
		if err := msgs[i].DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Ack 250 too: confirmed, so never again, although 201..249 are not.
	if err := msgs[249].DoubleAck(ctx); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.done

	p2 := startServe(t, "--store_dir", dir)
	nc2, err := nats.Connect(p2.url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc2.Close()
	js2, _ := jetstream.New(nc2)
	c2, err := js2.Consumer(ctx, "W", "D")
	if err != nil {
		t.Fatal(err)
	}
	got := map[uint64]bool{}
	deadline := time.Now().Add(20 * time.Second)
	for len(got) < 299 && time.Now().Before(deadline) {
		b, err = c2.Fetch(500, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range b.Messages() {
			md, _ := m.Metadata()
			seq := md.Sequence.Stream
			if seq <= 200 || seq == 250 || seq > 500 || got[seq] {
				t.Fatalf("after restart got seq %d (delivered %d times)", seq, md.NumDelivered)
			}
			got[seq] = true
			if err := m.DoubleAck(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(got) != 299 {
		t.Fatalf("after restart got %d of the 299 unacknowledged messages", len(got))
	}
}

// TestHeavyServeBinary_OrderedConsumerAcrossRestart reads 100,000
// messages with an ordered consumer while the server is killed and
// restarted (same port) in the middle: every message once, in order.
func TestHeavyServeBinary_OrderedConsumerAcrossRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy")
	}
	dir := t.TempDir()
	p := startServe(t, "--store_dir", dir)
	u, _ := url.Parse(p.url)
	nc, err := nats.Connect(p.url, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := ctxFor(t)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "O", Subjects: []string{"o.>"}}); err != nil {
		t.Fatal(err)
	}
	const total = 100_000
	for i := range total {
		if _, err := js.PublishAsync("o.x", []byte(strconv.Itoa(i)), jetstream.WithStallWait(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if i%5000 == 4999 {
			<-js.PublishAsyncComplete()
		}
	}
	<-js.PublishAsyncComplete()
	oc, err := js.OrderedConsumer(ctx, "O", jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	it, err := oc.Messages()
	if err != nil {
		t.Fatal(err)
	}
	defer it.Stop()
	restarted := false
	for i := range total {
		if i == total/2 && !restarted {
			restarted = true
			p.cmd.Process.Kill()
			<-p.done
			startServe(t, "--store_dir", dir, "-p", u.Port())
		}
		m, err := it.Next()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if string(m.Data()) != strconv.Itoa(i) {
			t.Fatalf("message %d: got %q", i, m.Data())
		}
	}
}
