package jsclient

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/streaming"
)

func TestConsumerFetchAck(t *testing.T) {
	forEachServer(t, func(t *testing.T, ctx context.Context, js *JS) {
		mustStream(t, ctx, js, "Q", "q.>")
		for i := 1; i <= 3; i++ {
			mustPublish(t, ctx, js, "q.a", fmt.Sprint(i))
		}
		ci, _, err := js.CreateConsumer(ctx, "Q", ConsumerConfig{Durable: "w", AckPolicy: streaming.AckExplicit, FilterSubject: "q.a", AckWait: 30 * time.Second}, ActionCreate)
		if err != nil || ci.NumPending != 3 {
			t.Fatalf("create: %+v %v", ci, err)
		}
		var got []string
		n, err := js.Fetch(ctx, "Q", "w", PullRequest{Batch: 2, Expires: 2 * time.Second}, func(m *Msg) error {
			got = append(got, string(m.Data))
			return m.AckSync(ctx)
		})
		if err != nil || n != 2 || fmt.Sprint(got) != "[1 2]" {
			t.Fatalf("fetch: %d %v %v", n, got, err)
		}
		// Ask for more than there is: a no-wait pull ends with 404.
		n, err = js.Fetch(ctx, "Q", "w", PullRequest{Batch: 10, NoWait: true}, func(m *Msg) error {
			if m.Meta.StreamSeq != 3 || m.Meta.Pending != 0 {
				return fmt.Errorf("meta %+v", m.Meta)
			}
			return m.Ack()
		})
		if err != nil || n != 1 {
			t.Fatalf("no-wait fetch: %d %v", n, err)
		}
		// Acks applied: nothing pending or waiting for an ack.
		deadline := time.Now().Add(5 * time.Second)
		for {
			ci, _, err = js.ConsumerInfo(ctx, "Q", "w")
			if err != nil {
				t.Fatal(err)
			}
			if ci.NumAckPending == 0 && ci.NumPending == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after acks: %+v", ci)
			}
			time.Sleep(20 * time.Millisecond)
		}
		cfg, err := js.ConsumerConfigRaw(ctx, "Q", "w")
		if err != nil {
			t.Fatal(err)
		}
		cfg["description"] = "edited"
		if ci, _, err = js.UpdateConsumerRaw(ctx, "Q", "w", cfg); err != nil || ci.Config.Description != "edited" {
			t.Fatalf("update: %v", err)
		}
		cs, err := js.Consumers(ctx, "Q")
		if err != nil || len(cs) != 1 || cs[0].Name != "w" {
			t.Fatalf("list: %v %v", cs, err)
		}
		if err := js.DeleteConsumer(ctx, "Q", "w"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := js.ConsumerInfo(ctx, "Q", "w"); !IsAPIError(err, ErrCodeConsumerNotFound) {
			t.Fatalf("info after delete: %v", err)
		}
		// Pulling from a missing consumer fails instead of waiting.
		if _, err := js.Fetch(ctx, "Q", "w", PullRequest{Batch: 1, Expires: 2 * time.Second}, func(*Msg) error { return nil }); err == nil {
			t.Fatal("fetch from a deleted consumer succeeded")
		}
	})
}

func FuzzParseAckSubject(f *testing.F) {
	f.Add("$JS.ACK.S.C.1.2.3.1700000000000000000.0")
	f.Add("$JS.ACK._.ACC.S.C.1.2.3.1700000000000000000.4.tok")
	f.Add("$JS.ACK.S.C.x.2.3.4.5")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseAckSubject(s)
		if err != nil {
			return
		}
		tok := strings.Split(s, ".")
		if !strings.HasPrefix(s, "$JS.ACK.") || len(tok) < 9 || len(tok) == 10 {
			t.Fatalf("accepted %q", s)
		}
		streamAt := 4 // v2: after domain and account hash
		if len(tok) == 9 {
			streamAt = 2
		}
		if m.Stream != tok[streamAt] {
			t.Fatalf("%q: stream %q", s, m.Stream)
		}
	})
}

func FuzzParseHeader(f *testing.F) {
	f.Add([]byte("NATS/1.0\r\nKV-Operation: DEL\r\n\r\n"))
	f.Add([]byte("NATS/1.0 404 Not Found\r\n\r\n"))
	f.Add([]byte("NATS/1.0\r\nbad\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err != nil {
			return
		}
		if h == nil || !bytes.HasPrefix(b, []byte("NATS/1.0")) {
			t.Fatalf("accepted %q as %v", b, h)
		}
		for k := range h {
			if k == "" || strings.TrimSpace(k) != k {
				t.Fatalf("key %q from %q", k, b)
			}
		}
	})
}

func TestParseAckSubject(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"$JS.ACK.S.C.2.10.7.1700000000000000000.3", "S C  2 10 7 3"},
		{"$JS.ACK._.H.S.C.2.10.7.1700000000000000000.3", "S C  2 10 7 3"},
		{"$JS.ACK.D.H.S.C.2.10.7.1700000000000000000.3.rnd", "S C D 2 10 7 3"},
		{"$JS.ACK.S.C.2.10.7.1700000000000000000", "error"},
		{"$JS.ACK.S.C.2.10.7.17.3.x", "error"},
		{"$JS.NAK.S.C.2.10.7.17.3", "error"},
	} {
		m, err := ParseAckSubject(tc.in)
		got := "error"
		if err == nil {
			got = fmt.Sprintf("%s %s %s %d %d %d %d", m.Stream, m.Consumer, m.Domain, m.Delivered, m.StreamSeq, m.ConsumerSeq, m.Pending)
		}
		if got != tc.want {
			t.Errorf("%s: %s, want %s", tc.in, got, tc.want)
		}
	}
}
