package streaming

import (
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestRetention_WorkQueueRulesAndRemoval(t *testing.T) {
	s, _ := runEngine(t, Config{})
	_, js := connectJS(t, s)
	ctx := ctxT(t)
	mustCreate(t, js, jetstream.StreamConfig{Name: "WQ", Subjects: []string{"wq.>"}, Retention: jetstream.WorkQueuePolicy})
	code := func(err error) jetstream.ErrorCode {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) {
			return apiErr.ErrorCode
		}
		t.Fatalf("want an API error, got %v", err)
		return 0
	}
	_, err := js.CreateConsumer(ctx, "WQ", jetstream.ConsumerConfig{Durable: "N", AckPolicy: jetstream.AckNonePolicy})
	if code(err) != 10098 {
		t.Fatalf("ack none on work queue: %v", err)
	}
	if _, err := js.CreateConsumer(ctx, "WQ", jetstream.ConsumerConfig{Durable: "A", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	_, err = js.CreateConsumer(ctx, "WQ", jetstream.ConsumerConfig{Durable: "B", AckPolicy: jetstream.AckExplicitPolicy})
	if code(err) != 10099 {
		t.Fatalf("second unfiltered: %v", err)
	}
	if err := js.DeleteConsumer(ctx, "WQ", "A"); err != nil {
		t.Fatal(err)
	}
	c := mustConsumer(t, js, "WQ", jetstream.ConsumerConfig{Durable: "F1", AckPolicy: jetstream.AckExplicitPolicy, FilterSubject: "wq.a.>"})
	_, err = js.CreateConsumer(ctx, "WQ", jetstream.ConsumerConfig{Durable: "F2", AckPolicy: jetstream.AckExplicitPolicy, FilterSubject: "wq.a.x"})
	if code(err) != 10100 {
		t.Fatalf("overlapping filtered: %v", err)
	}
	publishAsyncN(t, js, "wq.a.x", 5)
	b, _ := c.Fetch(5, jetstream.FetchMaxWait(2*time.Second))
	for m := range b.Messages() {
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for streamState(t, js, "WQ").Msgs != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("acknowledged work queue messages not removed: %+v", streamState(t, js, "WQ"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRetention_InterestRemovesWhenAllAcked(t *testing.T) {
	s, _ := runEngine(t, Config{})
	_, js := connectJS(t, s)
	ctx := ctxT(t)
	mustCreate(t, js, jetstream.StreamConfig{Name: "I", Subjects: []string{"i.>"}, Retention: jetstream.InterestPolicy})
	c1 := mustConsumer(t, js, "I", jetstream.ConsumerConfig{Durable: "C1", AckPolicy: jetstream.AckExplicitPolicy})
	c2 := mustConsumer(t, js, "I", jetstream.ConsumerConfig{Durable: "C2", AckPolicy: jetstream.AckExplicitPolicy})
	publishAsyncN(t, js, "i.x", 3)
	ackAll := func(c jetstream.Consumer) {
		b, _ := c.Fetch(3, jetstream.FetchMaxWait(2*time.Second))
		for m := range b.Messages() {
			if err := m.DoubleAck(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	ackAll(c1)
	if n := streamState(t, js, "I").Msgs; n != 3 {
		t.Fatalf("after one of two consumers acked: %d messages, want 3", n)
	}
	ackAll(c2)
	deadline := time.Now().Add(5 * time.Second)
	for streamState(t, js, "I").Msgs != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("messages acked by all not removed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPull_DeleteEndsWaitingRequests: deleting the consumer or its stream
// ends a waiting pull with 409 Consumer Deleted.
func TestPull_DeleteEndsWaitingRequests(t *testing.T) {
	for _, what := range []string{"consumer", "stream"} {
		t.Run(what, func(t *testing.T) {
			s, _ := runEngine(t, Config{})
			nc, js := connectJS(t, s)
			ctx := ctxT(t)
			mustCreate(t, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
			mustConsumer(t, js, "S", jetstream.ConsumerConfig{Durable: "D", AckPolicy: jetstream.AckExplicitPolicy})
			inbox := nats.NewInbox()
			sub, err := nc.SubscribeSync(inbox)
			if err != nil {
				t.Fatal(err)
			}
			if err := nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.S.D", inbox, []byte(`{"batch":1,"expires":30000000000}`)); err != nil {
				t.Fatal(err)
			}
			// The request is queued once num_waiting says so.
			deadline := time.Now().Add(5 * time.Second)
			for {
				c, err := js.Consumer(ctx, "S", "D")
				if err == nil && c.CachedInfo().NumWaiting == 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("request never waiting")
				}
				time.Sleep(5 * time.Millisecond)
			}
			if what == "consumer" {
				err = js.DeleteConsumer(ctx, "S", "D")
			} else {
				err = js.DeleteStream(ctx, "S")
			}
			if err != nil {
				t.Fatal(err)
			}
			m, err := sub.NextMsg(5 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if m.Header.Get("Status") != "409" || m.Header.Get("Description") != "Consumer Deleted" {
				t.Fatalf("status %q %q", m.Header.Get("Status"), m.Header.Get("Description"))
			}
		})
	}
}

func TestPull_RequestLimitsStatuses(t *testing.T) {
	s, _ := runEngine(t, Config{})
	nc, js := connectJS(t, s)
	mustCreate(t, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	mustConsumer(t, js, "S", jetstream.ConsumerConfig{Durable: "D", AckPolicy: jetstream.AckExplicitPolicy, MaxRequestBatch: 10, MaxWaiting: 1})
	publishAsyncN(t, js, "s.a", 3)
	cases := []struct{ body, status, desc string }{
		{`{"batch":2,"max_bytes":10}`, "409", "Message Size Exceeds MaxBytes"},
		{`{"batch":11}`, "409", "Exceeded MaxRequestBatch of 10"},
		{`{"batch":1,"expires":1000000000,"idle_heartbeat":800000000}`, "400", "Bad Request - heartbeat value too large"},
		{`{"batch":5,"no_wait":true}`, "404", "No Messages"}, // after the 3 messages
		{`{"batch":1,"expires":100000000}`, "408", "Request Timeout"},
	}
	for _, tc := range cases {
		inbox := nats.NewInbox()
		sub, _ := nc.SubscribeSync(inbox)
		if err := nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.S.D", inbox, []byte(tc.body)); err != nil {
			t.Fatal(err)
		}
		for {
			m, err := sub.NextMsg(5 * time.Second)
			if err != nil {
				t.Fatalf("%s: %v", tc.body, err)
			}
			if len(m.Data) > 0 {
				_ = m.Ack()
				continue // a message, before the status
			}
			if m.Header.Get("Status") != tc.status || m.Header.Get("Description") != tc.desc {
				t.Fatalf("%s: got %q %q, want %s %s", tc.body, m.Header.Get("Status"), m.Header.Get("Description"), tc.status, tc.desc)
			}
			if tc.status == "408" && m.Header.Get("Nats-Pending-Messages") != "1" {
				t.Fatalf("408 pending header %q", m.Header.Get("Nats-Pending-Messages"))
			}
			break
		}
		_ = sub.Unsubscribe()
	}
}

func TestJSDetails_Consumers(t *testing.T) {
	s, e := runEngine(t, Config{})
	_, js := connectJS(t, s)
	mustCreate(t, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	publishAsyncN(t, js, "s.a", 4)
	c := mustConsumer(t, js, "S", jetstream.ConsumerConfig{Durable: "D", AckPolicy: jetstream.AckExplicitPolicy})
	fetchOne(t, c, time.Second)
	d := e.JSDetails(true, false)
	if len(d) != 1 || len(d[0].Consumers) != 1 || d[0].State.Consumers != 1 {
		t.Fatalf("details %+v", d)
	}
	cd := d[0].Consumers[0]
	if cd.Name != "D" || cd.NumAckPending != 1 || cd.NumPending != 3 || cd.Config != nil {
		t.Fatalf("consumer detail %+v", cd)
	}
	if e.JSInfo().Consumers != 1 {
		t.Fatalf("jsz consumers %d", e.JSInfo().Consumers)
	}
	if d := e.JSDetails(true, true); d[0].Config == nil || d[0].Consumers[0].Config == nil {
		t.Fatal("config not included")
	}
}
