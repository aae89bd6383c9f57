package streaming

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// publishN publishes n messages "0".."n-1" to subject through JetStream.
func publishAsyncN(t testing.TB, js jetstream.JetStream, subject string, n int) {
	t.Helper()
	ctx := ctxT(t)
	for i := range n {
		if _, err := js.PublishAsync(subject, []byte(strconv.Itoa(i)), jetstream.WithStallWait(time.Minute)); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
		if i%1000 == 999 {
			select {
			case <-js.PublishAsyncComplete():
			case <-ctx.Done():
				t.Fatal("publish acks timed out")
			}
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		t.Fatal("publish acks timed out")
	}
}

func mustConsumer(t testing.TB, js jetstream.JetStream, stream string, cfg jetstream.ConsumerConfig) jetstream.Consumer {
	t.Helper()
	c, err := js.CreateOrUpdateConsumer(ctxT(t), stream, cfg)
	if err != nil {
		t.Fatalf("create consumer: %v", err)
	}
	return c
}

func TestConsumer_FetchAckAndInfo(t *testing.T) {
	s, _ := runEngine(t, Config{})
	_, js := connectJS(t, s)
	mustCreate(t, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	publishAsyncN(t, js, "s.a", 10)
	c := mustConsumer(t, js, "S", jetstream.ConsumerConfig{Durable: "D", AckPolicy: jetstream.AckExplicitPolicy})
	info := c.CachedInfo()
	if info.NumPending != 10 || info.Config.AckWait != 30*time.Second || info.Config.MaxAckPending != 1000 || info.Config.MaxWaiting != 512 {
		t.Fatalf("create info: pending %d cfg %+v", info.NumPending, info.Config)
	}
	batch, err := c.Fetch(4, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for m := range batch.Messages() {
		md, err := m.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		if md.NumDelivered != 1 || md.Sequence.Stream != uint64(len(got)+1) || md.Sequence.Consumer != uint64(len(got)+1) {
			t.Fatalf("metadata %+v", md)
		}
		if md.NumPending != uint64(10-len(got)-1) {
			t.Fatalf("pending in ack subject %d, want %d", md.NumPending, 10-len(got)-1)
		}
		got = append(got, string(m.Data()))
		if err := m.DoubleAck(ctxT(t)); err != nil {
			t.Fatalf("double ack: %v", err)
		}
	}
	if batch.Error() != nil || fmt.Sprint(got) != "[0 1 2 3]" {
		t.Fatalf("fetch got %v err %v", got, batch.Error())
	}
	info, err = c.Info(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.NumPending != 6 || info.NumAckPending != 0 || info.AckFloor.Stream != 4 || info.AckFloor.Consumer != 4 || info.Delivered.Stream != 4 {
		t.Fatalf("info after acks: %+v", info)
	}
	// Unacked fetch shows in num_ack_pending.
	batch, _ = c.Fetch(2, jetstream.FetchMaxWait(2*time.Second))
	n := 0
	for range batch.Messages() {
		n++
	}
	info, _ = c.Info(ctxT(t))
	if n != 2 || info.NumAckPending != 2 || info.NumPending != 4 || info.AckFloor.Stream != 4 {
		t.Fatalf("after unacked fetch: n %d info %+v", n, info)
	}
}

func TestConsumer_FetchNoWait404(t *testing.T) {
	s, _ := runEngine(t, Config{})
	_, js := connectJS(t, s)
	mustCreate(t, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	c := mustConsumer(t, js, "S", jetstream.ConsumerConfig{Durable: "D", AckPolicy: jetstream.AckExplicitPolicy})
	batch, err := c.FetchNoWait(10)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range batch.Messages() {
		n++
	}
	if n != 0 || batch.Error() != nil {
		t.Fatalf("empty no-wait fetch: %d msgs, err %v", n, batch.Error())
	}
	publishAsyncN(t, js, "s.a", 3)
	batch, _ = c.FetchNoWait(10)
	for m := range batch.Messages() {
		n++
		_ = m.Ack()
	}
	if n != 3 || batch.Error() != nil {
		t.Fatalf("no-wait fetch: %d msgs, err %v", n, batch.Error())
	}
}

func TestConsumer_ConsumeWithHeartbeats(t *testing.T) {
	s, _ := runEngine(t, Config{})
	_, js := connectJS(t, s)
	mustCreate(t, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	c := mustConsumer(t, js, "S", jetstream.ConsumerConfig{Durable: "D", AckPolicy: jetstream.AckExplicitPolicy})
	const total = 5000
	got := make(chan uint64, total)
	errs := make(chan error, 10)
	cc, err := c.Consume(func(m jetstream.Msg) {
		md, _ := m.Metadata()
		_ = m.Ack()
		got <- md.Sequence.Stream
	}, jetstream.PullMaxMessages(300), jetstream.PullHeartbeat(500*time.Millisecond),
		jetstream.PullExpiry(time.Second),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) { errs <- err }))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Stop()
	publishAsyncN(t, js, "s.x", total)
	deadline := time.After(20 * time.Second)
	for i := uint64(1); i <= total; i++ {
		select {
		case seq := <-got:
			if seq != i {
				t.Fatalf("got seq %d, want %d", seq, i)
			}
		case err := <-errs:
			t.Fatalf("consume error: %v", err)
		case <-deadline:
			t.Fatalf("timed out at %d", i)
		}
	}
	// Idle for several heartbeat periods (and request expiries): no
	// missed-heartbeat error may surface.
	idle := time.After(2500 * time.Millisecond)
	select {
	case err := <-errs:
		t.Fatalf("error while idle: %v", err)
	case <-idle:
	}
	info, _ := c.Info(ctxT(t))
	if info.AckFloor.Stream != total || info.NumAckPending != 0 {
		t.Fatalf("info: %+v", info)
	}
}

func TestConsumer_MessagesIterator(t *testing.T) {
	s, _ := runEngine(t, Config{})
	_, js := connectJS(t, s)
	mustCreate(t, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	publishAsyncN(t, js, "s.a", 50)
	c := mustConsumer(t, js, "S", jetstream.ConsumerConfig{Durable: "D", AckPolicy: jetstream.AckExplicitPolicy})
	it, err := c.Messages(jetstream.PullMaxMessages(20))
	if err != nil {
		t.Fatal(err)
	}
	defer it.Stop()
	for i := range 50 {
		m, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Data()) != strconv.Itoa(i) {
			t.Fatalf("message %d: %q", i, m.Data())
		}
		_ = m.Ack()
	}
}

func TestConsumer_CreateAPIErrors(t *testing.T) {
	s, _ := runEngine(t, Config{})
	nc, js := connectJS(t, s)
	ctx := ctxT(t)
	mustCreate(t, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	cfg := jetstream.ConsumerConfig{Durable: "D", AckPolicy: jetstream.AckExplicitPolicy, FilterSubject: "s.a"}
	if _, err := js.CreateConsumer(ctx, "S", cfg); err != nil {
		t.Fatal(err)
	}
	// Identical create: idempotent.
	if _, err := js.CreateConsumer(ctx, "S", cfg); err != nil {
		t.Fatalf("identical create: %v", err)
	}
	other := cfg
	other.Description = "changed"
	if _, err := js.CreateConsumer(ctx, "S", other); !errors.Is(err, jetstream.ErrConsumerExists) {
		t.Fatalf("create with other config: %v", err)
	}
	if _, err := js.UpdateConsumer(ctx, "S", jetstream.ConsumerConfig{Durable: "NOPE", AckPolicy: jetstream.AckExplicitPolicy}); !errors.Is(err, jetstream.ErrConsumerDoesNotExist) {
		t.Fatalf("update missing: %v", err)
	}
	if c, err := js.UpdateConsumer(ctx, "S", other); err != nil || c.CachedInfo().Config.Description != "changed" {
		t.Fatalf("update: %v", err)
	}
	if _, err := js.Consumer(ctx, "S", "NOPE"); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Fatalf("info missing: %v", err)
	}
	// Multiple filters go through the form without a filter token.
	if _, err := js.CreateConsumer(ctx, "S", jetstream.ConsumerConfig{Durable: "M", AckPolicy: jetstream.AckExplicitPolicy, FilterSubjects: []string{"s.b", "s.c"}}); err != nil {
		t.Fatalf("filter_subjects: %v", err)
	}
	// Unimplemented fields are refused by name.
	_, err := js.CreateConsumer(ctx, "S", jetstream.ConsumerConfig{Durable: "P", AckPolicy: jetstream.AckExplicitPolicy, SampleFrequency: "50%"})
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != 10012 {
		t.Fatalf("sample_freq: %v", err)
	}
	// natscli sends pause_until as Go's zero time: not a pause
	// (consumer_pause_test.go has real pauses).
	req := `{"stream_name":"S","config":{"durable_name":"Z","ack_policy":"explicit","pause_until":"0001-01-01T00:00:00Z"}}`
	resp, err := nc.Request("$JS.API.CONSUMER.CREATE.S.Z", []byte(req), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(resp.Data), `"error"`) || strings.Contains(string(resp.Data), `"paused"`) || strings.Contains(string(resp.Data), `pause_until`) {
		t.Fatalf("zero pause_until: %s", resp.Data)
	}
	if err := js.DeleteConsumer(ctx, "S", "Z"); err != nil {
		t.Fatal(err)
	}
	// Names and list, paged by the client.
	stream, err := js.Stream(ctx, "S")
	if err != nil {
		t.Fatal(err)
	}
	names := stream.ConsumerNames(ctx)
	var got []string
	for n := range names.Name() {
		got = append(got, n)
	}
	if names.Err() != nil || fmt.Sprint(got) != "[D M]" {
		t.Fatalf("names %v err %v", got, names.Err())
	}
	list := stream.ListConsumers(ctx)
	n := 0
	for range list.Info() {
		n++
	}
	if list.Err() != nil || n != 2 {
		t.Fatalf("list: %d err %v", n, list.Err())
	}
	if err := js.DeleteConsumer(ctx, "S", "D"); err != nil {
		t.Fatal(err)
	}
	if err := js.DeleteConsumer(ctx, "S", "D"); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Fatalf("delete again: %v", err)
	}
	si, _ := js.Stream(ctx, "S")
	if si.CachedInfo().State.Consumers != 1 {
		t.Fatalf("consumer count %d", si.CachedInfo().State.Consumers)
	}
	_ = nats.ErrTimeout
}
