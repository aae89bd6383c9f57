package jsclient

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func natsGo(t *testing.T, js *JS) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(js.Conn().ConnectedURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	njs, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return njs
}

func TestKV(t *testing.T) {
	forEachServer(t, func(t *testing.T, ctx context.Context, js *JS) {
		kv, err := js.CreateKV(ctx, KVConfig{Bucket: "cfg", History: 5})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Put(ctx, "a.b", []byte("1")); err != nil {
			t.Fatal(err)
		}
		rev, err := kv.Put(ctx, "a.b", []byte("2"))
		if err != nil {
			t.Fatal(err)
		}
		e, err := kv.Get(ctx, "a.b")
		if err != nil || string(e.Value) != "2" || e.Revision != rev || e.Op != KVPut {
			t.Fatalf("get: %+v %v", e, err)
		}
		if _, err := kv.Put(ctx, "c", []byte("x")); err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Delete(ctx, "c"); err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Get(ctx, "c"); !errors.Is(err, ErrKeyNotFound) {
			t.Fatalf("get deleted: %v", err)
		}
		if _, err := kv.Get(ctx, "nope"); !errors.Is(err, ErrKeyNotFound) {
			t.Fatalf("get missing: %v", err)
		}
		keys, err := kv.Keys(ctx)
		if err != nil || fmt.Sprint(keys) != "[a.b]" {
			t.Fatalf("keys %v %v", keys, err)
		}
		var hist []string
		if err := kv.History(ctx, ">", func(e *KVEntry) error {
			hist = append(hist, fmt.Sprintf("%s=%s/%s", e.Key, e.Value, e.Op))
			return nil
		}); err != nil || fmt.Sprint(hist) != "[a.b=1/PUT a.b=2/PUT c=x/PUT c=/DEL]" {
			t.Fatalf("history %v %v", hist, err)
		}
		if _, err := kv.Purge(ctx, "a.b"); err != nil {
			t.Fatal(err)
		}
		hist = nil
		if err := kv.History(ctx, "a.b", func(e *KVEntry) error {
			hist = append(hist, fmt.Sprintf("%s=%s/%s", e.Key, e.Value, e.Op))
			return nil
		}); err != nil || fmt.Sprint(hist) != "[a.b=/PURGE]" {
			t.Fatalf("history after purge %v %v", hist, err)
		}
		if bs, err := js.KVBuckets(ctx); err != nil || fmt.Sprint(bs) != "[cfg]" {
			t.Fatalf("buckets %v %v", bs, err)
		}

		// nats.go reads what we wrote, and we read what it writes.
		nkv, err := natsGo(t, js).KeyValue(ctx, "cfg")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Put(ctx, "ours", []byte("v1")); err != nil {
			t.Fatal(err)
		}
		if ne, err := nkv.Get(ctx, "ours"); err != nil || string(ne.Value()) != "v1" {
			t.Fatalf("nats.go get: %v", err)
		}
		if _, err := nkv.Get(ctx, "c"); !errors.Is(err, jetstream.ErrKeyNotFound) {
			t.Fatalf("nats.go get deleted: %v", err)
		}
		if _, err := nkv.Put(ctx, "theirs", []byte("v2")); err != nil {
			t.Fatal(err)
		}
		if e, err := kv.Get(ctx, "theirs"); err != nil || string(e.Value) != "v2" {
			t.Fatalf("get theirs: %v", err)
		}
		if err := nkv.Delete(ctx, "theirs"); err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Get(ctx, "theirs"); !errors.Is(err, ErrKeyNotFound) {
			t.Fatalf("get after nats.go delete: %v", err)
		}
		nkeys, err := nkv.Keys(ctx)
		if err != nil || fmt.Sprint(nkeys) != "[ours]" {
			t.Fatalf("nats.go keys %v %v", nkeys, err)
		}
		if err := js.DeleteKV(ctx, "cfg"); err != nil {
			t.Fatal(err)
		}
		if _, err := js.BindKV(ctx, "cfg"); !errors.Is(err, ErrBucketNotFound) {
			t.Fatalf("bind after rm: %v", err)
		}
	})
}
