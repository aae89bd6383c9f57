package streaming

import (
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// fetchOne fetches a single message within wait, or fails.
func fetchOne(t *testing.T, c jetstream.Consumer, wait time.Duration) jetstream.Msg {
	t.Helper()
	b, err := c.Fetch(1, jetstream.FetchMaxWait(wait))
	if err != nil {
		t.Fatal(err)
	}
	for m := range b.Messages() {
		return m
	}
	t.Fatalf("no message within %v (err %v)", wait, b.Error())
	return nil
}

// fetchNone checks that nothing is delivered within wait.
func fetchNone(t *testing.T, c jetstream.Consumer, wait time.Duration) {
	t.Helper()
	b, err := c.Fetch(1, jetstream.FetchMaxWait(wait))
	if err != nil {
		t.Fatal(err)
	}
	for m := range b.Messages() {
		md, _ := m.Metadata()
		t.Fatalf("unexpected message seq %d delivered %d", md.Sequence.Stream, md.NumDelivered)
	}
}

func delivered(t *testing.T, m jetstream.Msg) (seq, n uint64) {
	t.Helper()
	md, err := m.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	return md.Sequence.Stream, md.NumDelivered
}

func ackSetup(t *testing.T, cfg jetstream.ConsumerConfig, msgs int) (jetstream.JetStream, jetstream.Consumer) {
	t.Helper()
	s, _ := runEngine(t, Config{})
	_, js := connectJS(t, s)
	mustCreate(t, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	publishAsyncN(t, js, "s.a", msgs)
	if cfg.Durable == "" {
		cfg.Durable = "D"
	}
	cfg.AckPolicy = jetstream.AckExplicitPolicy
	return js, mustConsumer(t, js, "S", cfg)
}

func TestAck_RedeliveryAfterAckWait(t *testing.T) {
	_, c := ackSetup(t, jetstream.ConsumerConfig{AckWait: 300 * time.Millisecond}, 1)
	m := fetchOne(t, c, time.Second)
	if seq, n := delivered(t, m); seq != 1 || n != 1 {
		t.Fatalf("first delivery seq %d n %d", seq, n)
	}
	m = fetchOne(t, c, 5*time.Second)
	if seq, n := delivered(t, m); seq != 1 || n != 2 {
		t.Fatalf("redelivery seq %d n %d, want 1 and 2", seq, n)
	}
	info, _ := c.Info(ctxT(t))
	if info.NumRedelivered != 1 || info.NumAckPending != 1 {
		t.Fatalf("info %+v", info)
	}
	if err := m.DoubleAck(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	fetchNone(t, c, 700*time.Millisecond)
}

func TestAck_MaxDeliverStopsRedelivery(t *testing.T) {
	js, c := ackSetup(t, jetstream.ConsumerConfig{AckWait: 200 * time.Millisecond, MaxDeliver: 2}, 1)
	_ = js
	for want := uint64(1); want <= 2; want++ {
		m := fetchOne(t, c, 5*time.Second)
		if _, n := delivered(t, m); n != want {
			t.Fatalf("delivery %d: NumDelivered %d", want, n)
		}
	}
	fetchNone(t, c, 800*time.Millisecond)
	info, _ := c.Info(ctxT(t))
	if info.NumAckPending != 0 || info.AckFloor.Stream != 1 {
		t.Fatalf("after max deliver: %+v", info)
	}
}

func TestAck_NakAndNakWithDelay(t *testing.T) {
	_, c := ackSetup(t, jetstream.ConsumerConfig{AckWait: 30 * time.Second}, 1)
	m := fetchOne(t, c, time.Second)
	if err := m.Nak(); err != nil {
		t.Fatal(err)
	}
	m = fetchOne(t, c, time.Second)
	if _, n := delivered(t, m); n != 2 {
		t.Fatalf("after NAK NumDelivered %d", n)
	}
	start := time.Now()
	if err := m.NakWithDelay(600 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	fetchNone(t, c, 300*time.Millisecond)
	m = fetchOne(t, c, 5*time.Second)
	if _, n := delivered(t, m); n != 3 {
		t.Fatalf("after delayed NAK NumDelivered %d", n)
	}
	if time.Since(start) < 500*time.Millisecond {
		t.Fatalf("delayed NAK redelivered after %v", time.Since(start))
	}
}

func TestAck_InProgressExtendsDeadline(t *testing.T) {
	_, c := ackSetup(t, jetstream.ConsumerConfig{AckWait: 500 * time.Millisecond}, 1)
	m := fetchOne(t, c, time.Second)
	// Keep it in progress for 3 ack waits: no redelivery meanwhile.
	for range 6 {
		if err := m.InProgress(); err != nil {
			t.Fatal(err)
		}
		fetchNone(t, c, 250*time.Millisecond)
	}
	if err := m.Ack(); err != nil {
		t.Fatal(err)
	}
	fetchNone(t, c, 700*time.Millisecond)
}

func TestAck_TermEndsRedelivery(t *testing.T) {
	_, c := ackSetup(t, jetstream.ConsumerConfig{AckWait: 200 * time.Millisecond}, 2)
	m := fetchOne(t, c, time.Second)
	if err := m.TermWithReason("bad payload"); err != nil {
		t.Fatal(err)
	}
	m2 := fetchOne(t, c, time.Second)
	if seq, _ := delivered(t, m2); seq != 2 {
		t.Fatalf("after TERM got seq %d", seq)
	}
	_ = m2.Ack()
	fetchNone(t, c, 600*time.Millisecond)
}

func TestAck_BackoffSchedule(t *testing.T) {
	_, c := ackSetup(t, jetstream.ConsumerConfig{BackOff: []time.Duration{100 * time.Millisecond, 800 * time.Millisecond}, MaxDeliver: 4}, 1)
	info := c.CachedInfo()
	if info.Config.AckWait != 100*time.Millisecond {
		t.Fatalf("ack wait %v, want the first backoff", info.Config.AckWait)
	}
	fetchOne(t, c, time.Second)
	m := fetchOne(t, c, 2*time.Second) // after 100ms
	if _, n := delivered(t, m); n != 2 {
		t.Fatalf("n %d", n)
	}
	fetchNone(t, c, 400*time.Millisecond) // second wait is 800ms
	m = fetchOne(t, c, 3*time.Second)
	if _, n := delivered(t, m); n != 3 {
		t.Fatalf("n %d", n)
	}
}

func TestAck_AckAllAndMaxAckPending(t *testing.T) {
	s, _ := runEngine(t, Config{})
	_, js := connectJS(t, s)
	mustCreate(t, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	publishAsyncN(t, js, "s.a", 10)
	c := mustConsumer(t, js, "S", jetstream.ConsumerConfig{Durable: "D", AckPolicy: jetstream.AckAllPolicy, MaxAckPending: 3})
	b, _ := c.Fetch(10, jetstream.FetchMaxWait(500*time.Millisecond))
	var msgs []jetstream.Msg
	for m := range b.Messages() {
		msgs = append(msgs, m)
	}
	if len(msgs) != 3 {
		t.Fatalf("max_ack_pending 3 let %d through", len(msgs))
	}
	if err := msgs[2].DoubleAck(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	info, _ := c.Info(ctxT(t))
	if info.NumAckPending != 0 || info.AckFloor.Stream != 3 {
		t.Fatalf("ack all: %+v", info)
	}
	m := fetchOne(t, c, time.Second)
	if string(m.Data()) != strconv.Itoa(3) {
		t.Fatalf("next %q", m.Data())
	}
}
