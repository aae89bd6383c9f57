package jsclient

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestKVWatchFollow: current values first, then changes as they happen,
// deletes included.
func TestKVWatchFollow(t *testing.T) {
	forEachServer(t, func(t *testing.T, ctx context.Context, js *JS) {
		kv, err := js.CreateKV(ctx, KVConfig{Bucket: "w"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Put(ctx, "a", []byte("1")); err != nil {
			t.Fatal(err)
		}
		got := make(chan string, 16)
		done := make(chan error, 1)
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			done <- kv.Watch(wctx, ">", WatchOptions{Follow: true}, func(e *KVEntry) error {
				got <- fmt.Sprintf("%s %s=%s", e.Op, e.Key, e.Value)
				return nil
			})
		}()
		next := func(want string) {
			t.Helper()
			select {
			case s := <-got:
				if s != want {
					t.Fatalf("got %q, want %q", s, want)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("no %q", want)
			}
		}
		next("PUT a=1")
		if _, err := kv.Put(ctx, "b", []byte("2")); err != nil {
			t.Fatal(err)
		}
		next("PUT b=2")
		if _, err := kv.Delete(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		next("DEL a=")
		cancel()
		if err := <-done; err != context.Canceled {
			t.Fatalf("watch ended with %v", err)
		}
	})
}

// TestReplayRecreatesDeletedConsumer: when the ephemeral consumer goes away
// mid-replay, Replay creates a new one from the next sequence and nothing
// is lost or repeated.
func TestReplayRecreatesDeletedConsumer(t *testing.T) {
	forEachServer(t, func(t *testing.T, ctx context.Context, js *JS) {
		mustStream(t, ctx, js, "G", "g")
		for i := 1; i <= 3; i++ {
			mustPublish(t, ctx, js, "g", fmt.Sprint(i))
		}
		var seen []string
		deleted := false
		err := js.Replay(ctx, "G", ReplayOptions{Batch: 1, PullInterval: time.Second}, func(m *Msg) error {
			seen = append(seen, string(m.Data))
			if !deleted {
				deleted = true
				if err := js.DeleteConsumer(ctx, "G", m.Meta.Consumer); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || fmt.Sprint(seen) != "[1 2 3]" {
			t.Fatalf("seen %v, %v", seen, err)
		}
	})
}
