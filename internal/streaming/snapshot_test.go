package streaming

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// snapshotVia runs the client side of $JS.API.STREAM.SNAPSHOT as natscli
// does: subscribe after the reply, ack every chunk, stop at the empty
// message. It returns the bytes and the final status.
func snapshotVia(t *testing.T, nc *nats.Conn, stream string, chunk int) ([]byte, string) {
	t.Helper()
	return snapshotWith(t, nc, stream, map[string]any{"no_consumers": true, "chunk_size": chunk})
}

// snapshotWith is snapshotVia with the request's fields given (the
// deliver subject is added).
func snapshotWith(t *testing.T, nc *nats.Conn, stream string, fields map[string]any) ([]byte, string) {
	t.Helper()
	// A reply inbox, as natscli uses: the request mux ("_INBOX.x.*")
	// matches it before the subscription below exists.
	inbox := nc.NewRespInbox()
	fields["deliver_subject"] = inbox
	req, _ := json.Marshal(fields)
	resp, err := nc.Request("$JS.API.STREAM.SNAPSHOT."+stream, req, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Error  *APIError       `json:"error"`
		Config json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal(resp.Data, &r); err != nil || r.Error != nil || len(r.Config) == 0 {
		t.Fatalf("snapshot reply %s: %v", resp.Data, err)
	}
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	var out bytes.Buffer
	for {
		m, err := sub.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatalf("after %d bytes: %v", out.Len(), err)
		}
		if len(m.Data) == 0 {
			return out.Bytes(), m.Header.Get("Status")
		}
		out.Write(m.Data)
		if m.Reply != "" {
			m.Respond(nil)
		}
	}
}

// restoreVia runs the client side of $JS.API.STREAM.RESTORE as natscli
// does and returns the final reply.
func restoreVia(t *testing.T, nc *nats.Conn, stream string, cfg json.RawMessage, data []byte, state ...any) []byte {
	t.Helper()
	var st any = map[string]any{}
	if len(state) > 0 {
		st = state[0]
	}
	req, _ := json.Marshal(map[string]any{"config": cfg, "state": st})
	resp, err := nc.Request("$JS.API.STREAM.RESTORE."+stream, req, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Error   *APIError `json:"error"`
		Deliver string    `json:"deliver_subject"`
	}
	if err := json.Unmarshal(resp.Data, &r); err != nil || r.Error != nil {
		t.Fatalf("restore reply %s", resp.Data)
	}
	for len(data) > 0 {
		n := min(len(data), 4096)
		ack, err := nc.Request(r.Deliver, data[:n], 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(ack.Data) > 0 {
			return ack.Data
		}
		data = data[n:]
	}
	final, err := nc.Request(r.Deliver, nil, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return final.Data
}

func TestSnapshot_RoundTripKeepsSequencesAndTimes(t *testing.T) {
	s, _ := runEngine(t, Config{})
	nc, js := connectJS(t, s)
	ctx := ctxT(t)
	st := mustCreate(t, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, MaxMsgsPerSubject: 3})
	for i := range 200 {
		m := nats.NewMsg(fmt.Sprintf("s.%d", i%7))
		m.Data = bytes.Repeat([]byte{byte(i)}, 1000)
		m.Header.Set("N", fmt.Sprint(i))
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	st.DeleteMsg(ctx, 199)
	st.DeleteMsg(ctx, 200)
	info, _ := st.Info(ctx)
	data, status := snapshotVia(t, nc, "S", 1024) // many chunks, window of 8 MiB
	if status != "204" || len(data) == 0 {
		t.Fatalf("snapshot status %q, %d bytes", status, len(data))
	}
	cfg, _ := json.Marshal(info.Config)

	s2, _ := runEngine(t, Config{})
	nc2, js2 := connectJS(t, s2)
	final := restoreVia(t, nc2, "S", cfg, data)
	var fr struct {
		Type  string    `json:"type"`
		Error *APIError `json:"error"`
		State StreamState
	}
	if err := json.Unmarshal(final, &fr); err != nil || fr.Error != nil || fr.Type != typeStreamCreate {
		t.Fatalf("final restore reply %s", final)
	}
	rst, err := js2.Stream(ctx, "S")
	if err != nil {
		t.Fatal(err)
	}
	ri := rst.CachedInfo()
	if ri.State.Msgs != info.State.Msgs || ri.State.FirstSeq != info.State.FirstSeq || ri.State.LastSeq != info.State.LastSeq || ri.Config.MaxMsgsPerSubject != 3 {
		t.Fatalf("restored state %+v, want %+v", ri.State, info.State)
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		a, errA := st.GetMsg(ctx, seq)
		b, errB := rst.GetMsg(ctx, seq)
		if (errA == nil) != (errB == nil) {
			t.Fatalf("seq %d: %v / %v", seq, errA, errB)
		}
		if errA == nil && (a.Subject != b.Subject || !bytes.Equal(a.Data, b.Data) || !a.Time.Equal(b.Time) || a.Header.Get("N") != b.Header.Get("N")) {
			t.Fatalf("seq %d differs", seq)
		}
	}
	// The restored stream takes publishes and goes on from the last sequence.
	ack, err := js2.Publish(ctx, "s.new", nil)
	if err != nil || ack.Sequence != info.State.LastSeq+1 {
		t.Fatalf("publish after restore: %v %+v", err, ack)
	}
	// Restoring over it is refused.
	final = restoreViaExpectError(t, nc2, "S", cfg)
	if !strings.Contains(string(final), "10130") {
		t.Fatalf("restore over existing stream: %s", final)
	}
}

func restoreViaExpectError(t *testing.T, nc *nats.Conn, stream string, cfg json.RawMessage) []byte {
	req, _ := json.Marshal(map[string]any{"config": cfg})
	resp, err := nc.Request("$JS.API.STREAM.RESTORE."+stream, req, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Data
}

// A nats-server 2.15 snapshot (as natscli saves it) restores into
// natsctl with the same sequences, times and headers.
func TestSnapshot_FromNatsServer(t *testing.T) {
	nnc, njs := natsServerJS(t)
	ctx := ctxT(t)
	nst := mustCreate(t, njs, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.*"}})
	for i := range 300 {
		m := nats.NewMsg(fmt.Sprintf("s.%d", i%5))
		m.Data = bytes.Repeat([]byte{byte(i)}, i)
		if i%2 == 0 {
			m.Header.Set("N", fmt.Sprint(i))
		}
		if _, err := njs.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := nst.Purge(ctx, jetstream.WithPurgeSequence(20)); err != nil {
		t.Fatal(err)
	}
	for _, seq := range []uint64{25, 100, 101, 300} {
		if err := nst.DeleteMsg(ctx, seq); err != nil {
			t.Fatal(err)
		}
	}
	if err := nst.SecureDeleteMsg(ctx, 150); err != nil {
		t.Fatal(err)
	}
	info, _ := nst.Info(ctx)
	data, _ := snapshotVia(t, nnc, "S", 0)
	cfg, _ := json.Marshal(info.Config)

	s, _ := runEngine(t, Config{})
	nc, js := connectJS(t, s)
	final := restoreVia(t, nc, "S", cfg, data, info.State)
	if !strings.Contains(string(final), typeStreamCreate) || strings.Contains(string(final), `"error"`) {
		t.Fatalf("restore of a nats-server snapshot: %s", final)
	}
	rst, err := js.Stream(ctx, "S")
	if err != nil {
		t.Fatal(err)
	}
	ri := rst.CachedInfo()
	if ri.State.Msgs != info.State.Msgs || ri.State.FirstSeq != info.State.FirstSeq || ri.State.LastSeq != info.State.LastSeq {
		t.Fatalf("restored state %+v, want %+v", ri.State, info.State)
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		a, errA := nst.GetMsg(ctx, seq)
		b, errB := rst.GetMsg(ctx, seq)
		if (errA == nil) != (errB == nil) {
			t.Fatalf("seq %d: %v / %v", seq, errA, errB)
		}
		if errA == nil && (a.Subject != b.Subject || !bytes.Equal(a.Data, b.Data) || !a.Time.Equal(b.Time) || a.Header.Get("N") != b.Header.Get("N")) {
			t.Fatalf("seq %d differs", seq)
		}
	}
}

// A snapshot taken from natsctl restores into nats-server 2.15, with
// the same sequences (gaps left by per-subject limits and deletes), times
// and headers.
func TestSnapshot_OursIntoNatsServer(t *testing.T) {
	s, _ := runEngine(t, Config{})
	nc, js := connectJS(t, s)
	ctx := ctxT(t)
	st := mustCreate(t, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.*"}, MaxMsgsPerSubject: 2})
	for i := range 50 {
		m := nats.NewMsg(fmt.Sprintf("s.%d", i%4))
		m.Data = []byte(fmt.Sprint(i))
		m.Header.Set("N", fmt.Sprint(i))
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.DeleteMsg(ctx, 50); err != nil {
		t.Fatal(err)
	}
	info, _ := st.Info(ctx)
	data, status := snapshotVia(t, nc, "S", 0)
	if status != "204" && status != "" {
		t.Fatalf("status %q", status)
	}
	cfg, _ := json.Marshal(info.Config)

	nnc, njs := natsServerJS(t)
	final := restoreVia(t, nnc, "S", cfg, data, info.State)
	if strings.Contains(string(final), `"error"`) {
		t.Fatalf("nats-server restore: %s", final)
	}
	nst, err := njs.Stream(ctx, "S")
	if err != nil {
		t.Fatal(err)
	}
	ni := nst.CachedInfo()
	if ni.State.Msgs != info.State.Msgs || ni.State.FirstSeq != info.State.FirstSeq || ni.State.LastSeq != info.State.LastSeq {
		t.Fatalf("nats-server state %+v, want %+v", ni.State, info.State)
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		a, errA := st.GetMsg(ctx, seq)
		b, errB := nst.GetMsg(ctx, seq)
		if (errA == nil) != (errB == nil) {
			t.Fatalf("seq %d: %v / %v", seq, errA, errB)
		}
		if errA == nil && (a.Subject != b.Subject || !bytes.Equal(a.Data, b.Data) || !a.Time.Equal(b.Time) || a.Header.Get("N") != b.Header.Get("N")) {
			t.Fatalf("seq %d differs", seq)
		}
	}
}

// Data in no format natsctl knows is refused, saying what to do, and
// leaves no stream behind.
func TestSnapshot_UnknownFormatRefused(t *testing.T) {
	s, _ := runEngine(t, Config{})
	nc, js := connectJS(t, s)
	var buf bytes.Buffer
	zw := s2.NewWriter(&buf)
	zw.Write([]byte("some tar file"))
	zw.Close()
	cfg, _ := json.Marshal(StreamConfig{Name: "S", Subjects: []string{"s"}})
	final := restoreVia(t, nc, "S", cfg, buf.Bytes())
	if !strings.Contains(string(final), "natsctl stream backup") {
		t.Fatalf("restore: %s", final)
	}
	if _, err := js.Stream(ctxT(t), "S"); err == nil {
		t.Fatal("a failed restore left a stream")
	}
}

// With a window of one chunk and a client that never acks, exactly one
// chunk is sent, then the snapshot ends with 408 No Flow Response.
func TestSnapshot_FlowControlWindow(t *testing.T) {
	s, _ := runEngine(t, Config{})
	nc, js := connectJS(t, s)
	mustCreate(t, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s"}})
	for i := range 100 {
		if _, err := js.Publish(ctxT(t), "s", bytes.Repeat([]byte{byte(i)}, 500)); err != nil {
			t.Fatal(err)
		}
	}
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := json.Marshal(map[string]any{"deliver_subject": inbox, "chunk_size": 1024, "window_size": 1024})
	if _, err := nc.Request("$JS.API.STREAM.SNAPSHOT.S", req, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	chunks := 0
	for {
		m, err := sub.NextMsg(15 * time.Second)
		if err != nil {
			t.Fatalf("after %d chunks: %v", chunks, err)
		}
		if len(m.Data) == 0 {
			if st := m.Header.Get("Status"); st != "408" || chunks != 1 {
				t.Fatalf("end status %q after %d chunks, want 408 after 1", st, chunks)
			}
			return
		}
		chunks++
	}
}

// A restore and a snapshot in progress do not hold up shutdown, and the
// half-received restore leaves nothing in the store directory.
func TestSnapshot_ShutdownDuringTransfers(t *testing.T) {
	dir := t.TempDir()
	s, _ := runEngine(t, Config{StoreDir: dir})
	nc, js := connectJS(t, s)
	mustCreate(t, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s"}})
	for range 100 {
		js.Publish(ctxT(t), "s", make([]byte, 1000))
	}
	// A snapshot whose client never acks (window of one chunk).
	inbox := nats.NewInbox()
	sub, _ := nc.SubscribeSync(inbox)
	req, _ := json.Marshal(map[string]any{"deliver_subject": inbox, "chunk_size": 1024, "window_size": 1024})
	if _, err := nc.Request("$JS.API.STREAM.SNAPSHOT.S", req, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := sub.NextMsg(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	// A restore that got one chunk.
	cfg, _ := json.Marshal(StreamConfig{Name: "R", Subjects: []string{"r"}})
	rreq, _ := json.Marshal(map[string]any{"config": json.RawMessage(cfg)})
	resp, err := nc.Request("$JS.API.STREAM.RESTORE.R", rreq, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Deliver string `json:"deliver_subject"`
	}
	json.Unmarshal(resp.Data, &r)
	var buf bytes.Buffer
	zw := s2.NewWriter(&buf)
	zw.Write([]byte("NATSARC1"))
	zw.Close()
	if _, err := nc.Request(r.Deliver, buf.Bytes(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with transfers in progress: %v", err)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "streams"))
	for _, e := range ents {
		if e.Name() != "S" {
			t.Fatalf("left in the store directory: %s", e.Name())
		}
	}
}
