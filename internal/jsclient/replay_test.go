package jsclient

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestReplay(t *testing.T) {
	forEachServer(t, func(t *testing.T, ctx context.Context, js *JS) {
		mustStream(t, ctx, js, "R", "r.>")
		for i := 1; i <= 5; i++ {
			mustPublish(t, ctx, js, fmt.Sprintf("r.%d", i%2), fmt.Sprint(i))
		}
		collect := func(o ReplayOptions) []string {
			t.Helper()
			var got []string
			if err := js.Replay(ctx, "R", o, func(m *Msg) error {
				got = append(got, fmt.Sprintf("%s:%s", m.Subject, m.Data))
				return nil
			}); err != nil {
				t.Fatalf("%+v: %v", o, err)
			}
			return got
		}
		for _, tc := range []struct {
			name string
			o    ReplayOptions
			want string
		}{
			{"all", ReplayOptions{}, "[r.1:1 r.0:2 r.1:3 r.0:4 r.1:5]"},
			{"from seq", ReplayOptions{Deliver: DeliverByStartSequence, StartSeq: 4}, "[r.0:4 r.1:5]"},
			{"last", ReplayOptions{Deliver: DeliverLast}, "[r.1:5]"},
			{"last per subject", ReplayOptions{Deliver: DeliverLastPerSubject}, "[r.0:4 r.1:5]"},
			{"filter", ReplayOptions{Filters: []string{"r.0"}}, "[r.0:2 r.0:4]"},
			{"since", ReplayOptions{Deliver: DeliverByStartTime, StartTime: time.Now().Add(-time.Minute)}, "[r.1:1 r.0:2 r.1:3 r.0:4 r.1:5]"},
			{"small batches", ReplayOptions{Batch: 2}, "[r.1:1 r.0:2 r.1:3 r.0:4 r.1:5]"},
		} {
			if got := fmt.Sprint(collect(tc.o)); got != tc.want {
				t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
			}
		}
		// Nothing to replay: returns at once.
		mustStream(t, ctx, js, "EMPTY", "empty")
		if err := js.Replay(ctx, "EMPTY", ReplayOptions{}, func(*Msg) error { return fmt.Errorf("unexpected") }); err != nil {
			t.Fatal(err)
		}
		// Follow sees a message published after it started.
		got, done := make(chan string, 1), make(chan struct{})
		go func() {
			defer close(done)
			_ = js.Replay(ctx, "R", ReplayOptions{Deliver: DeliverNew, Follow: true}, func(m *Msg) error {
				got <- string(m.Data)
				return ErrStop
			})
		}()
		deadline := time.After(10 * time.Second)
		for seen := false; !seen; {
			mustPublish(t, ctx, js, "r.x", "late")
			select {
			case s := <-got:
				if s != "late" {
					t.Fatalf("follow got %q", s)
				}
				seen = true
			case <-time.After(200 * time.Millisecond):
			case <-deadline:
				t.Fatal("follow saw nothing")
			}
		}
		<-done
		// The ephemeral consumers are gone.
		cs, err := js.Consumers(ctx, "R")
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 0 {
			t.Fatalf("%d consumers left over, first %s", len(cs), cs[0].Name)
		}
	})
}
