package streaming

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

// Object store through nats.go's jetstream.ObjectStore (ADR-20): objects
// larger than max_payload travel in chunks on $O.<bucket>.C.<nuid>, their
// info on $O.<bucket>.M.<name>.

func TestObject_PutGetLarge(t *testing.T) { bothServers(t, testObjectPutGetLarge) }

func testObjectPutGetLarge(t *testing.T, js jetstream.JetStream) {
	ctx := ctxT(t)
	obs, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: "files", Storage: jetstream.FileStorage})
	if err != nil {
		t.Fatalf("create object store: %v", err)
	}
	data := make([]byte, 10<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	info, err := obs.PutBytes(ctx, "blob.bin", data)
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	if info.Size != uint64(len(data)) || info.Chunks < 2 {
		t.Fatalf("info: size %d chunks %d", info.Size, info.Chunks)
	}
	got, err := obs.GetBytes(ctx, "blob.bin")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("object differs: %d bytes back, want %d", len(got), len(data))
	}
	// Replacing an object removes the old chunks.
	if _, err := obs.PutString(ctx, "blob.bin", "small"); err != nil {
		t.Fatalf("replace: %v", err)
	}
	if s, err := obs.GetString(ctx, "blob.bin"); err != nil || s != "small" {
		t.Fatalf("get replaced: %q %v", s, err)
	}
	st, err := obs.Status(ctx)
	if err != nil || st.Size() > 1<<20 {
		t.Fatalf("status after replace: %v size %d (old chunks kept?)", err, st.Size())
	}
}

func TestObject_InfoListDeleteLinksWatch(t *testing.T) { bothServers(t, testObjectMeta) }

func testObjectMeta(t *testing.T, js jetstream.JetStream) {
	ctx := ctxT(t)
	obs, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: "docs", Description: "d"})
	if err != nil {
		t.Fatalf("create object store: %v", err)
	}
	w, err := obs.Watch(ctx)
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	defer w.Stop()
	if e := <-w.Updates(); e != nil {
		t.Fatalf("watch of an empty store: %+v, want nil", e)
	}
	for _, n := range []string{"a.txt", "b.txt"} {
		if _, err := obs.PutString(ctx, n, "content of "+n); err != nil {
			t.Fatalf("put %s: %v", n, err)
		}
	}
	for _, want := range []string{"a.txt", "b.txt"} {
		select {
		case e := <-w.Updates():
			if e == nil || e.Name != want {
				t.Fatalf("watch: %+v, want %s", e, want)
			}
		case <-ctx.Done():
			t.Fatal("no watch update")
		}
	}
	info, err := obs.GetInfo(ctx, "a.txt")
	if err != nil || info.Size != uint64(len("content of a.txt")) || info.Bucket != "docs" || info.Digest == "" {
		t.Fatalf("info: %v %+v", err, info)
	}
	if _, err := obs.AddLink(ctx, "link-to-a", info); err != nil {
		t.Fatalf("add link: %v", err)
	}
	if s, err := obs.GetString(ctx, "link-to-a"); err != nil || s != "content of a.txt" {
		t.Fatalf("get through link: %q %v", s, err)
	}
	other, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: "other"})
	if err != nil {
		t.Fatalf("create other: %v", err)
	}
	if _, err := other.AddBucketLink(ctx, "docs-link", obs); err != nil {
		t.Fatalf("bucket link: %v", err)
	}
	list, err := obs.List(ctx)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	var names []string
	for _, o := range list {
		names = append(names, o.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"a.txt", "b.txt", "link-to-a"}) {
		t.Fatalf("list %v", names)
	}
	if err := obs.Delete(ctx, "b.txt"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := obs.GetString(ctx, "b.txt"); !errors.Is(err, jetstream.ErrObjectNotFound) {
		t.Fatalf("get deleted: %v", err)
	}
	if di, err := obs.GetInfo(ctx, "b.txt", jetstream.GetObjectInfoShowDeleted()); err != nil || !di.Deleted {
		t.Fatalf("info of deleted: %v", err)
	}
	var stores []string
	for n := range js.ObjectStoreNames(ctx).Name() {
		stores = append(stores, n)
	}
	slices.Sort(stores)
	if !slices.Equal(stores, []string{"docs", "other"}) {
		t.Fatalf("object stores %v", stores)
	}
	if err := js.DeleteObjectStore(ctx, "docs"); err != nil {
		t.Fatalf("delete store: %v", err)
	}
	if _, err := js.ObjectStore(ctx, "docs"); !errors.Is(err, jetstream.ErrBucketNotFound) {
		t.Fatalf("bind deleted: %v", err)
	}
}
