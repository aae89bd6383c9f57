package server_test

import (
	"context"
	"testing"
	"time"

	nsrv "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natsctl/natsctl/internal/natsservertest"
	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
	"github.com/natsctl/natsctl/internal/streaming"
)

// traceJSBoth runs fn on natsctl with its streaming engine and on
// nats-server with JetStream.
func traceJSBoth(t *testing.T, fn func(t *testing.T, url string)) {
	t.Run("natsctl", func(t *testing.T) {
		e := streaming.New(streaming.Config{StoreDir: t.TempDir()})
		s := servertest.Run(t, func(o *server.Options) { o.Engine = e })
		fn(t, s.ClientURL())
	})
	t.Run("nats-server", func(t *testing.T) {
		p := natsservertest.Start(t, "-m", "-1", "-js", "-sd", t.TempDir())
		fn(t, p.ClientURL)
	})
}

func TestMsgTrace_JetStream(t *testing.T) {
	traceJSBoth(t, func(t *testing.T, url string) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		nc := dial(t, url, nats.Name("js-pub"))
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}})
		if err != nil {
			t.Fatal(err)
		}
		dest, events := tracer(t, nc)

		for _, tc := range []struct {
			name    string
			only    bool
			expect  string // Nats-Expected-Stream
			stored  uint64 // messages in the stream after it
			wantErr string
		}{
			{name: "stored", stored: 1},
			{name: "trace only", only: true, stored: 1},
			{name: "refused", expect: "OTHER", stored: 1, wantErr: "expected stream does not match"},
			{name: "refused trace only", only: true, expect: "OTHER", stored: 1, wantErr: "expected stream does not match"},
		} {
			m := tracedMsg("orders.new", dest, tc.only)
			if tc.expect != "" {
				m.Header.Set("Nats-Expected-Stream", tc.expect)
			}
			if err := nc.PublishMsg(m); err != nil {
				t.Fatal(err)
			}
			ev := nextTrace(t, events)
			checkIngress(t, ev, nc, "$G", "orders.new", "")
			jse := ev.JetStream()
			wantSubj := "orders.new"
			if tc.wantErr != "" {
				wantSubj = "" // refused before the subject is known
			}
			if jse == nil || jse.Stream != "ORDERS" || jse.Subject != wantSubj || jse.NoInterest {
				t.Fatalf("%s: jetstream event %+v", tc.name, jse)
			}
			if jse.Error != tc.wantErr {
				t.Fatalf("%s: jetstream error %q, want %q", tc.name, jse.Error, tc.wantErr)
			}
			if n := len(ev.Egresses()); n != 0 {
				t.Fatalf("%s: %d egresses for the stream", tc.name, n)
			}
			info, err := st.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if info.State.Msgs != tc.stored {
				t.Fatalf("%s: stream holds %d messages, want %d", tc.name, info.State.Msgs, tc.stored)
			}
		}
		// The stored copy is not traced again when delivered.
		sm, err := st.GetMsg(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := sm.Header.Get(nsrv.MsgTraceDest); got != "trace disabled" {
			t.Fatalf("stored %s: %q", nsrv.MsgTraceDest, got)
		}
	})
}
