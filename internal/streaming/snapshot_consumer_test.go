package streaming

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natsctl/natsctl/internal/jsbackup"
)

// consumerWorkload makes stream S (subjects s.*) with ten messages and a
// durable pull consumer D that has acked 1-3, NAKed 4 and had it again:
// delivered 6/5, ack floor 3/3, 4 and 5 pending, 4 redelivered once.
func consumerWorkload(t *testing.T, js jetstream.JetStream, storage jetstream.StorageType) (jetstream.Stream, jetstream.Consumer) {
	t.Helper()
	ctx := ctxT(t)
	st := mustCreate(t, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.*"}, Storage: storage})
	for i := 1; i <= 10; i++ {
		if _, err := js.Publish(ctx, "s.x", []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	cons := mustConsumer(t, js, "S", jetstream.ConsumerConfig{Durable: "D", AckPolicy: jetstream.AckExplicitPolicy, Description: "restored"})
	batch, err := cons.Fetch(5, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for m := range batch.Messages() {
		n++
		switch {
		case n <= 3:
			err = m.DoubleAck(ctx)
		case n == 4:
			// As a request, so the NAK is applied before the next fetch
			// (both servers answer it).
			_, err = js.Conn().Request(m.Reply(), []byte("-NAK"), 5*time.Second)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if n != 5 {
		t.Fatalf("fetched %d of 5", n)
	}
	again, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for m := range again.Messages() {
		if md, _ := m.Metadata(); md.Sequence.Stream != 4 || md.NumDelivered != 2 {
			t.Fatalf("after NAK got %+v, want stream seq 4 delivered twice", md)
		}
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := jetstream.SequenceInfo{Consumer: 6, Stream: 5}
	if info.Delivered.Consumer != want.Consumer || info.Delivered.Stream != want.Stream ||
		info.AckFloor.Consumer != 3 || info.AckFloor.Stream != 3 || info.NumAckPending != 2 || info.NumRedelivered != 1 {
		t.Fatalf("workload state: delivered %+v ack floor %+v ack pending %d redelivered %d",
			info.Delivered, info.AckFloor, info.NumAckPending, info.NumRedelivered)
	}
	return st, cons
}

// readArchive decodes an s2 snapshot: its state, consumer entries and
// message count.
func readSnapshotArchive(t *testing.T, data []byte) (StreamState, []jsbackup.ConsumerEntry, int) {
	t.Helper()
	sr, err := jsbackup.NewSnapshotReader(bufio.NewReader(s2.NewReader(bytes.NewReader(data))))
	if err != nil {
		t.Fatal(err)
	}
	var state StreamState
	if err := json.Unmarshal(sr.State(), &state); err != nil {
		t.Fatal(err)
	}
	cs, err := sr.Consumers()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		_, err := sr.Next()
		if errors.Is(err, io.EOF) {
			return state, cs, n
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
}

// sameConsumerFigures fails unless got shows delivered, ack floor, ack
// pending and redelivered as want does.
func sameConsumerFigures(t *testing.T, got, want *jetstream.ConsumerInfo) {
	t.Helper()
	if got.Delivered.Consumer != want.Delivered.Consumer || got.Delivered.Stream != want.Delivered.Stream ||
		got.AckFloor.Consumer != want.AckFloor.Consumer || got.AckFloor.Stream != want.AckFloor.Stream ||
		got.NumAckPending != want.NumAckPending || got.NumRedelivered != want.NumRedelivered ||
		got.NumPending != want.NumPending {
		t.Fatalf("consumer after restore: delivered %+v ack floor %+v ack pending %d redelivered %d pending %d;\n"+
			"want delivered %+v ack floor %+v ack pending %d redelivered %d pending %d",
			got.Delivered, got.AckFloor, got.NumAckPending, got.NumRedelivered, got.NumPending,
			want.Delivered, want.AckFloor, want.NumAckPending, want.NumRedelivered, want.NumPending)
	}
}

// fetchSeqs pulls n messages from c and returns their stream sequences
// and delivery counts, acking each.
func fetchSeqs(t *testing.T, c jetstream.Consumer, n int) (seqs, delivered []uint64) {
	t.Helper()
	for len(seqs) < n {
		b, err := c.Fetch(n-len(seqs), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for m := range b.Messages() {
			md, _ := m.Metadata()
			seqs = append(seqs, md.Sequence.Stream)
			delivered = append(delivered, md.NumDelivered)
			if err := m.DoubleAck(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			got++
		}
		if got == 0 {
			t.Fatalf("fetch returned nothing after %v", seqs)
		}
	}
	return seqs, delivered
}

// restoreOK restores data as stream S on nc and fails on an error reply.
func restoreOK(t *testing.T, nc *nats.Conn, cfg jetstream.StreamConfig, data []byte, state jetstream.StreamState) {
	t.Helper()
	raw, _ := json.Marshal(cfg)
	final := restoreVia(t, nc, cfg.Name, raw, data, state)
	if strings.Contains(string(final), `"error"`) {
		t.Fatalf("restore: %s", final)
	}
}

// Our snapshot restored into natsctl keeps a durable's ack floor, pending
// and redelivered messages: 4 and 5 wait out their ack wait (30 s), so the
// next fetch returns new messages, never 1, as nats-server's would.
func TestSnapshot_ConsumerStateRoundTrip(t *testing.T) {
	for _, storage := range []jetstream.StorageType{jetstream.FileStorage, jetstream.MemoryStorage} {
		t.Run(storage.String(), func(t *testing.T) {
			s, _ := runEngine(t, Config{})
			nc, js := connectJS(t, s)
			st, cons := consumerWorkload(t, js, storage)
			want, _ := cons.Info(ctxT(t))
			data, status := snapshotWith(t, nc, "S", map[string]any{})
			if status != "204" {
				t.Fatalf("snapshot status %q", status)
			}
			state, entries, msgs := readSnapshotArchive(t, data)
			if state.Consumers != 1 || len(entries) != 1 || entries[0].Name != "D" || msgs != 10 {
				t.Fatalf("snapshot: consumer_count %d, entries %v, %d messages", state.Consumers, entries, msgs)
			}
			// nats-server's shapes: untagged Pending fields, redeliveries.
			var ent map[string]map[string]json.RawMessage
			if err := json.Unmarshal(entries[0].JSON, &ent); err != nil {
				t.Fatal(err)
			}
			if p := string(ent["state"]["pending"]); !strings.Contains(p, `"4":{"Sequence":4,"Timestamp":`) || !strings.Contains(p, `"5":{"Sequence":5,`) {
				t.Fatalf("pending %s", p)
			}
			if r := string(ent["state"]["redelivered"]); r != `{"4":1}` {
				t.Fatalf("redelivered %s", r)
			}
			if d := string(ent["state"]["delivered"]); d != `{"consumer_seq":6,"stream_seq":5}` {
				t.Fatalf("delivered %s", d)
			}

			s2, _ := runEngine(t, Config{})
			nc2, js2 := connectJS(t, s2)
			restoreOK(t, nc2, st.CachedInfo().Config, data, st.CachedInfo().State)
			rc, err := js2.Consumer(ctxT(t), "S", "D")
			if err != nil {
				t.Fatal(err)
			}
			got := rc.CachedInfo()
			sameConsumerFigures(t, got, want)
			if got.Config.Durable != "D" || got.Config.Description != "restored" || got.Config.AckPolicy != jetstream.AckExplicitPolicy {
				t.Fatalf("restored config %+v", got.Config)
			}
			seqs, dcs := fetchSeqs(t, rc, 4)
			if !slices.Equal(seqs, []uint64{6, 7, 8, 9}) || !slices.Equal(dcs, []uint64{1, 1, 1, 1}) {
				t.Fatalf("after restore fetched seqs %v delivered %v, want [6 7 8 9] [1 1 1 1]", seqs, dcs)
			}
		})
	}
}

// A restored durable of a file stream is a durable: it survives a
// restart of the server with its state.
func TestSnapshot_RestoredDurableSurvivesRestart(t *testing.T) {
	s, _ := runEngine(t, Config{})
	nc, js := connectJS(t, s)
	st, _ := consumerWorkload(t, js, jetstream.FileStorage)
	data, _ := snapshotWith(t, nc, "S", map[string]any{})

	dir := t.TempDir()
	s2 := startAt(t, Config{StoreDir: dir}, nil)
	nc2, _ := connectJS(t, s2)
	restoreOK(t, nc2, st.CachedInfo().Config, data, st.CachedInfo().State)
	nc2.Close()
	shutdown(s2)

	s3, _ := runEngine(t, Config{StoreDir: dir})
	_, js3 := connectJS(t, s3)
	rc, err := js3.Consumer(ctxT(t), "S", "D")
	if err != nil {
		t.Fatal(err)
	}
	if info := rc.CachedInfo(); info.AckFloor.Stream != 3 || info.NumAckPending != 2 {
		t.Fatalf("after restart: ack floor %+v, ack pending %d", info.AckFloor, info.NumAckPending)
	}
	// 4 and 5 are still within their ack wait.
	if seqs, _ := fetchSeqs(t, rc, 1); seqs[0] != 6 {
		t.Fatalf("after restart first fetch %v, want 6", seqs)
	}
}

// An ephemeral consumer is restored as an ephemeral with its state.
func TestSnapshot_RestoresEphemeral(t *testing.T) {
	s, _ := runEngine(t, Config{})
	nc, js := connectJS(t, s)
	st := mustCreate(t, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.*"}})
	for range 5 {
		js.Publish(ctxT(t), "s.x", nil)
	}
	eph, err := js.CreateConsumer(ctxT(t), "S", jetstream.ConsumerConfig{Name: "E", AckPolicy: jetstream.AckExplicitPolicy, InactiveThreshold: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	fetchSeqs(t, eph, 2)
	data, _ := snapshotWith(t, nc, "S", map[string]any{})

	s2, _ := runEngine(t, Config{})
	nc2, js2 := connectJS(t, s2)
	restoreOK(t, nc2, st.CachedInfo().Config, data, st.CachedInfo().State)
	rc, err := js2.Consumer(ctxT(t), "S", "E")
	if err != nil {
		t.Fatal(err)
	}
	if info := rc.CachedInfo(); info.Config.Durable != "" || info.Config.InactiveThreshold != time.Hour || info.AckFloor.Stream != 2 {
		t.Fatalf("restored ephemeral: %+v", info)
	}
}

// no_consumers: consumer_count 0 and no consumer entries.
func TestSnapshot_NoConsumers(t *testing.T) {
	s, _ := runEngine(t, Config{})
	nc, js := connectJS(t, s)
	consumerWorkload(t, js, jetstream.FileStorage)
	data, _ := snapshotWith(t, nc, "S", map[string]any{"no_consumers": true})
	state, entries, msgs := readSnapshotArchive(t, data)
	if state.Consumers != 0 || len(entries) != 0 || msgs != 10 {
		t.Fatalf("no_consumers snapshot: consumer_count %d, %d entries, %d messages", state.Consumers, len(entries), msgs)
	}
}

// A snapshot's consumer state never names stream sequences past the
// snapshot's last one.
func TestSnapshot_ConsumerStateBounded(t *testing.T) {
	s, e := runEngine(t, Config{})
	_, js := connectJS(t, s)
	consumerWorkload(t, js, jetstream.FileStorage)
	st := e.lookup("S")
	si, _ := st.info(false, "", 0)
	si.State.LastSeq = 4 // as if 5..10 came after the snapshot began
	var buf bytes.Buffer
	if err := writeSnapshot(&buf, st, si, true); err != nil {
		t.Fatal(err)
	}
	_, entries, _ := readSnapshotArchive(t, buf.Bytes())
	var sc snapshotConsumer
	if err := json.Unmarshal(entries[0].JSON, &sc); err != nil {
		t.Fatal(err)
	}
	if sc.State.Delivered.Stream != 4 || sc.State.Delivered.Consumer != 6 || sc.State.Pending[5] != nil || sc.State.Pending[4] == nil {
		t.Fatalf("bounded state %+v pending %v", sc.State, sc.State.Pending)
	}
}

// consumerArchive is an s2 snapshot of one message with the given
// consumer entries (consumer_count = count).
func consumerArchive(t *testing.T, count int, consumers ...*jsbackup.Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := s2.NewWriter(&buf)
	aw := jsbackup.NewArchiveWriter(zw)
	es := []*jsbackup.Entry{{Name: "state.json", Payload: []byte(`{"messages":1,"first_seq":1,"last_seq":1,"consumer_count":` + strconv.Itoa(count) + `}`)}}
	es = append(es, consumers...)
	es = append(es, &jsbackup.Entry{Name: "s", Sequence: 1, Timestamp: 1, Payload: []byte("x")}, &jsbackup.Entry{})
	for _, e := range es {
		if err := aw.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	aw.Flush()
	zw.Close()
	return buf.Bytes()
}

// A bad consumer entry fails the restore, saying which and why, and
// leaves no stream behind.
func TestSnapshot_BadConsumerEntryFailsRestore(t *testing.T) {
	state := `{"delivered":{"consumer_seq":1,"stream_seq":1},"ack_floor":{"consumer_seq":1,"stream_seq":1}}`
	entry := func(name, body string) *jsbackup.Entry {
		return &jsbackup.Entry{Name: "consumers/" + name, Timestamp: 1, Payload: []byte(body)}
	}
	cases := []struct {
		name  string
		count int
		ents  []*jsbackup.Entry
		want  string
	}{
		{"bad json", 1, []*jsbackup.Entry{entry("C", `{"config":`)}, `failed to decode consumer \"C\"`},
		{"missing config", 1, []*jsbackup.Entry{entry("C", `{"state":`+state+`}`)}, `consumer \"C\" is missing config`},
		{"missing state", 1, []*jsbackup.Entry{entry("C", `{"config":{"durable_name":"C","ack_policy":"explicit"}}`)}, `consumer \"C\" is missing state`},
		{"unsupported field", 1, []*jsbackup.Entry{entry("C", `{"config":{"durable_name":"C","sample_freq":"50%"},"state":`+state+`}`)}, `sample_freq`},
		{"name mismatch", 1, []*jsbackup.Entry{entry("C", `{"config":{"durable_name":"X"},"state":`+state+`}`)}, `names it`},
		{"count too high", 2, []*jsbackup.Entry{entry("C", `{"config":{"durable_name":"C"},"state":`+state+`}`)}, `expected a consumer entry`},
		{"duplicate", 2, []*jsbackup.Entry{
			entry("C", `{"config":{"durable_name":"C"},"state":`+state+`}`),
			entry("C", `{"config":{"durable_name":"C"},"state":`+state+`}`)}, `appears twice`},
	}
	s, _ := runEngine(t, Config{})
	nc, js := connectJS(t, s)
	cfg, _ := json.Marshal(StreamConfig{Name: "S", Subjects: []string{"s"}})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			final := restoreVia(t, nc, "S", cfg, consumerArchive(t, tc.count, tc.ents...))
			if !strings.Contains(string(final), tc.want) || !strings.Contains(string(final), `"error"`) {
				t.Fatalf("restore reply %s, want an error with %q", final, tc.want)
			}
			if _, err := js.Stream(ctxT(t), "S"); err == nil {
				t.Fatal("a failed restore left a stream")
			}
		})
	}
	// The same archive with a good entry restores, with the consumer.
	good := consumerArchive(t, 1, entry("C", `{"config":{"durable_name":"C","ack_policy":"explicit"},"state":`+state+`}`))
	if final := restoreVia(t, nc, "S", cfg, good); strings.Contains(string(final), `"error"`) {
		t.Fatalf("good archive: %s", final)
	}
	if c, err := js.Consumer(ctxT(t), "S", "C"); err != nil || c.CachedInfo().AckFloor.Stream != 1 {
		t.Fatalf("restored consumer: %v", err)
	}
}

// A stream with a durable snapshotted by nats-server 2.15 restores into
// natsctl with the consumer's figures, and its next fetch is message 6
// (4 and 5 are within their ack wait), as restoring into nats-server gives.
func TestSnapshot_ConsumerFromNatsServer(t *testing.T) {
	nnc, njs := natsServerJS(t)
	nst, ncons := consumerWorkload(t, njs, jetstream.FileStorage)
	want, _ := ncons.Info(ctxT(t))
	data, _ := snapshotWith(t, nnc, "S", map[string]any{})
	_, entries, _ := readSnapshotArchive(t, data)
	if len(entries) != 1 || !bytes.Contains(entries[0].JSON, []byte(`"4":{"Sequence":4,"Timestamp":`)) {
		t.Fatalf("nats-server consumer entries: %q", entries)
	}

	s, _ := runEngine(t, Config{})
	nc, js := connectJS(t, s)
	restoreOK(t, nc, nst.CachedInfo().Config, data, nst.CachedInfo().State)
	rc, err := js.Consumer(ctxT(t), "S", "D")
	if err != nil {
		t.Fatal(err)
	}
	sameConsumerFigures(t, rc.CachedInfo(), want)
	if seqs, _ := fetchSeqs(t, rc, 3); !slices.Equal(seqs, []uint64{6, 7, 8}) {
		t.Fatalf("after restore fetched %v, want [6 7 8]", seqs)
	}
}

// Our snapshot with a durable restores into nats-server 2.15, whose
// consumer info then shows the same figures, and whose next fetch skips
// the pending 4 and 5 (within their ack wait) as ours does.
func TestSnapshot_ConsumerOursIntoNatsServer(t *testing.T) {
	s, _ := runEngine(t, Config{})
	nc, js := connectJS(t, s)
	st, cons := consumerWorkload(t, js, jetstream.FileStorage)
	want, _ := cons.Info(ctxT(t))
	data, _ := snapshotWith(t, nc, "S", map[string]any{})

	nnc, njs := natsServerJS(t)
	restoreOK(t, nnc, st.CachedInfo().Config, data, st.CachedInfo().State)
	rc, err := njs.Consumer(ctxT(t), "S", "D")
	if err != nil {
		t.Fatal(err)
	}
	sameConsumerFigures(t, rc.CachedInfo(), want)
	if rc.CachedInfo().Config.Description != "restored" {
		t.Fatalf("nats-server restored config %+v", rc.CachedInfo().Config)
	}
	if seqs, _ := fetchSeqs(t, rc, 3); !slices.Equal(seqs, []uint64{6, 7, 8}) {
		t.Fatalf("nats-server after restore fetched %v, want [6 7 8]", seqs)
	}
}

// The consumer entry decoder takes any bytes without panicking, and what
// it accepts is named as the entry is.
func FuzzSnapshotConsumer(f *testing.F) {
	f.Add([]byte(`{"config":{"durable_name":"C","ack_policy":"explicit"},"state":{"delivered":{"consumer_seq":6,"stream_seq":5},"ack_floor":{"consumer_seq":3,"stream_seq":3},"pending":{"4":{"Sequence":4,"Timestamp":1}},"redelivered":{"4":1}}}`))
	f.Add([]byte(`{"config":{"name":"C"},"state":{}}`))
	f.Add([]byte(`{"config":null,"state":null}`))
	sc := &StreamConfig{Name: "S", Subjects: []string{"s"}}
	sc.setDefaults()
	f.Fuzz(func(t *testing.T, b []byte) {
		rc, err := decodeSnapshotConsumer(jsbackup.ConsumerEntry{Name: "C", JSON: b}, sc)
		if err != nil {
			return
		}
		if rc.cfg.Name != "C" || rc.state == nil || (rc.cfg.Durable != "" && rc.cfg.Durable != "C") {
			t.Fatalf("accepted %s as %+v", b, rc.cfg)
		}
	})
}

// A restored pending message keeps the ack deadline of its last delivery
// (its timestamp plus ack_wait): one delivered long ago is redelivered at
// once, one delivered just now is not.
func TestSnapshot_RestoredPendingKeepsItsDeadline(t *testing.T) {
	archive := func(deliveredAt int64) []byte {
		state := fmt.Sprintf(`{"delivered":{"consumer_seq":1,"stream_seq":1},"ack_floor":{"consumer_seq":0,"stream_seq":0},`+
			`"pending":{"1":{"Sequence":1,"Timestamp":%d}}}`, deliveredAt)
		return consumerArchive(t, 1, &jsbackup.Entry{Name: "consumers/C", Timestamp: 1,
			Payload: []byte(`{"config":{"durable_name":"C","ack_policy":"explicit","ack_wait":30000000000},"state":` + state + `}`)})
	}
	cfg, _ := json.Marshal(StreamConfig{Name: "S", Subjects: []string{"s"}})
	check := func(t *testing.T, nc *nats.Conn, js jetstream.JetStream) {
		if final := restoreVia(t, nc, "S", cfg, archive(1)); strings.Contains(string(final), `"error"`) {
			t.Fatalf("restore: %s", final)
		}
		c, err := js.Consumer(ctxT(t), "S", "C")
		if err != nil {
			t.Fatal(err)
		}
		if seqs, dcs := fetchSeqs(t, c, 1); seqs[0] != 1 || dcs[0] != 2 {
			t.Fatalf("overdue pending: fetched %v delivered %v, want 1 delivered twice", seqs, dcs)
		}
		if err := js.DeleteStream(ctxT(t), "S"); err != nil {
			t.Fatal(err)
		}

		if final := restoreVia(t, nc, "S", cfg, archive(time.Now().UnixNano())); strings.Contains(string(final), `"error"`) {
			t.Fatalf("restore: %s", final)
		}
		if c, err = js.Consumer(ctxT(t), "S", "C"); err != nil {
			t.Fatal(err)
		}
		b, err := c.Fetch(1, jetstream.FetchMaxWait(500*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		for m := range b.Messages() {
			md, _ := m.Metadata()
			t.Fatalf("pending within its ack wait was redelivered: %+v", md)
		}
		if info, err := c.Info(ctxT(t)); err != nil || info.NumAckPending != 1 {
			t.Fatalf("ack pending after restore: %+v, %v", info, err)
		}
	}
	// nats-server does not take this hand-made archive; that it keeps the
	// deadlines too is checked by TestSnapshot_ConsumerOursIntoNatsServer.
	s, _ := runEngine(t, Config{})
	nc, js := connectJS(t, s)
	check(t, nc, js)
}

// A snapshot with more consumers than its stream's max_consumers fails to
// restore, naming the one too many, and leaves no stream behind; at the
// limit it restores.
func TestSnapshot_RestoreAppliesMaxConsumers(t *testing.T) {
	s, _ := runEngine(t, Config{})
	nc, js := connectJS(t, s)
	state := `{"delivered":{"consumer_seq":0,"stream_seq":0},"ack_floor":{"consumer_seq":0,"stream_seq":0}}`
	entry := func(name string) *jsbackup.Entry {
		return &jsbackup.Entry{Name: "consumers/" + name, Timestamp: 1,
			Payload: []byte(`{"config":{"durable_name":"` + name + `","ack_policy":"explicit"},"state":` + state + `}`)}
	}
	cfg, _ := json.Marshal(StreamConfig{Name: "S", Subjects: []string{"s"}, MaxConsumers: 1})
	final := restoreVia(t, nc, "S", cfg, consumerArchive(t, 2, entry("A"), entry("B")))
	if !strings.Contains(string(final), `maximum consumers limit reached`) || !strings.Contains(string(final), `"error"`) {
		t.Fatalf("restore of 2 consumers with max_consumers 1: %s", final)
	}
	if _, err := js.Stream(ctxT(t), "S"); err == nil {
		t.Fatal("a failed restore left a stream")
	}
	if final := restoreVia(t, nc, "S", cfg, consumerArchive(t, 1, entry("A"))); strings.Contains(string(final), `"error"`) {
		t.Fatalf("restore of 1 consumer with max_consumers 1: %s", final)
	}
}
