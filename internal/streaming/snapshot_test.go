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

	"github.com/natsctl/natsctl/internal/natsservertest"
)

// snapshotVia runs the client side of $JS.API.STREAM.SNAPSHOT as natscli
// does: subscribe after the reply, ack every chunk, stop at the empty
// message. It returns the bytes and the final status.
func snapshotVia(t *testing.T, nc *nats.Conn, stream string, chunk int) ([]byte, string) {
	t.Helper()
	inbox := nats.NewInbox()
	req, _ := json.Marshal(map[string]any{"deliver_subject": inbox, "no_consumers": true, "chunk_size": chunk})
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
func restoreVia(t *testing.T, nc *nats.Conn, stream string, cfg json.RawMessage, data []byte) []byte {
	t.Helper()
	req, _ := json.Marshal(map[string]any{"config": cfg, "state": map[string]any{}})
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

// A nats-server snapshot (its own file-store blocks) is refused with an
// error that says what to do instead.
func TestSnapshot_NatsServerSnapshotRefused(t *testing.T) {
	p := natsservertest.Start(t, "-js", "-sd", t.TempDir())
	nnc, err := nats.Connect(p.ClientURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nnc.Close()
	njs, _ := jetstream.New(nnc)
	nst := mustCreate(t, njs, jetstream.StreamConfig{Name: "S", Subjects: []string{"s"}})
	njs.Publish(ctxT(t), "s", []byte("x"))
	data, status := snapshotVia(t, nnc, "S", 0)
	// (nats-server ends a snapshot that fits one chunk without a status.)
	if status != "204" && status != "" || len(data) == 0 {
		t.Fatalf("nats-server snapshot status %q, %d bytes", status, len(data))
	}
	cfg, _ := json.Marshal(nst.CachedInfo().Config)
	s, _ := runEngine(t, Config{})
	nc, js := connectJS(t, s)
	final := restoreVia(t, nc, "S", cfg, data)
	if !strings.Contains(string(final), "natsctl stream backup") {
		t.Fatalf("restore of a nats-server snapshot: %s", final)
	}
	if _, err := js.Stream(ctxT(t), "S"); err == nil {
		t.Fatal("a failed restore left a stream")
	}
}
