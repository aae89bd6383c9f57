package jsclient

import (
	"context"
	"errors"
	"testing"
)

// Create, Update and GetRevision return the sentinel errors callers test
// for, on both servers; a purged key can be created again.
func TestKV_CompareAndSet(t *testing.T) {
	forEachServer(t, func(t *testing.T, ctx context.Context, js *JS) {
		kv, err := js.CreateKV(ctx, KVConfig{Bucket: "cas", History: 3})
		if err != nil {
			t.Fatal(err)
		}
		r1, err := kv.Create(ctx, "k", []byte("1"))
		if err != nil || r1 != 1 {
			t.Fatalf("create: %d %v", r1, err)
		}
		if _, err := kv.Create(ctx, "k", []byte("2")); !errors.Is(err, ErrKeyExists) {
			t.Fatalf("second create: %v", err)
		}
		if _, err := kv.Update(ctx, "k", []byte("2"), 5); !errors.Is(err, ErrWrongRevision) {
			t.Fatalf("update at a wrong revision: %v", err)
		}
		r2, err := kv.Update(ctx, "k", []byte("2"), r1)
		if err != nil || r2 != 2 {
			t.Fatalf("update: %d %v", r2, err)
		}
		if e, err := kv.GetRevision(ctx, "k", r1); err != nil || string(e.Value) != "1" || e.Revision != r1 {
			t.Fatalf("revision 1: %+v %v", e, err)
		}
		if _, err := kv.Purge(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if _, err := kv.GetRevision(ctx, "k", r1); !errors.Is(err, ErrKeyNotFound) {
			t.Fatalf("purged revision: %v", err)
		}
		if r, err := kv.Create(ctx, "k", []byte("3")); err != nil || r != 4 {
			t.Fatalf("create after purge: %d %v", r, err)
		}
		if _, err := kv.Update(ctx, "missing", []byte("x"), 1); !errors.Is(err, ErrWrongRevision) {
			t.Fatalf("update of a missing key: %v", err)
		}
	})
}
