package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natsctl/natsctl/internal/iostreams"
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

// A stream on one literal subject (placeholders share it, so each is
// deleted on its own) that was sealed, in memory.
func TestStreamBackup_LiteralSubjectSealedMemory(t *testing.T) {
	for _, dir := range []struct{ name, from, to string }{
		{"nats-server to natsctl", startNatsServer(t), startOurs(t)},
		{"natsctl to nats-server", startOurs(t), startNatsServer(t)},
	} {
		t.Run(dir.name, func(t *testing.T) {
			src, dst := natsJSFor(t, dir.from), natsJSFor(t, dir.to)
			ctx := ctxFor(t)
			cfg := jetstream.StreamConfig{Name: "ONE", Subjects: []string{"one"}, Storage: jetstream.MemoryStorage}
			st, err := src.CreateStream(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 10 {
				if _, err := src.Publish(ctx, "one", []byte(fmt.Sprint(i))); err != nil {
					t.Fatal(err)
				}
			}
			for _, seq := range []uint64{2, 3, 6} {
				if err := st.DeleteMsg(ctx, seq); err != nil {
					t.Fatal(err)
				}
			}
			cfg.Sealed = true
			if _, err := src.UpdateStream(ctx, cfg); err != nil {
				t.Fatal(err)
			}
			backupRestore(t, "ONE", dir.from, dir.to)
			sameStream(t, "ONE", src, dst)
			rst, _ := dst.Stream(ctx, "ONE")
			if c := rst.CachedInfo().Config; !c.Sealed || c.Storage != jetstream.MemoryStorage {
				t.Fatalf("restored config: sealed %v storage %v", c.Sealed, c.Storage)
			}
		})
	}
}

// natsSnapshotDir saves a stream the way natscli's `nats stream backup`
// does: the SNAPSHOT reply's config and state in backup.json, the chunks
// in stream.arc.s2.
func natsSnapshotDir(t *testing.T, url, stream string) string {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := json.Marshal(map[string]any{"deliver_subject": inbox, "no_consumers": true})
	resp, err := nc.Request("$JS.API.STREAM.SNAPSHOT."+stream, req, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Config json.RawMessage `json:"config"`
		State  json.RawMessage `json:"state"`
	}
	if err := json.Unmarshal(resp.Data, &meta); err != nil || len(meta.Config) == 0 {
		t.Fatalf("snapshot reply %s", resp.Data)
	}
	var data []byte
	for {
		m, err := sub.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Data) == 0 {
			break
		}
		data = append(data, m.Data...)
		if m.Reply != "" {
			m.Respond(nil)
		}
	}
	dir := t.TempDir()
	mj, _ := json.Marshal(meta)
	if err := os.WriteFile(filepath.Join(dir, "backup.json"), mj, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "stream.arc.s2"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// A natscli backup directory of a nats-server 2.15 stream restores through
// `natsctl stream restore DIR` into natsctl, and one of a natsctl stream
// into nats-server.
func TestStreamRestore_NatscliBackupDirectory(t *testing.T) {
	nsrv, ours, back := startNatsServer(t), startOurs(t), startNatsServer(t)
	jsN, jsO, jsB := natsJSFor(t, nsrv), natsJSFor(t, ours), natsJSFor(t, back)
	fillOrders(t, jsN)
	dir := natsSnapshotDir(t, nsrv, "ORDERS")
	if _, errOut, err := natsctlRun(t, "stream", "restore", dir, "-s", ours); err != nil {
		t.Fatalf("restore: %v\n%s", err, errOut)
	}
	sameStream(t, "ORDERS", jsN, jsO)
	dir = natsSnapshotDir(t, ours, "ORDERS")
	if _, errOut, err := natsctlRun(t, "stream", "restore", dir, "-s", back); err != nil {
		t.Fatalf("restore: %v\n%s", err, errOut)
	}
	sameStream(t, "ORDERS", jsO, jsB)
	// A directory without backup.json is not mistaken for one.
	if _, _, err := natsctlRun(t, "stream", "restore", t.TempDir(), "-s", ours); err == nil || !strings.Contains(err.Error(), "not a natscli backup directory") {
		t.Fatalf("restore of an empty directory: %v", err)
	}
}

// Backup to standard output and restore from standard input (a pipe
// between two servers).
func TestStreamBackup_StdoutStdin(t *testing.T) {
	from, to := startNatsServer(t), startOurs(t)
	jsF, jsT := natsJSFor(t, from), natsJSFor(t, to)
	fillOrders(t, jsF)
	run := func(ios *iostreams.IOStreams, args ...string) {
		t.Helper()
		root := newRootCmd(newDeps(ios))
		root.SetArgs(args)
		if err := root.ExecuteContext(context.Background()); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	ios, _, out, _ := iostreams.Test()
	run(ios, "stream", "backup", "ORDERS", "-", "-s", from)
	ios2, in, _, errOut := iostreams.Test()
	in.Write(out.Bytes())
	run(ios2, "stream", "restore", "-", "-s", to)
	if !strings.Contains(errOut.String(), "restored") {
		t.Fatalf("restore said %q", errOut.String())
	}
	sameStream(t, "ORDERS", jsF, jsT)
}

func TestStreamBackup_JSONSummary(t *testing.T) {
	url := startOurs(t)
	js := natsJSFor(t, url)
	if _, err := js.CreateStream(ctxFor(t), jetstream.StreamConfig{Name: "J", Subjects: []string{"j"}}); err != nil {
		t.Fatal(err)
	}
	js.Publish(ctxFor(t), "j", []byte("x"))
	file := filepath.Join(t.TempDir(), "j.backup")
	out, _, err := natsctlRun(t, "stream", "backup", "J", file, "--json", "-s", url)
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Stream   string `json:"stream"`
		Messages uint64 `json:"messages"`
		LastSeq  uint64 `json:"last_seq"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.Stream != "J" || sum.Messages != 1 || sum.LastSeq != 1 {
		t.Fatalf("summary %q: %v", out, err)
	}
}
