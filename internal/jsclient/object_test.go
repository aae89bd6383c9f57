package jsclient

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

func TestObjectStore(t *testing.T) {
	forEachServer(t, func(t *testing.T, ctx context.Context, js *JS) {
		ob, err := js.CreateObjectStore(ctx, ObjectConfig{Bucket: "files"})
		if err != nil {
			t.Fatal(err)
		}
		big := make([]byte, 300*1024+7) // three chunks
		_, _ = rand.Read(big)
		info, err := ob.Put(ctx, ObjectMeta{Name: "dir/big.bin", Description: "random"}, bytes.NewReader(big))
		if err != nil || info.Chunks != 3 || info.Size != uint64(len(big)) {
			t.Fatalf("put: %+v %v", info, err)
		}
		if _, err := ob.Put(ctx, ObjectMeta{Name: "empty"}, bytes.NewReader(nil)); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if _, err := ob.Get(ctx, "dir/big.bin", &got); err != nil || !bytes.Equal(got.Bytes(), big) {
			t.Fatalf("get: %d bytes, %v", got.Len(), err)
		}
		got.Reset()
		if _, err := ob.Get(ctx, "empty", &got); err != nil || got.Len() != 0 {
			t.Fatalf("get empty: %v", err)
		}
		// Replacing purges the old chunks.
		if _, err := ob.Put(ctx, ObjectMeta{Name: "dir/big.bin"}, bytes.NewReader([]byte("small"))); err != nil {
			t.Fatal(err)
		}
		st, err := ob.Status(ctx)
		if err != nil || st.State.Msgs != 3 { // two metas, one chunk
			t.Fatalf("status after replace: %d msgs, %v", st.State.Msgs, err)
		}
		list, err := ob.List(ctx)
		if err != nil || len(list) != 2 {
			t.Fatalf("list: %v %v", list, err)
		}

		// nats.go reads ours and we read its objects.
		nob, err := natsGo(t, js).ObjectStore(ctx, "files")
		if err != nil {
			t.Fatal(err)
		}
		if b, err := nob.GetBytes(ctx, "dir/big.bin"); err != nil || string(b) != "small" {
			t.Fatalf("nats.go get: %q %v", b, err)
		}
		if _, err := nob.PutBytes(ctx, "theirs", big); err != nil {
			t.Fatal(err)
		}
		got.Reset()
		if _, err := ob.Get(ctx, "theirs", &got); err != nil || !bytes.Equal(got.Bytes(), big) {
			t.Fatalf("get theirs: %d bytes %v", got.Len(), err)
		}
		if err := ob.Delete(ctx, "theirs"); err != nil {
			t.Fatal(err)
		}
		if _, err := nob.GetInfo(ctx, "theirs"); !errors.Is(err, jetstream.ErrObjectNotFound) {
			t.Fatalf("nats.go info after our delete: %v", err)
		}
		if _, err := ob.Get(ctx, "theirs", &got); !errors.Is(err, ErrObjectNotFound) {
			t.Fatalf("get deleted: %v", err)
		}
		nlist, err := nob.List(ctx)
		if err != nil || len(nlist) != 2 {
			t.Fatalf("nats.go list: %v %v", nlist, err)
		}
		if bs, err := js.ObjectBuckets(ctx); err != nil || fmt.Sprint(bs) != "[files]" {
			t.Fatalf("buckets %v %v", bs, err)
		}
		if err := js.DeleteObjectStore(ctx, "files"); err != nil {
			t.Fatal(err)
		}
	})
}
