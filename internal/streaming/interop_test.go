package streaming

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestInterop_AccountInfoAndINFO(t *testing.T) {
	s, _ := runEngine(t, Config{})
	nc, js := connectJS(t, s)
	ai, err := js.AccountInfo(ctxT(t))
	if err != nil {
		t.Fatalf("account info: %v", err)
	}
	if ai.Streams != 0 || ai.Limits.MaxMemory != -1 {
		t.Fatalf("account info: %+v", ai)
	}
	mustCreate(t, js, jetstream.StreamConfig{Name: "A", Subjects: []string{"a.>"}})
	ai, _ = js.AccountInfo(ctxT(t))
	if ai.Streams != 1 || ai.API.Total < 2 {
		t.Fatalf("account info after create: streams %d api %+v", ai.Streams, ai.API)
	}
	var major, minor, patch int
	v := nc.ConnectedServerVersion()
	if _, err := fmt.Sscanf(v, "%d.%d.%d", &major, &minor, &patch); err != nil || major < 2 || (major == 2 && minor < 9) {
		t.Fatalf("server version %q, want >= 2.9.0", v)
	}
	if on, _ := nc.ConnectedServerJetStream(); !on {
		t.Fatal("INFO does not advertise jetstream")
	}
}

func TestInterop_StreamCRUD(t *testing.T) {
	s, _ := runEngine(t, Config{})
	_, js := connectJS(t, s)
	ctx := ctxT(t)
	cfg := jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.*"}, Storage: jetstream.FileStorage}
	st := mustCreate(t, js, cfg)
	info := st.CachedInfo()
	if info.Config.MaxMsgs != -1 || info.Config.Duplicates != 2*time.Minute || info.Config.Replicas != 1 {
		t.Fatalf("defaults not applied: %+v", info.Config)
	}
	// Same config again: idempotent.
	if _, err := js.CreateStream(ctx, cfg); err != nil {
		t.Fatalf("create again: %v", err)
	}
	// Different config under the same name.
	_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"other"}})
	if !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		t.Fatalf("create with other config: %v, want name in use", err)
	}
	// Overlap with another stream.
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "OVER", Subjects: []string{"orders.new"}})
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != 10065 {
		t.Fatalf("overlap: %v", err)
	}
	// Update.
	cfg.MaxMsgs = 10
	cfg.Description = "updated"
	upd, err := js.UpdateStream(ctx, cfg)
	if err != nil || upd.CachedInfo().Config.MaxMsgs != 10 {
		t.Fatalf("update: %v", err)
	}
	if _, err := js.UpdateStream(ctx, jetstream.StreamConfig{Name: "NOPE"}); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("update missing: %v", err)
	}
	// CreateOrUpdate relies on 10059 from UPDATE.
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "NEW", Subjects: []string{"new"}}); err != nil {
		t.Fatalf("create or update: %v", err)
	}
	// Storage change refused.
	cfg.Storage = jetstream.MemoryStorage
	if _, err := js.UpdateStream(ctx, cfg); err == nil {
		t.Fatal("storage change accepted")
	}
	// Info, names, list.
	got, err := js.Stream(ctx, "ORDERS")
	if err != nil || got.CachedInfo().Config.Description != "updated" {
		t.Fatalf("stream info: %v", err)
	}
	var names []string
	for n := range js.StreamNames(ctx).Name() {
		names = append(names, n)
	}
	if fmt.Sprint(names) != "[NEW ORDERS]" {
		t.Fatalf("names %v", names)
	}
	lister := js.ListStreams(ctx, jetstream.WithStreamListSubject("orders.x"))
	var listed []string
	for si := range lister.Info() {
		listed = append(listed, si.Config.Name)
	}
	if lister.Err() != nil || fmt.Sprint(listed) != "[ORDERS]" {
		t.Fatalf("list by subject: %v %v", listed, lister.Err())
	}
	// Delete.
	if err := js.DeleteStream(ctx, "ORDERS"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := js.Stream(ctx, "ORDERS"); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("info after delete: %v", err)
	}
	if err := js.DeleteStream(ctx, "ORDERS"); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

func TestInterop_RefusesUnimplementedFields(t *testing.T) {
	s, _ := runEngine(t, Config{})
	_, js := connectJS(t, s)
	ctx := ctxT(t)
	cases := []struct {
		field string
		cfg   jetstream.StreamConfig
	}{
		{"sources", jetstream.StreamConfig{Name: "X", Sources: []*jetstream.StreamSource{{Name: "Y"}}}},
		{"mirror", jetstream.StreamConfig{Name: "X", Mirror: &jetstream.StreamSource{Name: "Y"}}},
		{"subject_transform", jetstream.StreamConfig{Name: "X", SubjectTransform: &jetstream.SubjectTransformConfig{Source: "a", Destination: "b"}}},
		{"republish", jetstream.StreamConfig{Name: "X", RePublish: &jetstream.RePublish{Source: ">", Destination: "b.>"}}},
		{"compression", jetstream.StreamConfig{Name: "X", Compression: jetstream.S2Compression}},
		{"allow_msg_ttl", jetstream.StreamConfig{Name: "X", AllowMsgTTL: true}},
		{"first_seq", jetstream.StreamConfig{Name: "X", FirstSeq: 10}},
	}
	for _, c := range cases {
		_, err := js.CreateStream(ctx, c.cfg)
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(c.field)) {
			t.Errorf("%s: err %v, want a refusal naming the field", c.field, err)
		}
	}
	_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "R3", Replicas: 3})
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != 10074 {
		t.Errorf("replicas 3: %v", err)
	}
}

func TestInterop_Publish10000SyncAndAsync(t *testing.T) {
	for _, storage := range []jetstream.StorageType{jetstream.FileStorage, jetstream.MemoryStorage} {
		t.Run(storage.String(), func(t *testing.T) {
			s, _ := runEngine(t, Config{})
			nc, _ := connectJS(t, s)
			// Every async publish may be outstanding at once: on a loaded
			// machine the client's stall limit (4,000 for 200 ms) would
			// otherwise fail the test, not the server.
			js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(20000))
			if err != nil {
				t.Fatal(err)
			}
			ctx := ctxT(t)
			mustCreate(t, js, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"}, Storage: storage})
			const n = 10000
			var last uint64
			sync := n
			if testing.Short() {
				sync = 1000 // each sync publish waits for an fsync
			}
			for i := 0; i < sync; i++ {
				ack, err := js.Publish(ctx, "p.sync", []byte(strconv.Itoa(i)))
				if err != nil {
					t.Fatalf("publish %d: %v", i, err)
				}
				if ack.Stream != "P" || ack.Sequence != last+1 {
					t.Fatalf("ack %d: %+v after %d", i, ack, last)
				}
				last = ack.Sequence
			}
			futures := make([]jetstream.PubAckFuture, n)
			for i := range futures {
				f, err := js.PublishAsync("p.async", []byte(strconv.Itoa(i)))
				if err != nil {
					t.Fatalf("publish async %d: %v", i, err)
				}
				futures[i] = f
			}
			for i, f := range futures {
				select {
				case ack := <-f.Ok():
					if ack.Sequence != last+1 {
						t.Fatalf("async ack %d: seq %d after %d", i, ack.Sequence, last)
					}
					last = ack.Sequence
				case err := <-f.Err():
					t.Fatalf("async %d: %v", i, err)
				case <-ctx.Done():
					t.Fatal("timeout waiting for acks")
				}
			}
			info, err := js.Stream(ctx, "P")
			if err != nil {
				t.Fatal(err)
			}
			if st := info.CachedInfo().State; st.Msgs != uint64(sync+n) || st.LastSeq != last {
				t.Fatalf("state %+v", st)
			}
			// Every message is there, byte-identical.
			for _, seq := range []uint64{1, uint64(sync), uint64(sync + 1), last} {
				m, err := info.GetMsg(ctx, seq)
				if err != nil {
					t.Fatalf("get %d: %v", seq, err)
				}
				want := strconv.Itoa(int(seq - 1))
				if seq > uint64(sync) {
					want = strconv.Itoa(int(seq) - sync - 1)
				}
				if string(m.Data) != want {
					t.Fatalf("seq %d: %q want %q", seq, m.Data, want)
				}
			}
		})
	}
}

func TestInterop_NoStreamGets503(t *testing.T) {
	s, _ := runEngine(t, Config{})
	_, js := connectJS(t, s)
	_, err := js.Publish(ctxT(t), "nobody.here", nil, jetstream.WithRetryAttempts(0))
	if !errors.Is(err, jetstream.ErrNoStreamResponse) {
		t.Fatalf("publish without stream: %v", err)
	}
}

func TestInterop_Dedup(t *testing.T) {
	s, _ := runEngine(t, Config{})
	_, js := connectJS(t, s)
	ctx := ctxT(t)
	mustCreate(t, js, jetstream.StreamConfig{Name: "D", Subjects: []string{"d"}})
	a1, err := js.Publish(ctx, "d", []byte("1"), jetstream.WithMsgID("id-1"))
	if err != nil || a1.Duplicate {
		t.Fatalf("first: %+v %v", a1, err)
	}
	a2, err := js.Publish(ctx, "d", []byte("1 again"), jetstream.WithMsgID("id-1"))
	if err != nil || !a2.Duplicate || a2.Sequence != a1.Sequence {
		t.Fatalf("duplicate: %+v %v", a2, err)
	}
	a3, err := js.Publish(ctx, "d", []byte("2"), jetstream.WithMsgID("id-2"))
	if err != nil || a3.Duplicate || a3.Sequence != 2 {
		t.Fatalf("second id: %+v %v", a3, err)
	}
}

func wantPubErr(t *testing.T, err error, code jetstream.ErrorCode) {
	t.Helper()
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != code {
		t.Fatalf("got %v, want error code %d", err, code)
	}
}

func TestInterop_ExpectedHeaders(t *testing.T) {
	s, _ := runEngine(t, Config{})
	_, js := connectJS(t, s)
	ctx := ctxT(t)
	mustCreate(t, js, jetstream.StreamConfig{Name: "E", Subjects: []string{"e.*"}})

	// Expected stream.
	if _, err := js.Publish(ctx, "e.a", nil, jetstream.WithExpectStream("E")); err != nil {
		t.Fatalf("expected stream ok: %v", err)
	}
	_, err := js.Publish(ctx, "e.a", nil, jetstream.WithExpectStream("OTHER"))
	wantPubErr(t, err, 10060)

	// Expected last sequence (now 1).
	if _, err := js.Publish(ctx, "e.b", nil, jetstream.WithExpectLastSequence(1)); err != nil {
		t.Fatalf("expected last seq ok: %v", err)
	}
	_, err = js.Publish(ctx, "e.b", nil, jetstream.WithExpectLastSequence(1))
	wantPubErr(t, err, 10071)

	// Expected last subject sequence: e.c has none yet (0).
	if _, err := js.Publish(ctx, "e.c", nil, jetstream.WithExpectLastSequencePerSubject(0)); err != nil {
		t.Fatalf("expected subject seq 0: %v", err)
	}
	_, err = js.Publish(ctx, "e.c", nil, jetstream.WithExpectLastSequencePerSubject(0))
	wantPubErr(t, err, 10071)
	if _, err := js.Publish(ctx, "e.c", nil, jetstream.WithExpectLastSequencePerSubject(3)); err != nil {
		t.Fatalf("expected subject seq 3: %v", err)
	}

	// Expected last msg id.
	if _, err := js.Publish(ctx, "e.d", nil, jetstream.WithMsgID("m1")); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "e.d", nil, jetstream.WithExpectLastMsgID("m1"), jetstream.WithMsgID("m2")); err != nil {
		t.Fatalf("expected last msg id ok: %v", err)
	}
	_, err = js.Publish(ctx, "e.d", nil, jetstream.WithExpectLastMsgID("m1"))
	wantPubErr(t, err, 10070)
}

func TestInterop_Rollup(t *testing.T) {
	s, _ := runEngine(t, Config{})
	nc, js := connectJS(t, s)
	ctx := ctxT(t)
	st := mustCreate(t, js, jetstream.StreamConfig{Name: "R", Subjects: []string{"r.*"}, AllowRollup: true})
	for _, subj := range []string{"r.a", "r.a", "r.b", "r.a"} {
		if _, err := js.Publish(ctx, subj, nil); err != nil {
			t.Fatal(err)
		}
	}
	m := nats.NewMsg("r.a")
	m.Header.Set("Nats-Rollup", "sub")
	if _, err := js.PublishMsg(ctx, m); err != nil {
		t.Fatalf("rollup sub: %v", err)
	}
	info, _ := st.Info(ctx)
	if info.State.Msgs != 2 { // r.b and the rollup
		t.Fatalf("after rollup sub: %+v", info.State)
	}
	m.Header.Set("Nats-Rollup", "all")
	if _, err := js.PublishMsg(ctx, m); err != nil {
		t.Fatalf("rollup all: %v", err)
	}
	info, _ = st.Info(ctx)
	if info.State.Msgs != 1 || info.State.FirstSeq != 6 {
		t.Fatalf("after rollup all: %+v", info.State)
	}
	// Without allow_rollup_hdrs.
	mustCreate(t, js, jetstream.StreamConfig{Name: "NR", Subjects: []string{"nr"}})
	m2 := nats.NewMsg("nr")
	m2.Header.Set("Nats-Rollup", "all")
	_, err := js.PublishMsg(ctx, m2)
	wantPubErr(t, err, 10111)
	_ = nc
}

// TestInterop_ClusterInfoWhereNatsServerHasIt: natscli's stream report and
// consumer report showed natsctl's server name in their Replicas/Cluster
// column, empty on a standalone nats-server, which reports a cluster only
// in STREAM.INFO.
func TestInterop_ClusterInfoWhereNatsServerHasIt(t *testing.T) {
	bothServers(t, func(t *testing.T, js jetstream.JetStream) {
		mustCreate(t, js, jetstream.StreamConfig{Name: "CI", Subjects: []string{"ci"}})
		if _, err := js.CreateConsumer(ctxT(t), "CI", jetstream.ConsumerConfig{Durable: "D"}); err != nil {
			t.Fatal(err)
		}
		for subj, want := range map[string]bool{
			"$JS.API.STREAM.INFO.CI":       true,
			"$JS.API.STREAM.LIST":          false,
			"$JS.API.CONSUMER.INFO.CI.D":   false,
			"$JS.API.CONSUMER.LIST.CI":     false,
			"$JS.API.CONSUMER.CREATE.CI.D": false,
		} {
			body := []byte(nil)
			if subj == "$JS.API.CONSUMER.CREATE.CI.D" {
				body = []byte(`{"stream_name":"CI","config":{"durable_name":"D","deliver_policy":"all","ack_policy":"explicit","replay_policy":"instant"}}`)
			}
			m, err := js.Conn().Request(subj, body, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if got := bytes.Contains(m.Data, []byte(`"cluster"`)); got != want {
				t.Errorf("%s: cluster present %v, want %v: %s", subj, got, want, m.Data)
			}
		}
	})
}
