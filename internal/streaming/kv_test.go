package streaming

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// bothServers runs f against our engine and against nats-server, so each
// expectation is checked on the reference too.
func bothServers(t *testing.T, f func(t *testing.T, js jetstream.JetStream)) {
	t.Run("natsctl", func(t *testing.T) {
		s, _ := runEngine(t, Config{})
		_, js := connectJS(t, s)
		f(t, js)
	})
	t.Run("nats-server", func(t *testing.T) {
		_, js := natsServerJS(t)
		f(t, js)
	})
}

// KV through nats.go's jetstream.KeyValue (ADR-8, NATS-NOTES 1.8).

func TestKV_PutGetCreateUpdate(t *testing.T) { bothServers(t, testPutGetCreateUpdate) }

func testPutGetCreateUpdate(t *testing.T, js jetstream.JetStream) {
	ctx := ctxT(t)
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "cfg", History: 5, TTL: time.Hour, MaxValueSize: 1024, Storage: jetstream.FileStorage})
	if err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	r1, err := kv.Put(ctx, "a.b", []byte("one"))
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	e, err := kv.Get(ctx, "a.b")
	if err != nil || string(e.Value()) != "one" || e.Revision() != r1 || e.Operation() != jetstream.KeyValuePut || e.Key() != "a.b" {
		t.Fatalf("get: %v %+v", err, e)
	}
	if e.Created().IsZero() {
		t.Fatal("entry without creation time")
	}
	if _, err := kv.Create(ctx, "a.b", []byte("x")); !errors.Is(err, jetstream.ErrKeyExists) {
		t.Fatalf("create over existing key: %v, want ErrKeyExists", err)
	}
	r2, err := kv.Update(ctx, "a.b", []byte("two"), r1)
	if err != nil || r2 <= r1 {
		t.Fatalf("update: %v rev %d", err, r2)
	}
	if _, err := kv.Update(ctx, "a.b", []byte("three"), r1); err == nil {
		t.Fatal("update with a stale revision succeeded")
	}
	if e, _ := kv.Get(ctx, "a.b"); string(e.Value()) != "two" {
		t.Fatalf("value after failed update: %q", e.Value())
	}
	if e, err := kv.GetRevision(ctx, "a.b", r1); err != nil || string(e.Value()) != "one" {
		t.Fatalf("get revision: %v", err)
	}
	if _, err := kv.Get(ctx, "nope"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("get missing: %v", err)
	}
	if _, err := kv.Put(ctx, "big", make([]byte, 2048)); err == nil {
		t.Fatal("put over max value size succeeded")
	}
	// Create after delete works: the delete marker is the last entry.
	if err := kv.Delete(ctx, "a.b"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := kv.Get(ctx, "a.b"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("get deleted: %v", err)
	}
	if _, err := kv.Create(ctx, "a.b", []byte("again")); err != nil {
		t.Fatalf("create after delete: %v", err)
	}
	st, err := kv.Status(ctx)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	if st.Bucket() != "cfg" || st.History() != 5 || st.TTL() != time.Hour || st.Values() != 4 || st.BackingStore() != "JetStream" {
		t.Fatalf("status: bucket %q history %d ttl %v values %d", st.Bucket(), st.History(), st.TTL(), st.Values())
	}
}

func TestKV_DeletePurgeKeysHistory(t *testing.T) { bothServers(t, testDeletePurgeKeysHistory) }

func testDeletePurgeKeysHistory(t *testing.T, js jetstream.JetStream) {
	ctx := ctxT(t)
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "h", History: 10})
	if err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	for i := range 3 {
		for _, k := range []string{"x", "y", "z"} {
			if _, err := kv.PutString(ctx, k, fmt.Sprintf("%s%d", k, i)); err != nil {
				t.Fatalf("put: %v", err)
			}
		}
	}
	if err := kv.Delete(ctx, "y"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if err := kv.Purge(ctx, "z"); err != nil {
		t.Fatalf("purge: %v", err)
	}
	keys, err := kv.Keys(ctx)
	if err != nil {
		t.Fatalf("keys: %v", err)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"x"}) {
		t.Fatalf("keys %v, want [x]", keys)
	}
	h, err := kv.History(ctx, "x")
	if err != nil || len(h) != 3 {
		t.Fatalf("history of x: %v, %d entries", err, len(h))
	}
	for i, e := range h {
		if want := fmt.Sprintf("x%d", i); string(e.Value()) != want {
			t.Fatalf("history[%d] = %q, want %q", i, e.Value(), want)
		}
	}
	hy, err := kv.History(ctx, "y")
	if err != nil || len(hy) != 4 || hy[3].Operation() != jetstream.KeyValueDelete {
		t.Fatalf("history of y: %v %d", err, len(hy))
	}
	// Purge keeps only the purge marker.
	hz, err := kv.History(ctx, "z")
	if err != nil || len(hz) != 1 || hz[0].Operation() != jetstream.KeyValuePurge {
		t.Fatalf("history of z: %v %d", err, len(hz))
	}
	if err := kv.PurgeDeletes(ctx, jetstream.DeleteMarkersOlderThan(-1)); err != nil {
		t.Fatalf("purge deletes: %v", err)
	}
	if _, err := kv.History(ctx, "y"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("history of y after purge deletes: %v", err)
	}
	lister := js.KeyValueStoreNames(ctx)
	var names []string
	for n := range lister.Name() {
		names = append(names, n)
	}
	if lister.Error() != nil || !slices.Equal(names, []string{"h"}) {
		t.Fatalf("bucket names %v err %v", names, lister.Error())
	}
	mustCreate(t, js, jetstream.StreamConfig{Name: "PLAIN", Subjects: []string{"plain"}})
	stl := js.KeyValueStores(ctx)
	var n int
	for st := range stl.Status() {
		n++
		if st.Bucket() != "h" {
			t.Fatalf("listed bucket %q", st.Bucket())
		}
	}
	if stl.Error() != nil || n != 1 {
		t.Fatalf("bucket list: %d err %v", n, stl.Error())
	}
	if err := js.DeleteKeyValue(ctx, "h"); err != nil {
		t.Fatalf("delete bucket: %v", err)
	}
	if _, err := js.KeyValue(ctx, "h"); !errors.Is(err, jetstream.ErrBucketNotFound) {
		t.Fatalf("bind deleted bucket: %v", err)
	}
}

func TestKV_Watch(t *testing.T) { bothServers(t, testWatch) }

func testWatch(t *testing.T, js jetstream.JetStream) {
	ctx := ctxT(t)
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "w", History: 5})
	if err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	kv.PutString(ctx, "a", "a1")
	kv.PutString(ctx, "a", "a2")
	kv.PutString(ctx, "b", "b1")

	w, err := kv.WatchAll(ctx)
	if err != nil {
		t.Fatalf("watch all: %v", err)
	}
	defer w.Stop()
	// Initial values: the last per key, then nil.
	got := recvUntilNil(t, w)
	if !slices.Equal(got, []string{"PUT a=a2", "PUT b=b1"}) {
		t.Fatalf("initial %v", got)
	}
	kv.PutString(ctx, "c", "c1")
	kv.Delete(ctx, "a")
	kv.Purge(ctx, "b")
	if got := recvN(t, w, 3); !slices.Equal(got, []string{"PUT c=c1", "DEL a=", "PURGE b="}) {
		t.Fatalf("updates %v", got)
	}

	// Updates only, one key.
	wu, err := kv.Watch(ctx, "c", jetstream.UpdatesOnly())
	if err != nil {
		t.Fatalf("watch updates only: %v", err)
	}
	defer wu.Stop()
	// Include history: every revision of every key.
	wh, err := kv.WatchAll(ctx, jetstream.IncludeHistory())
	if err != nil {
		t.Fatalf("watch history: %v", err)
	}
	defer wh.Stop()
	if got := recvUntilNil(t, wh); !slices.Equal(got, []string{"PUT a=a1", "PUT a=a2", "PUT c=c1", "DEL a=", "PURGE b="}) {
		t.Fatalf("history %v", got)
	}
	kv.PutString(ctx, "c", "c2")
	if got := recvN(t, wu, 1); !slices.Equal(got, []string{"PUT c=c2"}) {
		t.Fatalf("updates only %v", got)
	}
	// Many updates in order, past the flow-control window.
	big := make([]byte, 64*1024)
	for i := range 100 {
		big[0] = byte(i)
		if _, err := kv.Put(ctx, "c", big); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	for i := range 100 {
		select {
		case e := <-wu.Updates():
			if e == nil || e.Value()[0] != byte(i) {
				t.Fatalf("update %d out of order", i)
			}
		case <-ctx.Done():
			t.Fatalf("update %d not received", i)
		}
	}
}

func entryText(e jetstream.KeyValueEntry) string {
	op := map[jetstream.KeyValueOp]string{jetstream.KeyValuePut: "PUT", jetstream.KeyValueDelete: "DEL", jetstream.KeyValuePurge: "PURGE"}[e.Operation()]
	return fmt.Sprintf("%s %s=%s", op, e.Key(), e.Value())
}

func recvUntilNil(t *testing.T, w jetstream.KeyWatcher) []string {
	t.Helper()
	var got []string
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-w.Updates():
			if e == nil {
				return got
			}
			got = append(got, entryText(e))
		case <-timeout:
			t.Fatalf("no end of initial values; got %v", got)
		}
	}
}

func recvN(t *testing.T, w jetstream.KeyWatcher, n int) []string {
	t.Helper()
	var got []string
	timeout := time.After(10 * time.Second)
	for len(got) < n {
		select {
		case e := <-w.Updates():
			if e == nil {
				t.Fatalf("unexpected nil after %v", got)
			}
			got = append(got, entryText(e))
		case <-timeout:
			t.Fatalf("got %v, want %d updates", got, n)
		}
	}
	return got
}

// Per-key TTLs and limit markers (ADR-48) need allow_msg_ttl, which the
// engine does not implement: bucket creation must fail with an error that
// names the field rather than create a bucket that ignores it.
func TestKV_LimitMarkerTTLRefused(t *testing.T) {
	s, _ := runEngine(t, Config{})
	_, js := connectJS(t, s)
	_, err := js.CreateKeyValue(ctxT(t), jetstream.KeyValueConfig{Bucket: "m", LimitMarkerTTL: time.Minute})
	// The API level is 1 (consumer pause), where nats.go expects TTLs, so
	// it asks the server, which refuses by name.
	if err == nil || !strings.Contains(err.Error(), "allow_msg_ttl") {
		t.Fatalf("bucket with limit markers: %v", err)
	}
	// A client that skips that check gets the server's refusal.
	_, err = js.CreateStream(ctxT(t), jetstream.StreamConfig{Name: "KV_m", Subjects: []string{"$KV.m.>"}, AllowMsgTTL: true, SubjectDeleteMarkerTTL: time.Minute})
	if err == nil || !strings.Contains(err.Error(), "allow_msg_ttl") {
		t.Fatalf("stream with subject delete markers: %v", err)
	}
}
