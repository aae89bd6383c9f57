package server_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

func connect(t testing.TB, s *server.Server, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL(), opts...)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func nextMsg(t testing.TB, sub *nats.Subscription) *nats.Msg {
	t.Helper()
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatalf("next message on %q: %v", sub.Subject, err)
	}
	return m
}

func expectNoMsg(t testing.TB, nc *nats.Conn, sub *nats.Subscription) {
	t.Helper()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if m, err := sub.NextMsg(50 * time.Millisecond); err == nil {
		t.Fatalf("unexpected message on %q: %q", m.Subject, m.Data)
	}
}

func TestInterop_PubSub(t *testing.T) {
	s := servertest.Run(t)
	nc := connect(t, s)
	sub, _ := nc.SubscribeSync("foo")
	nc.Publish("foo", []byte("hello"))
	if m := nextMsg(t, sub); string(m.Data) != "hello" || m.Subject != "foo" {
		t.Fatalf("got %q on %q", m.Data, m.Subject)
	}
}

func TestInterop_Wildcards(t *testing.T) {
	s := servertest.Run(t)
	nc := connect(t, s)
	pub := connect(t, s)
	cases := []struct {
		pattern string
		match   []string
		nomatch []string
	}{
		{"foo.*", []string{"foo.bar", "foo.baz"}, []string{"foo", "foo.bar.baz", "bar.foo"}},
		{"foo.>", []string{"foo.bar", "foo.bar.baz"}, []string{"foo", "bar.foo"}},
		{"*.bar", []string{"foo.bar", "x.bar"}, []string{"bar", "foo.bar.x"}},
		{"foo.*.baz", []string{"foo.x.baz"}, []string{"foo.baz", "foo.x.y.baz"}},
		{">", []string{"a", "a.b.c"}, nil},
		{"*.*", []string{"a.b"}, []string{"a", "a.b.c"}},
		{"foo.*.>", []string{"foo.a.b", "foo.a.b.c"}, []string{"foo.a", "foo"}},
	}
	for _, tc := range cases {
		t.Run(tc.pattern, func(t *testing.T) {
			sub, err := nc.SubscribeSync(tc.pattern)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Unsubscribe()
			nc.Flush()
			for _, subj := range append(tc.nomatch, tc.match...) {
				pub.Publish(subj, []byte(subj))
			}
			pub.Flush()
			for _, want := range tc.match {
				if m := nextMsg(t, sub); m.Subject != want {
					t.Fatalf("pattern %q: got %q, want %q", tc.pattern, m.Subject, want)
				}
			}
			expectNoMsg(t, nc, sub)
		})
	}
}

func TestInterop_QueueDistribution(t *testing.T) {
	s := servertest.Run(t)
	var counts [4]atomic.Int64
	var total atomic.Int64
	done := make(chan struct{})
	const n = 4000
	for i := range counts {
		nc := connect(t, s)
		nc.QueueSubscribe("work", "workers", func(*nats.Msg) {
			counts[i].Add(1)
			if total.Add(1) == n {
				close(done)
			}
		})
		nc.Flush()
	}
	// A plain subscriber sees every message besides the group.
	plain := connect(t, s)
	psub, _ := plain.SubscribeSync("work")
	plain.Flush()
	pub := connect(t, s)
	for i := 0; i < n; i++ {
		pub.Publish("work", nil)
	}
	pub.Flush()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("queue members got %d of %d", total.Load(), n)
	}
	for i := range counts {
		if c := counts[i].Load(); c < n/4/2 {
			t.Errorf("member %d got %d of %d: not spread", i, c, n)
		}
	}
	if p, _, _ := psub.Pending(); p != n {
		// Pending may lag the flush; wait for the last message.
		for got := p; got < n; got++ {
			nextMsg(t, psub)
		}
	}
	expectNoMsgAfterDrain(t, plain, psub, n)
	// Exactly n deliveries to the group: none duplicated.
	plain.Flush()
	if total.Load() != n {
		t.Fatalf("group got %d deliveries, want %d", total.Load(), n)
	}
}

func expectNoMsgAfterDrain(t *testing.T, nc *nats.Conn, sub *nats.Subscription, n int) {
	t.Helper()
	nc.Flush()
	msgs, _, _ := sub.Pending()
	if msgs > n {
		t.Fatalf("plain subscriber has %d pending, want at most %d", msgs, n)
	}
}

func TestInterop_RequestReply(t *testing.T) {
	s := servertest.Run(t)
	srv := connect(t, s)
	srv.Subscribe("svc", func(m *nats.Msg) { m.Respond(append([]byte("re:"), m.Data...)) })
	srv.Flush()
	// New style (shared wildcard inbox) and old style (inbox per request).
	for _, old := range []bool{false, true} {
		t.Run(fmt.Sprintf("old=%v", old), func(t *testing.T) {
			var opts []nats.Option
			if old {
				opts = append(opts, nats.UseOldRequestStyle())
			}
			nc := connect(t, s, opts...)
			for i := 0; i < 20; i++ {
				m, err := nc.Request("svc", []byte(fmt.Sprint(i)), 5*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				if want := fmt.Sprintf("re:%d", i); string(m.Data) != want {
					t.Fatalf("got %q want %q", m.Data, want)
				}
			}
		})
	}
}

func TestInterop_NoResponders(t *testing.T) {
	s := servertest.Run(t)
	nc := connect(t, s)
	start := time.Now()
	_, err := nc.Request("nobody.home", []byte("x"), 5*time.Second)
	if !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("got %v, want ErrNoResponders", err)
	}
	if time.Since(start) > 4*time.Second {
		t.Fatal("no-responders came from the timeout, not the server")
	}
}

func TestInterop_Headers(t *testing.T) {
	s := servertest.Run(t)
	nc := connect(t, s)
	sub, _ := nc.SubscribeSync("h")
	msg := nats.NewMsg("h")
	msg.Header.Set("A", "1")
	msg.Header.Add("B", "x")
	msg.Header.Add("B", "y")
	msg.Data = []byte("body")
	if err := nc.PublishMsg(msg); err != nil {
		t.Fatal(err)
	}
	m := nextMsg(t, sub)
	if m.Header.Get("A") != "1" || len(m.Header.Values("B")) != 2 || string(m.Data) != "body" {
		t.Fatalf("got headers %v data %q", m.Header, m.Data)
	}
}

func TestInterop_HeadersToClientWithoutHeaders(t *testing.T) {
	s := servertest.Run(t)
	old := connect(t, s, nats.SkipHostLookup())
	// A raw client that does not announce headers gets MSG with the payload.
	rc := dialRaw(t, s)
	rc.send(`CONNECT {"verbose":false,"headers":false}` + "\r\nSUB h 1\r\nPING\r\n")
	rc.expect("PONG\r\n")
	msg := nats.NewMsg("h")
	msg.Header.Set("A", "1")
	msg.Data = []byte("body")
	old.PublishMsg(msg)
	old.Flush()
	rc.expect("MSG h 1 4\r\nbody\r\n")
}

func TestInterop_EchoOff(t *testing.T) {
	s := servertest.Run(t)
	nc := connect(t, s, nats.NoEcho())
	other := connect(t, s)
	sub, _ := nc.SubscribeSync("e")
	nc.Publish("e", []byte("self"))
	nc.Flush()
	other.Publish("e", []byte("other"))
	if m := nextMsg(t, sub); string(m.Data) != "other" {
		t.Fatalf("got %q: own message echoed", m.Data)
	}
}

func TestInterop_AutoUnsubscribe(t *testing.T) {
	s := servertest.Run(t)
	nc := connect(t, s)
	sub, _ := nc.SubscribeSync("a")
	sub.AutoUnsubscribe(3)
	for i := 0; i < 10; i++ {
		nc.Publish("a", nil)
	}
	nc.Flush()
	for i := 0; i < 3; i++ {
		nextMsg(t, sub)
	}
	if _, err := sub.NextMsg(100 * time.Millisecond); err == nil {
		t.Fatal("got a fourth message")
	}
	if n := s.NumSubscriptions(); n != 0 {
		t.Fatalf("server still has %d subscriptions", n)
	}
}

func TestInterop_Drain(t *testing.T) {
	s := servertest.Run(t)
	nc := connect(t, s)
	var got atomic.Int64
	nc.Subscribe("d", func(*nats.Msg) { got.Add(1) })
	nc.Flush()
	pub := connect(t, s)
	for i := 0; i < 1000; i++ {
		pub.Publish("d", nil)
	}
	pub.Flush()
	closed := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(closed) })
	if err := nc.Drain(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("drain did not finish")
	}
	if got.Load() != 1000 {
		t.Fatalf("drain delivered %d of 1000", got.Load())
	}
}

func TestInterop_LargePayload(t *testing.T) {
	s := servertest.Run(t)
	nc := connect(t, s)
	sub, _ := nc.SubscribeSync("big")
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	if err := nc.Publish("big", data); err != nil {
		t.Fatal(err)
	}
	if m := nextMsg(t, sub); !bytes.Equal(m.Data, data) {
		t.Fatalf("1 MiB payload corrupted: got %d bytes", len(m.Data))
	}
	if err := nc.Publish("big", append(data, 'x')); !errors.Is(err, nats.ErrMaxPayload) {
		t.Fatalf("over max payload: got %v", err)
	}
}

func TestInterop_Ordering100k(t *testing.T) {
	s := servertest.Run(t)
	nc := connect(t, s)
	pub := connect(t, s)
	const n = 100_000
	ch := make(chan *nats.Msg, n)
	sub, _ := nc.ChanSubscribe("o", ch)
	sub.SetPendingLimits(-1, -1)
	nc.Flush()
	for i := 0; i < n; i++ {
		pub.Publish("o", []byte(fmt.Sprint(i)))
	}
	pub.Flush()
	for i := 0; i < n; i++ {
		select {
		case m := <-ch:
			if string(m.Data) != fmt.Sprint(i) {
				t.Fatalf("message %d arrived as %q", i, m.Data)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("got %d of %d", i, n)
		}
	}
}

func TestInterop_500Connections(t *testing.T) {
	s := servertest.Run(t)
	const n = 500
	conns := make([]*nats.Conn, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nc, err := nats.Connect(s.ClientURL())
			if err != nil {
				errs <- err
				return
			}
			conns[i] = nc
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	defer func() {
		for _, nc := range conns {
			nc.Close()
		}
	}()
	if got := s.NumConns(); got != n {
		t.Fatalf("server has %d connections, want %d", got, n)
	}
	// Everyone subscribes; one publish reaches all.
	var got atomic.Int64
	all := make(chan struct{})
	for _, nc := range conns {
		nc.Subscribe("all", func(*nats.Msg) {
			if got.Add(1) == n {
				close(all)
			}
		})
		nc.Flush()
	}
	conns[0].Publish("all", nil)
	select {
	case <-all:
	case <-time.After(10 * time.Second):
		t.Fatalf("%d of %d connections got the message", got.Load(), n)
	}
}
