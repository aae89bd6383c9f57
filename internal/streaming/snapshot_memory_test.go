package streaming

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// fillGappy publishes n messages with headers to a stream on s.*, then
// purges below 10 and deletes a few, so the snapshot has a first sequence
// above 1, gaps, and a deleted last message.
func fillGappy(t *testing.T, js jetstream.JetStream, st jetstream.Stream, n int) {
	t.Helper()
	ctx := ctxT(t)
	for i := range n {
		m := nats.NewMsg(fmt.Sprintf("s.%d", i%4))
		m.Data = bytes.Repeat([]byte{byte(i)}, i)
		m.Header.Set("N", fmt.Sprint(i))
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Purge(ctx, jetstream.WithPurgeSequence(10)); err != nil {
		t.Fatal(err)
	}
	for _, seq := range []uint64{15, 16, uint64(n)} {
		if err := st.DeleteMsg(ctx, seq); err != nil {
			t.Fatal(err)
		}
	}
}

// sameMessages fails unless b holds a's messages from first to last with
// the same subjects, data, headers and times.
func sameMessages(t *testing.T, a, b jetstream.Stream, first, last uint64) {
	t.Helper()
	ctx := ctxT(t)
	for seq := first; seq <= last; seq++ {
		ma, errA := a.GetMsg(ctx, seq)
		mb, errB := b.GetMsg(ctx, seq)
		if (errA == nil) != (errB == nil) {
			t.Fatalf("seq %d: %v / %v", seq, errA, errB)
		}
		if errA == nil && (ma.Subject != mb.Subject || !bytes.Equal(ma.Data, mb.Data) || !ma.Time.Equal(mb.Time) || ma.Header.Get("N") != mb.Header.Get("N")) {
			t.Fatalf("seq %d differs", seq)
		}
	}
}

// restoredMemory checks that stream S on js is a memory stream with
// want's state and a's messages.
func restoredMemory(t *testing.T, js jetstream.JetStream, a jetstream.Stream, want jetstream.StreamState) jetstream.Stream {
	t.Helper()
	rst, err := js.Stream(ctxT(t), "S")
	if err != nil {
		t.Fatal(err)
	}
	ri := rst.CachedInfo()
	if ri.Config.Storage != jetstream.MemoryStorage {
		t.Fatalf("restored storage %v, want memory", ri.Config.Storage)
	}
	if ri.State.Msgs != want.Msgs || ri.State.FirstSeq != want.FirstSeq || ri.State.LastSeq != want.LastSeq {
		t.Fatalf("restored state %+v, want %+v", ri.State, want)
	}
	sameMessages(t, a, rst, want.FirstSeq, want.LastSeq)
	return rst
}

// A memory stream snapshotted by natsctl restores into natsctl as a
// memory stream with its sequences, times and headers, and goes on from
// its last sequence.
func TestSnapshot_MemoryStreamRoundTrip(t *testing.T) {
	s, _ := runEngine(t, Config{})
	nc, js := connectJS(t, s)
	st := mustCreate(t, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.*"}, Storage: jetstream.MemoryStorage})
	fillGappy(t, js, st, 100)
	info, _ := st.Info(ctxT(t))
	data, _ := snapshotVia(t, nc, "S", 1024)

	s2, _ := runEngine(t, Config{})
	nc2, js2 := connectJS(t, s2)
	restoreOK(t, nc2, info.Config, data, info.State)
	restoredMemory(t, js2, st, info.State)
	if ack, err := js2.Publish(ctxT(t), "s.new", nil); err != nil || ack.Sequence != info.State.LastSeq+1 {
		t.Fatalf("publish after restore: %v %+v", err, ack)
	}
}

// A nats-server 2.15 memory stream with a durable restores into natsctl:
// messages, times, and the consumer's figures.
func TestSnapshot_MemoryFromNatsServer(t *testing.T) {
	nnc, njs := natsServerJS(t)
	nst, ncons := consumerWorkload(t, njs, jetstream.MemoryStorage)
	fillGappy(t, njs, nst, 50) // sequences 11..60: purge to 10 leaves the consumer's 4 and 5 gone
	info, _ := nst.Info(ctxT(t))
	want, _ := ncons.Info(ctxT(t))
	data, _ := snapshotWith(t, nnc, "S", map[string]any{})

	s, _ := runEngine(t, Config{})
	nc, js := connectJS(t, s)
	restoreOK(t, nc, info.Config, data, info.State)
	restoredMemory(t, js, nst, info.State)
	rc, err := js.Consumer(ctxT(t), "S", "D")
	if err != nil {
		t.Fatal(err)
	}
	got := rc.CachedInfo()
	if got.Delivered.Consumer != want.Delivered.Consumer || got.Delivered.Stream != want.Delivered.Stream ||
		got.AckFloor.Stream != want.AckFloor.Stream || got.NumPending != want.NumPending || got.NumAckPending != want.NumAckPending {
		t.Fatalf("restored consumer delivered %+v ack floor %+v pending %d; nats-server had %+v %+v %d",
			got.Delivered, got.AckFloor, got.NumPending, want.Delivered, want.AckFloor, want.NumPending)
	}
	// The purge took the pending messages: the next fetch starts at the
	// first sequence left.
	if seqs, _ := fetchSeqs(t, rc, 1); seqs[0] != info.State.FirstSeq {
		t.Fatalf("first fetch %v, want %d", seqs, info.State.FirstSeq)
	}
}

// A natsctl memory stream with a durable restores into nats-server 2.15.
func TestSnapshot_MemoryOursIntoNatsServer(t *testing.T) {
	s, _ := runEngine(t, Config{})
	nc, js := connectJS(t, s)
	st, cons := consumerWorkload(t, js, jetstream.MemoryStorage)
	info, _ := st.Info(ctxT(t))
	want, _ := cons.Info(ctxT(t))
	data, _ := snapshotWith(t, nc, "S", map[string]any{})

	nnc, njs := natsServerJS(t)
	restoreOK(t, nnc, info.Config, data, info.State)
	restoredMemory(t, njs, st, info.State)
	rc, err := njs.Consumer(ctxT(t), "S", "D")
	if err != nil {
		t.Fatal(err)
	}
	sameConsumerFigures(t, rc.CachedInfo(), want)
}

// A memory restore cannot pass max_memory_store: refused up front when
// the state says so, and while reading when the snapshot holds more than
// its state said; neither leaves a stream.
func TestSnapshot_MemoryRestoreOverLimit(t *testing.T) {
	s, _ := runEngine(t, Config{})
	nc, js := connectJS(t, s)
	st := mustCreate(t, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.*"}, Storage: jetstream.MemoryStorage})
	for range 50 {
		if _, err := js.Publish(ctxT(t), "s.x", make([]byte, 1000)); err != nil {
			t.Fatal(err)
		}
	}
	info, _ := st.Info(ctxT(t))
	data, _ := snapshotVia(t, nc, "S", 0)
	cfg, _ := json.Marshal(info.Config)

	small, _ := runEngine(t, Config{MaxMemory: 20_000})
	snc, sjs := connectJS(t, small)
	req, _ := json.Marshal(map[string]any{"config": json.RawMessage(cfg), "state": info.State})
	resp, err := snc.Request("$JS.API.STREAM.RESTORE.S", req, 5*time.Second)
	if err != nil || !strings.Contains(string(resp.Data), "10028") {
		t.Fatalf("restore over the limit: %v %s", err, resp.Data)
	}
	final := restoreVia(t, snc, "S", cfg, data, map[string]any{"bytes": 1})
	if !strings.Contains(string(final), "insufficient memory resources") {
		t.Fatalf("restore of more than the state said: %s", final)
	}
	if _, err := sjs.Stream(ctxT(t), "S"); err == nil {
		t.Fatal("a failed restore left a stream")
	}
}
