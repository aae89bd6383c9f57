package streaming

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestDeliverPolicies(t *testing.T) {
	s, _ := runEngine(t, Config{})
	_, js := connectJS(t, s)
	mustCreate(t, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	publishAsyncN(t, js, "s.a", 600)
	si, _ := js.Stream(ctxT(t), "S")
	var sm *jetstream.RawStreamMsg
	sm, err := si.GetMsg(ctxT(t), 300)
	if err != nil {
		t.Fatal(err)
	}
	mid := sm.Time
	// The first message stored strictly after mid: messages published in
	// one batch may share a timestamp, so ask the stream.
	wantAfter := uint64(300)
	for seq := uint64(300); seq > 1; seq-- {
		m, _ := si.GetMsg(ctxT(t), seq-1)
		if m.Time.Before(mid) {
			break
		}
		wantAfter = seq - 1
	}
	publishAsyncN(t, js, "s.b", 1)
	publishAsyncN(t, js, "s.c", 1)
	cases := []struct {
		name    string
		cfg     jetstream.ConsumerConfig
		first   uint64
		pending uint64
	}{
		{"all", jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}, 1, 602},
		{"last", jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverLastPolicy}, 602, 1},
		{"last filtered", jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverLastPolicy, FilterSubject: "s.a"}, 600, 1},
		{"start seq 500", jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: 500}, 500, 103},
		{"start time", jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &mid}, wantAfter, 602 - wantAfter + 1},
		{"last per subject", jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverLastPerSubjectPolicy}, 600, 3},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Durable = "C" + strconv.Itoa(i)
			tc.cfg.AckPolicy = jetstream.AckExplicitPolicy
			c := mustConsumer(t, js, "S", tc.cfg)
			if got := c.CachedInfo().NumPending; got != tc.pending {
				t.Fatalf("num_pending %d, want %d", got, tc.pending)
			}
			m := fetchOne(t, c, 2*time.Second)
			if seq, _ := delivered(t, m); seq != tc.first {
				t.Fatalf("first seq %d, want %d", seq, tc.first)
			}
		})
	}
	// New: only what comes after.
	c := mustConsumer(t, js, "S", jetstream.ConsumerConfig{Durable: "NEW", AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverNewPolicy})
	if c.CachedInfo().NumPending != 0 {
		t.Fatalf("new: pending %d", c.CachedInfo().NumPending)
	}
	publishAsyncN(t, js, "s.d", 1)
	m := fetchOne(t, c, 2*time.Second)
	if seq, _ := delivered(t, m); seq != 603 {
		t.Fatalf("new: first seq %d", seq)
	}
}

func TestOrderedConsumer(t *testing.T) {
	s, _ := runEngine(t, Config{})
	_, js := connectJS(t, s)
	mustCreate(t, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	const total = 3000
	publishAsyncN(t, js, "s.a", total)
	oc, err := js.OrderedConsumer(ctxT(t), "S", jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	it, err := oc.Messages()
	if err != nil {
		t.Fatal(err)
	}
	defer it.Stop()
	for i := range total {
		m, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Data()) != strconv.Itoa(i) {
			t.Fatalf("message %d: %q", i, m.Data())
		}
	}
}

// TestPush_QueueGroupAndHeartbeats runs a durable push consumer shared by
// a queue group (legacy nats.go API, as KV watch uses push consumers).
func TestPush_QueueGroup(t *testing.T) {
	s, _ := runEngine(t, Config{})
	nc, js := connectJS(t, s)
	mustCreate(t, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	const total = 2000
	ljs, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	per := map[int]int{}
	done := make(chan struct{})
	for w := range 3 {
		_, err := ljs.QueueSubscribe("s.a", "workers", func(m *nats.Msg) {
			_ = m.Ack()
			mu.Lock()
			defer mu.Unlock()
			seen[string(m.Data)]++
			per[w]++
			if len(seen) == total {
				close(done)
			}
		}, nats.Durable("WQ"), nats.ManualAck(), nats.BindStream("S"), nats.DeliverAll())
		if err != nil {
			t.Fatalf("queue subscribe: %v", err)
		}
	}
	publishAsyncN(t, js, "s.a", total)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		mu.Lock()
		t.Fatalf("got %d of %d", len(seen), total)
	}
	mu.Lock()
	defer mu.Unlock()
	for k, v := range seen {
		if v != 1 {
			t.Fatalf("message %s delivered %d times", k, v)
		}
	}
	if len(per) < 2 {
		t.Fatalf("one member got everything: %v", per)
	}
}

func TestPush_FlowControlAndHeartbeats(t *testing.T) {
	old := fcWindow
	fcWindow = 16 << 10
	t.Cleanup(func() { fcWindow = old })
	s, _ := runEngine(t, Config{})
	nc, js := connectJS(t, s)
	mustCreate(t, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	const total = 2000
	publishAsyncN(t, js, "s.a", total)
	ljs, _ := nc.JetStream()
	got := make(chan *nats.Msg, total)
	sub, err := ljs.Subscribe("s.a", func(m *nats.Msg) { got <- m },
		nats.OrderedConsumer(), nats.BindStream("S"), nats.IdleHeartbeat(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	for i := range total {
		select {
		case m := <-got:
			if string(m.Data) != strconv.Itoa(i) {
				t.Fatalf("message %d: %q", i, m.Data)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("stalled at %d (flow control not answered?)", i)
		}
	}
}

func TestKVWatch(t *testing.T) {
	s, _ := runEngine(t, Config{})
	_, js := connectJS(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "B", History: 3})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := kv.Put(ctx, fmt.Sprintf("k%d", i%3), []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	w, err := kv.WatchAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	var initial []string
	for e := range w.Updates() {
		if e == nil {
			break
		}
		initial = append(initial, e.Key()+"="+string(e.Value()))
	}
	if fmt.Sprint(initial) != "[k2=2 k0=3 k1=4]" {
		t.Fatalf("initial values %v", initial)
	}
	if _, err := kv.Put(ctx, "k9", []byte("x")); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-w.Updates():
		if e.Key() != "k9" {
			t.Fatalf("update %s", e.Key())
		}
	case <-ctx.Done():
		t.Fatal("no update")
	}
	keys, err := kv.Keys(ctx)
	if err != nil || len(keys) != 4 {
		t.Fatalf("keys %v %v", keys, err)
	}
	h, err := kv.History(ctx, "k0")
	if err != nil || len(h) != 2 {
		t.Fatalf("history %d %v", len(h), err)
	}
}

// TestPush_DeliverGroupMemberLeaves: when a member of a deliver group goes
// away holding unacknowledged messages, the others get them at once, not
// after ack_wait (a NATS Streaming behaviour).
func TestPush_DeliverGroupMemberLeaves(t *testing.T) {
	s, _ := runEngine(t, Config{})
	_, js := connectJS(t, s)
	mustCreate(t, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	mustConsumer(t, js, "S", jetstream.ConsumerConfig{
		Durable: "G", AckPolicy: jetstream.AckExplicitPolicy, AckWait: time.Minute,
		DeliverSubject: "deliver.g", DeliverGroup: "grp",
	})
	leaver, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan *nats.Msg, 100)
	if _, err := leaver.QueueSubscribe("deliver.g", "grp", func(m *nats.Msg) { held <- m }); err != nil {
		t.Fatal(err)
	}
	if err := leaver.Flush(); err != nil {
		t.Fatal(err)
	}
	publishAsyncN(t, js, "s.a", 5)
	for range 5 {
		select {
		case <-held:
		case <-time.After(5 * time.Second):
			t.Fatal("leaver got nothing")
		}
	}
	stayer, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer stayer.Close()
	got := make(chan *nats.Msg, 100)
	if _, err := stayer.QueueSubscribe("deliver.g", "grp", func(m *nats.Msg) { got <- m; _ = m.Ack() }); err != nil {
		t.Fatal(err)
	}
	if err := stayer.Flush(); err != nil {
		t.Fatal(err)
	}
	leaver.Close()
	seen := map[string]bool{}
	deadline := time.After(10 * time.Second) // far below the 1 min ack_wait
	for len(seen) < 5 {
		select {
		case m := <-got:
			seen[string(m.Data)] = true
		case <-deadline:
			t.Fatalf("stayer got %d of 5 held messages", len(seen))
		}
	}
}
