package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natsctl/natsctl/internal/natsservertest"
	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
	"github.com/natsctl/natsctl/internal/streaming"
)

func natsJSFor(t *testing.T, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func startOurs(t *testing.T) string {
	return servertest.Run(t, func(o *server.Options) { o.Engine = streaming.New(streaming.Config{StoreDir: t.TempDir()}) }).ClientURL()
}

func startNatsServer(t *testing.T) string {
	return natsservertest.Start(t, "-js", "-sd", filepath.Join(t.TempDir(), "js")).ClientURL
}

// fillOrders makes a stream with every shape a restore must keep: a first
// sequence above 1, deleted messages in the middle and at the end,
// headers (including a Nats-Expected-* precondition), empty payloads, a
// config with deny_delete set after the fact.
func fillOrders(t *testing.T, js jetstream.JetStream) {
	ctx := ctxFor(t)
	cfg := jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}, MaxMsgsPerSubject: 5, AllowRollup: true}
	st, err := js.CreateStream(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 20; i++ {
		m := nats.NewMsg(fmt.Sprintf("orders.%d", i%4))
		m.Data = []byte(fmt.Sprintf("order %d", i))
		if i%3 == 0 {
			m.Header.Set("Trace", fmt.Sprint(i))
			m.Header.Add("Trace", "second value")
			m.Data = nil
		}
		if i == 5 {
			m.Header.Set("Nats-Expected-Last-Sequence", "4")
		}
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	if err := st.Purge(ctx, jetstream.WithPurgeSequence(3)); err != nil {
		t.Fatal(err)
	}
	for _, seq := range []uint64{7, 10, 20} {
		if err := st.DeleteMsg(ctx, seq); err != nil {
			t.Fatalf("delete %d: %v", seq, err)
		}
	}
	cfg.DenyDelete = true
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
}

// sameStream checks that stream name holds the same messages (sequence,
// subject, headers, data) and state on both sides.
func sameStream(t *testing.T, name string, a, b jetstream.JetStream) {
	t.Helper()
	ctx := ctxFor(t)
	sa, err := a.Stream(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := b.Stream(ctx, name)
	if err != nil {
		t.Fatalf("restored stream: %v", err)
	}
	ia, ib := sa.CachedInfo(), sb.CachedInfo()
	if ia.State.Msgs != ib.State.Msgs || ia.State.FirstSeq != ib.State.FirstSeq || ia.State.LastSeq != ib.State.LastSeq || ia.State.NumDeleted != ib.State.NumDeleted {
		t.Fatalf("state differs:\n  %+v\n  %+v", ia.State, ib.State)
	}
	if ia.Config.DenyDelete != ib.Config.DenyDelete || ia.Config.MaxMsgsPerSubject != ib.Config.MaxMsgsPerSubject || !reflect.DeepEqual(ia.Config.Subjects, ib.Config.Subjects) {
		t.Fatalf("config differs:\n  %+v\n  %+v", ia.Config, ib.Config)
	}
	if ia.State.Msgs == 0 {
		t.Fatal("test stream is empty: nothing compared")
	}
	for seq := ia.State.FirstSeq; seq <= ia.State.LastSeq; seq++ {
		ma, errA := sa.GetMsg(ctx, seq)
		mb, errB := sb.GetMsg(ctx, seq)
		if errA != nil || errB != nil {
			if !errors.Is(errA, jetstream.ErrMsgNotFound) || !errors.Is(errB, jetstream.ErrMsgNotFound) {
				t.Fatalf("seq %d: %v / %v", seq, errA, errB)
			}
			continue
		}
		// Preconditions are not carried over; a republished message gets
		// a new time (direct gets report it as a header).
		for _, h := range []nats.Header{ma.Header, mb.Header} {
			for k := range h {
				if strings.HasPrefix(k, "Nats-Expected-") || k == "Nats-Time-Stamp" {
					delete(h, k)
				}
			}
		}
		if len(ma.Header) == 0 && len(mb.Header) == 0 {
			ma.Header, mb.Header = nil, nil
		}
		if ma.Subject != mb.Subject || string(ma.Data) != string(mb.Data) || !reflect.DeepEqual(ma.Header, mb.Header) {
			t.Fatalf("seq %d differs:\n  %s %q %v\n  %s %q %v", seq, ma.Subject, ma.Data, ma.Header, mb.Subject, mb.Data, mb.Header)
		}
	}
}

func backupRestore(t *testing.T, name, from, to string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), name+".backup")
	if _, errOut, err := natsctlRun(t, "stream", "backup", name, file, "-s", from); err != nil {
		t.Fatalf("backup: %v\n%s", err, errOut)
	}
	if _, errOut, err := natsctlRun(t, "stream", "restore", file, "-s", to); err != nil {
		t.Fatalf("restore: %v\n%s", err, errOut)
	}
}

func TestStreamBackup_NatsServerToOursAndBack(t *testing.T) {
	nsrv, ours, back := startNatsServer(t), startOurs(t), startNatsServer(t)
	jsN, jsO, jsB := natsJSFor(t, nsrv), natsJSFor(t, ours), natsJSFor(t, back)
	fillOrders(t, jsN)
	backupRestore(t, "ORDERS", nsrv, ours)
	sameStream(t, "ORDERS", jsN, jsO)
	backupRestore(t, "ORDERS", ours, back)
	sameStream(t, "ORDERS", jsO, jsB)
	// Restoring over an existing stream is refused.
	file := filepath.Join(t.TempDir(), "again")
	if _, _, err := natsctlRun(t, "stream", "backup", "ORDERS", file, "-s", ours); err != nil {
		t.Fatal(err)
	}
	if _, _, err := natsctlRun(t, "stream", "restore", file, "-s", ours); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("restore over an existing stream: %v", err)
	}
}

func TestStreamBackup_KVBucket(t *testing.T) {
	nsrv, ours := startNatsServer(t), startOurs(t)
	jsN, jsO := natsJSFor(t, nsrv), natsJSFor(t, ours)
	ctx := ctxFor(t)
	kv, err := jsN.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "cfg", History: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := kv.PutString(ctx, fmt.Sprintf("k%d", i%3), fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := kv.Create(ctx, "new", []byte("created")); err != nil {
		t.Fatal(err)
	}
	if err := kv.Delete(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	backupRestore(t, "KV_cfg", nsrv, ours)
	sameStream(t, "KV_cfg", jsN, jsO)
	restored, err := jsO.KeyValue(ctx, "cfg")
	if err != nil {
		t.Fatal(err)
	}
	if e, err := restored.Get(ctx, "k0"); err != nil || string(e.Value()) != "9" {
		t.Fatalf("restored k0: %v", err)
	}
	if _, err := restored.Get(ctx, "k1"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("restored deleted key: %v", err)
	}
	// The revision counter continues where it was.
	e, _ := kv.Get(ctx, "new")
	if _, err := restored.Update(ctx, "new", []byte("v2"), e.Revision()); err != nil {
		t.Fatalf("update with the original revision: %v", err)
	}
}
