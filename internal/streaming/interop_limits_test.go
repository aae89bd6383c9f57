package streaming

import (
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func publishN(t *testing.T, js jetstream.JetStream, subj string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := js.Publish(ctxT(t), subj, []byte(strconv.Itoa(i))); err != nil {
			t.Fatalf("publish %s #%d: %v", subj, i, err)
		}
	}
}

func streamState(t *testing.T, js jetstream.JetStream, name string) jetstream.StreamState {
	t.Helper()
	st, err := js.Stream(ctxT(t), name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	return st.CachedInfo().State
}

func TestInterop_Limits(t *testing.T) {
	s, _ := runEngine(t, Config{})
	_, js := connectJS(t, s)
	ctx := ctxT(t)

	t.Run("max_msgs keeps the newest", func(t *testing.T) {
		st := mustCreate(t, js, jetstream.StreamConfig{Name: "MM", Subjects: []string{"mm"}, MaxMsgs: 5})
		publishN(t, js, "mm", 12)
		if s := streamState(t, js, "MM"); s.Msgs != 5 || s.FirstSeq != 8 || s.LastSeq != 12 {
			t.Fatalf("state %+v", s)
		}
		m, err := st.GetMsg(ctx, 8)
		if err != nil || string(m.Data) != "7" {
			t.Fatalf("oldest kept: %v %v", m, err)
		}
	})
	t.Run("max_msgs_per_subject keeps the last per subject", func(t *testing.T) {
		st := mustCreate(t, js, jetstream.StreamConfig{Name: "PS", Subjects: []string{"ps.*"}, MaxMsgsPerSubject: 1})
		for i, subj := range []string{"ps.a", "ps.b", "ps.a", "ps.c", "ps.b", "ps.a"} {
			if _, err := js.Publish(ctx, subj, []byte(strconv.Itoa(i))); err != nil {
				t.Fatal(err)
			}
		}
		if s := streamState(t, js, "PS"); s.Msgs != 3 {
			t.Fatalf("state %+v", s)
		}
		m, err := st.GetLastMsgForSubject(ctx, "ps.a")
		if err != nil || string(m.Data) != "5" {
			t.Fatalf("last ps.a: %v %v", m, err)
		}
	})
	t.Run("max_bytes", func(t *testing.T) {
		mustCreate(t, js, jetstream.StreamConfig{Name: "MB", Subjects: []string{"mb"}, MaxBytes: 100})
		for i := 0; i < 20; i++ {
			if _, err := js.Publish(ctx, "mb", make([]byte, 20)); err != nil {
				t.Fatal(err)
			}
		}
		if s := streamState(t, js, "MB"); s.Bytes > 100 || s.Msgs == 0 || s.LastSeq != 20 {
			t.Fatalf("state %+v", s)
		}
	})
	t.Run("max_age expires", func(t *testing.T) {
		mustCreate(t, js, jetstream.StreamConfig{Name: "AGE", Subjects: []string{"age"}, MaxAge: 200 * time.Millisecond})
		publishN(t, js, "age", 3)
		deadline := time.Now().Add(10 * time.Second)
		for streamState(t, js, "AGE").Msgs != 0 {
			if time.Now().After(deadline) {
				t.Fatal("messages did not expire")
			}
			time.Sleep(20 * time.Millisecond) // polling a condition, with a deadline
		}
	})
	t.Run("max_msg_size", func(t *testing.T) {
		mustCreate(t, js, jetstream.StreamConfig{Name: "SZ", Subjects: []string{"sz"}, MaxMsgSize: 10})
		_, err := js.Publish(ctx, "sz", make([]byte, 11))
		wantPubErr(t, err, 10054)
	})
	t.Run("discard new refuses", func(t *testing.T) {
		mustCreate(t, js, jetstream.StreamConfig{Name: "DN", Subjects: []string{"dn"}, MaxMsgs: 3, Discard: jetstream.DiscardNew})
		publishN(t, js, "dn", 3)
		_, err := js.Publish(ctx, "dn", nil)
		wantPubErr(t, err, 10077)
		if s := streamState(t, js, "DN"); s.Msgs != 3 || s.LastSeq != 3 {
			t.Fatalf("state %+v", s)
		}
		// 73 bytes each as nats-server's file store counts them.
		mustCreate(t, js, jetstream.StreamConfig{Name: "DNB", Subjects: []string{"dnb"}, MaxBytes: 100, Discard: jetstream.DiscardNew})
		if _, err := js.Publish(ctx, "dnb", make([]byte, 40)); err != nil {
			t.Fatal(err)
		}
		_, err = js.Publish(ctx, "dnb", make([]byte, 40))
		wantPubErr(t, err, 10077)
	})
	t.Run("discard new per subject", func(t *testing.T) {
		mustCreate(t, js, jetstream.StreamConfig{Name: "DNS", Subjects: []string{"dns.*"}, MaxMsgsPerSubject: 1,
			Discard: jetstream.DiscardNew, DiscardNewPerSubject: true})
		if _, err := js.Publish(ctx, "dns.a", nil); err != nil {
			t.Fatal(err)
		}
		_, err := js.Publish(ctx, "dns.a", nil)
		wantPubErr(t, err, 10077)
		if _, err := js.Publish(ctx, "dns.b", nil); err != nil {
			t.Fatalf("other subject: %v", err)
		}
	})
	t.Run("sealed, deny delete, deny purge", func(t *testing.T) {
		cfg := jetstream.StreamConfig{Name: "SEAL", Subjects: []string{"seal"}, DenyDelete: true, DenyPurge: true}
		st := mustCreate(t, js, cfg)
		publishN(t, js, "seal", 2)
		if err := st.DeleteMsg(ctx, 1); err == nil {
			t.Fatal("delete allowed with deny_delete")
		}
		if err := st.Purge(ctx); err == nil {
			t.Fatal("purge allowed with deny_purge")
		}
		cfg.Sealed = true
		if _, err := js.UpdateStream(ctx, cfg); err != nil {
			t.Fatalf("seal: %v", err)
		}
		_, err := js.Publish(ctx, "seal", nil)
		wantPubErr(t, err, 10109)
	})
	t.Run("workqueue and interest retention", func(t *testing.T) {
		mustCreate(t, js, jetstream.StreamConfig{Name: "WQ", Subjects: []string{"wq"}, Retention: jetstream.WorkQueuePolicy})
		publishN(t, js, "wq", 3)
		if s := streamState(t, js, "WQ"); s.Msgs != 3 {
			t.Fatalf("workqueue keeps messages until consumed: %+v", s)
		}
		mustCreate(t, js, jetstream.StreamConfig{Name: "IN", Subjects: []string{"in"}, Retention: jetstream.InterestPolicy})
		publishN(t, js, "in", 3)
		if s := streamState(t, js, "IN"); s.Msgs != 0 || s.LastSeq != 3 {
			t.Fatalf("interest without consumers keeps nothing: %+v", s)
		}
	})
}

func TestInterop_PurgeGetDelete(t *testing.T) {
	s, _ := runEngine(t, Config{})
	nc, js := connectJS(t, s)
	ctx := ctxT(t)
	st := mustCreate(t, js, jetstream.StreamConfig{Name: "G", Subjects: []string{"g.*"}, AllowDirect: true})
	// seq: 1 g.a, 2 g.b, 3 g.a, 4 g.b, ... 10 g.b
	for i := 1; i <= 10; i++ {
		subj := "g.a"
		if i%2 == 0 {
			subj = "g.b"
		}
		m := nats.NewMsg(subj)
		m.Data = []byte("m" + strconv.Itoa(i))
		m.Header.Set("X-Seq", strconv.Itoa(i))
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	// Get by sequence, last by subject, next by subject.
	m, err := st.GetMsg(ctx, 3)
	if err != nil || string(m.Data) != "m3" || m.Subject != "g.a" || m.Header.Get("X-Seq") != "3" {
		t.Fatalf("get 3: %+v %v", m, err)
	}
	m, err = st.GetLastMsgForSubject(ctx, "g.a")
	if err != nil || m.Sequence != 9 {
		t.Fatalf("last g.a: %+v %v", m, err)
	}
	m, err = st.GetMsg(ctx, 4, jetstream.WithGetMsgSubject("g.a"))
	if err != nil || m.Sequence != 5 {
		t.Fatalf("next g.a from 4: %+v %v", m, err)
	}
	if _, err := st.GetMsg(ctx, 99); !errors.Is(err, jetstream.ErrMsgNotFound) {
		t.Fatalf("get missing: %v", err)
	}
	// Direct get, both forms.
	dm, err := js.Stream(ctx, "G")
	if err != nil {
		t.Fatal(err)
	}
	if !dm.CachedInfo().Config.AllowDirect {
		t.Fatal("allow_direct not echoed")
	}
	msg, err := dm.GetLastMsgForSubject(ctx, "g.b") // uses DIRECT.GET.G.g.b
	if err != nil || msg.Sequence != 10 || string(msg.Data) != "m10" || msg.Header.Get("X-Seq") != "10" {
		t.Fatalf("direct last: %+v %v", msg, err)
	}
	raw, err := nc.Request("$JS.API.DIRECT.GET.G", []byte(`{"seq":2}`), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	h := raw.Header
	if h.Get("Nats-Stream") != "G" || h.Get("Nats-Sequence") != "2" || h.Get("Nats-Subject") != "g.b" ||
		h.Get("X-Seq") != "2" || string(raw.Data) != "m2" {
		t.Fatalf("direct get headers %v data %q", h, raw.Data)
	}
	if _, err := time.Parse(time.RFC3339Nano, h.Get("Nats-Time-Stamp")); err != nil {
		t.Fatalf("Nats-Time-Stamp %q: %v", h.Get("Nats-Time-Stamp"), err)
	}
	raw, err = nc.Request("$JS.API.DIRECT.GET.G", []byte(`{"seq":99}`), 5*time.Second)
	if err != nil || raw.Header.Get("Status") != "404" {
		t.Fatalf("direct get missing: %v %v", raw.Header, err)
	}
	raw, err = nc.Request("$JS.API.DIRECT.GET.G.g.a", []byte(`{"seq":1}`), 5*time.Second)
	if err != nil || raw.Header.Get("Status") != "408" {
		t.Fatalf("direct get with body on subject form: %v %v", raw.Header, err)
	}
	// Delete a message, with and without erase.
	if err := st.DeleteMsg(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if err := st.SecureDeleteMsg(ctx, 4); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteMsg(ctx, 4); err == nil {
		t.Fatal("deleting a deleted message succeeded")
	}
	if _, err := st.GetMsg(ctx, 2); !errors.Is(err, jetstream.ErrMsgNotFound) {
		t.Fatalf("get deleted: %v", err)
	}
	info, err := st.Info(ctx, jetstream.WithDeletedDetails(true), jetstream.WithSubjectFilter("g.*"))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(info.State.Deleted) != "[2 4]" || info.State.Subjects["g.a"] != 5 || info.State.Subjects["g.b"] != 3 {
		t.Fatalf("info deleted %v subjects %v", info.State.Deleted, info.State.Subjects)
	}
	// Purge with filter and keep.
	if err := st.Purge(ctx, jetstream.WithPurgeSubject("g.a"), jetstream.WithPurgeKeep(2)); err != nil {
		t.Fatal(err)
	}
	info, _ = st.Info(ctx, jetstream.WithSubjectFilter("g.a"))
	if info.State.Subjects["g.a"] != 2 {
		t.Fatalf("after purge keep: %v", info.State.Subjects)
	}
	if err := st.Purge(ctx, jetstream.WithPurgeSubject("g.b")); err != nil {
		t.Fatal(err)
	}
	info, _ = st.Info(ctx)
	if info.State.Msgs != 2 {
		t.Fatalf("after purge filter: %+v", info.State)
	}
	if err := st.Purge(ctx, jetstream.WithPurgeSequence(9)); err != nil {
		t.Fatal(err)
	}
	info, _ = st.Info(ctx)
	if info.State.Msgs != 1 || info.State.FirstSeq != 9 {
		t.Fatalf("after purge seq: %+v", info.State)
	}
}

func TestInterop_ListPagination(t *testing.T) {
	s, _ := runEngine(t, Config{})
	_, js := connectJS(t, s)
	ctx := ctxT(t)
	const n = listPageLimit + 20
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("S%04d", i)
		mustCreate(t, js, jetstream.StreamConfig{Name: name, Subjects: []string{"page." + name}, Storage: jetstream.MemoryStorage})
	}
	lister := js.ListStreams(ctx)
	var got int
	for range lister.Info() {
		got++
	}
	if lister.Err() != nil || got != n {
		t.Fatalf("listed %d of %d: %v", got, n, lister.Err())
	}
	names := js.StreamNames(ctx, jetstream.WithStreamListSubject("page.>"))
	got = 0
	for range names.Name() {
		got++
	}
	if names.Err() != nil || got != n {
		t.Fatalf("names %d of %d: %v", got, n, names.Err())
	}
}

// TestInterop_EmptyStreamFirstSeq: `nats stream info` on a new stream shows
// First Sequence 0 on nats-server; once messages came and went it is the
// next sequence.
func TestInterop_EmptyStreamFirstSeq(t *testing.T) {
	bothServers(t, func(t *testing.T, js jetstream.JetStream) {
		for _, storage := range []jetstream.StorageType{jetstream.FileStorage, jetstream.MemoryStorage} {
			name := "E" + storage.String()
			st := mustCreate(t, js, jetstream.StreamConfig{Name: name, Subjects: []string{name}, Storage: storage})
			if s := st.CachedInfo().State; s.FirstSeq != 0 || s.LastSeq != 0 {
				t.Fatalf("%s created: first %d last %d", storage, s.FirstSeq, s.LastSeq)
			}
			if s := streamState(t, js, name); s.FirstSeq != 0 || s.LastSeq != 0 {
				t.Fatalf("%s info: first %d last %d", storage, s.FirstSeq, s.LastSeq)
			}
			publishN(t, js, name, 2)
			if err := st.Purge(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			if s := streamState(t, js, name); s.FirstSeq != 3 || s.LastSeq != 2 || s.Msgs != 0 {
				t.Fatalf("%s purged: %+v", storage, s)
			}
		}
	})
}

// TestInterop_BytesCountLikeNatsServer: stream bytes, and so max_bytes, count
// what nats-server counts (its record: 30 bytes more per message in a file
// store, 34 with headers; 16 more in memory), so the same limits keep the
// same messages and stream info shows the same bytes on both servers.
func TestInterop_BytesCountLikeNatsServer(t *testing.T) {
	bothServers(t, func(t *testing.T, js jetstream.JetStream) {
		ctx := ctxT(t)
		for _, tc := range []struct {
			storage           jetstream.StorageType
			perMsg, perHdrMsg uint64
		}{{jetstream.FileStorage, 30, 34}, {jetstream.MemoryStorage, 16, 16}} {
			name := "BYTES_" + tc.storage.String()
			mustCreate(t, js, jetstream.StreamConfig{Name: name, Subjects: []string{name}, Storage: tc.storage})
			if _, err := js.Publish(ctx, name, []byte("hello")); err != nil {
				t.Fatal(err)
			}
			m := &nats.Msg{Subject: name, Header: nats.Header{"K": {"v"}}, Data: []byte("world")}
			if _, err := js.PublishMsg(ctx, m); err != nil {
				t.Fatal(err)
			}
			hdrLen := uint64(len("NATS/1.0\r\nK: v\r\n\r\n"))
			want := uint64(len(name)+5) + tc.perMsg + uint64(len(name)+5) + hdrLen + tc.perHdrMsg
			if got := streamState(t, js, name).Bytes; got != want {
				t.Errorf("%s: bytes %d, want %d", name, got, want)
			}

			// max_bytes with discard new: room for exactly two 10-byte messages.
			full := name + "_FULL"
			one := uint64(len(full)+10) + tc.perMsg
			mustCreate(t, js, jetstream.StreamConfig{Name: full, Subjects: []string{full}, Storage: tc.storage,
				MaxBytes: int64(2 * one), Discard: jetstream.DiscardNew})
			for i := range 2 {
				if _, err := js.Publish(ctx, full, make([]byte, 10)); err != nil {
					t.Fatalf("%s: message %d of 2: %v", full, i+1, err)
				}
			}
			_, err := js.Publish(ctx, full, make([]byte, 10))
			wantPubErr(t, err, 10077)
		}
	})
}
