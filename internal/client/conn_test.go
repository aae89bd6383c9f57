package client

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPubSub(t *testing.T) {
	eachServer(t, func(t *testing.T, url string) {
		c := connect(t, url)
		got := make(chan *Msg, 100)
		if _, err := c.Subscribe("foo.*", func(m *Msg) { got <- m }); err != nil {
			t.Fatal(err)
		}
		flush(t, c)
		for i := range 100 {
			m := &Msg{Subject: "foo." + strconv.Itoa(i), Reply: "r", Data: []byte(fmt.Sprint("msg ", i))}
			if i%2 == 0 {
				m.Header = Header{"K": {"v" + strconv.Itoa(i)}}
			}
			if err := c.PublishMsg(m); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 100 {
			m := recv(t, got, "message")
			if m.Subject != "foo."+strconv.Itoa(i) || string(m.Data) != fmt.Sprint("msg ", i) || m.Reply != "r" {
				t.Fatalf("message %d: %q %q %q", i, m.Subject, m.Reply, m.Data)
			}
			if want := "v" + strconv.Itoa(i); i%2 == 0 && m.Header.Get("K") != want {
				t.Fatalf("message %d header %v", i, m.Header)
			}
			if i%2 == 1 && m.Header != nil {
				t.Fatalf("message %d has headers %v", i, m.Header)
			}
		}
		if s := c.Stats(); s.OutMsgs != 100 || s.InMsgs != 100 {
			t.Fatalf("stats %+v", s)
		}
	})
}

func TestQueueSubscribe(t *testing.T) {
	eachServer(t, func(t *testing.T, url string) {
		c := connect(t, url)
		var a, b atomic.Int64
		var total sync.WaitGroup
		total.Add(200)
		for _, n := range []*atomic.Int64{&a, &b} {
			if _, err := c.QueueSubscribe("work", "q", func(*Msg) { n.Add(1); total.Done() }); err != nil {
				t.Fatal(err)
			}
		}
		flush(t, c)
		for range 200 {
			if err := c.Publish("work", nil); err != nil {
				t.Fatal(err)
			}
		}
		total.Wait()
		flush(t, c) // any duplicate would have arrived by now
		if a.Load()+b.Load() != 200 {
			t.Fatalf("a=%d b=%d", a.Load(), b.Load())
		}
		if _, err := c.QueueSubscribe("work", "bad queue", func(*Msg) {}); !errors.Is(err, ErrBadQueueName) {
			t.Fatalf("bad queue: %v", err)
		}
	})
}

func TestSyncAndChanSubscribe(t *testing.T) {
	eachServer(t, func(t *testing.T, url string) {
		c := connect(t, url)
		sync, err := c.SubscribeSync("s")
		if err != nil {
			t.Fatal(err)
		}
		ch := make(chan *Msg, 1)
		if _, err := c.ChanSubscribe("s", ch); err != nil {
			t.Fatal(err)
		}
		if _, err := sync.NextMsg(10 * time.Millisecond); !errors.Is(err, ErrTimeout) {
			t.Fatalf("NextMsg on empty: %v", err)
		}
		flush(t, c)
		if err := c.Publish("s", []byte("x")); err != nil {
			t.Fatal(err)
		}
		m, err := sync.NextMsg(5 * time.Second)
		if err != nil || string(m.Data) != "x" {
			t.Fatalf("NextMsg %v %v", m, err)
		}
		if m := recv(t, ch, "chan message"); string(m.Data) != "x" {
			t.Fatalf("chan %q", m.Data)
		}
	})
}

func TestAutoUnsubscribe(t *testing.T) {
	eachServer(t, func(t *testing.T, url string) {
		c := connect(t, url)
		s, err := c.SubscribeSync("a")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AutoUnsubscribe(3); err != nil {
			t.Fatal(err)
		}
		flush(t, c)
		for range 10 {
			if err := c.Publish("a", nil); err != nil {
				t.Fatal(err)
			}
		}
		flush(t, c)
		for i := range 3 {
			if _, err := s.NextMsg(5 * time.Second); err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
		}
		if _, err := s.NextMsg(time.Second); !errors.Is(err, ErrMaxMessages) {
			t.Fatalf("after max: %v", err)
		}
		if s.Received() != 3 {
			t.Fatalf("received %d", s.Received())
		}
	})
}

func TestRequestReply(t *testing.T) {
	eachServer(t, func(t *testing.T, url string) {
		c := connect(t, url)
		if _, err := c.Subscribe("svc", func(m *Msg) {
			_ = m.RespondMsg(&Msg{Header: Header{"X": {m.Header.Get("In")}}, Data: append([]byte("re: "), m.Data...)})
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Subscribe("silent", func(*Msg) {}); err != nil {
			t.Fatal(err)
		}
		flush(t, c)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r, err := c.RequestMsg(ctx, &Msg{Subject: "svc", Header: Header{"In": {"h"}}, Data: []byte("hi")})
		if err != nil || string(r.Data) != "re: hi" || r.Header.Get("X") != "h" {
			t.Fatalf("reply %v, %v", r, err)
		}

		_, err = c.Request(ctx, "nobody.home", nil)
		if !errors.Is(err, ErrNoResponders) || errors.Is(err, ErrTimeout) {
			t.Fatalf("no responders: %v", err)
		}

		short, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel2()
		_, err = c.Request(short, "silent", nil)
		if !errors.Is(err, ErrTimeout) || errors.Is(err, ErrNoResponders) {
			t.Fatalf("timeout: %v", err)
		}
	})
}

// TestConcurrentRequests: 1,000 requests in flight at once over one
// connection each get their own reply.
func TestConcurrentRequests(t *testing.T) {
	eachServer(t, func(t *testing.T, url string) {
		srv := connect(t, url)
		if _, err := srv.Subscribe("echo", func(m *Msg) { _ = m.Respond(m.Data) }); err != nil {
			t.Fatal(err)
		}
		flush(t, srv)
		c := connect(t, url)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		const n = 1000
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				want := strconv.Itoa(i)
				r, err := c.Request(ctx, "echo", []byte(want))
				if err == nil && string(r.Data) != want {
					err = fmt.Errorf("request %s got %q", want, r.Data)
				}
				if err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		c.subsMu.RLock()
		nsubs := len(c.subs)
		c.subsMu.RUnlock()
		if nsubs != 1 {
			t.Fatalf("%d subscriptions for requests, want the one shared inbox", nsubs)
		}
	})
}

func TestSlowConsumer(t *testing.T) {
	eachServer(t, func(t *testing.T, url string) {
		slow := make(chan error, 1)
		c := connect(t, url, func(o *Options) {
			o.ErrorHandler = func(_ *Conn, s *Subscription, err error) {
				if s != nil && errors.Is(err, ErrSlowConsumer) {
					select {
					case slow <- err:
					default:
					}
				}
			}
		})
		block := make(chan struct{})
		s, err := c.Subscribe("flood", func(*Msg) { <-block })
		if err != nil {
			t.Fatal(err)
		}
		s.SetPendingLimits(10, -1)
		flush(t, c)
		for range 100 {
			if err := c.Publish("flood", []byte("x")); err != nil {
				t.Fatal(err)
			}
		}
		flush(t, c)
		recv(t, slow, "slow consumer error")
		if msgs, _ := s.Pending(); msgs > 10 {
			t.Fatalf("pending %d over the limit", msgs)
		}
		if s.Dropped() < 89 {
			t.Fatalf("dropped %d, want at least 89", s.Dropped())
		}
		close(block)
	})
}

func TestDrain(t *testing.T) {
	eachServer(t, func(t *testing.T, url string) {
		pub := connect(t, url)
		closed := make(chan struct{})
		c := connect(t, url, func(o *Options) { o.ClosedHandler = func(*Conn) { close(closed) } })
		var handled atomic.Int64
		release := make(chan struct{})
		sub, err := c.Subscribe("d", func(*Msg) { <-release; handled.Add(1) })
		if err != nil {
			t.Fatal(err)
		}
		flush(t, c)
		for range 50 {
			if err := pub.Publish("d", nil); err != nil {
				t.Fatal(err)
			}
		}
		flush(t, pub)
		waitFor(t, "messages queued", func() bool { n, _ := sub.Pending(); return n > 0 })
		close(release)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		if handled.Load() != 50 {
			t.Fatalf("handled %d of 50", handled.Load())
		}
		recv(t, closed, "closed handler")
		if err := c.Publish("d", nil); !errors.Is(err, ErrConnectionClosed) {
			t.Fatalf("publish after drain: %v", err)
		}
	})
}

func TestBadInput(t *testing.T) {
	eachServer(t, func(t *testing.T, url string) {
		c := connect(t, url)
		for _, subj := range []string{"", "a b", "a..b", "a.*", "a.>"} {
			mustErr(t, c.Publish(subj, nil), ErrBadSubject)
		}
		for _, subj := range []string{"", "a b", ">.a"} {
			_, err := c.SubscribeSync(subj)
			mustErr(t, err, ErrBadSubject)
		}
		mustErr(t, c.PublishMsg(&Msg{Subject: "a", Header: Header{"bad key": {"v"}}}), ErrBadHeader)
		mustErr(t, c.PublishMsg(&Msg{Subject: "a", Header: Header{"k": {"a\r\nb"}}}), ErrBadHeader)
		big := make([]byte, c.ServerInfo().MaxPayload+1)
		mustErr(t, c.Publish("a", big), ErrMaxPayload)
		flush(t, c) // the connection is still fine
	})
}

func TestConnectErrors(t *testing.T) {
	ctx := context.Background()
	// A port nobody listens on: bind, learn it, close.
	url := deadURL(t)
	_, err := Connect(ctx, Options{Servers: []string{url}, Timeout: time.Second})
	if !errors.Is(err, ErrNoServers) {
		t.Fatalf("err = %v", err)
	}
	if want := "127.0.0.1"; !contains(err.Error(), want) {
		t.Fatalf("error %q does not name the server", err)
	}
	for _, bad := range []string{"http://x:1", "nats://", "::"} {
		if _, err := Connect(ctx, Options{Servers: []string{bad}}); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
	_, err = Connect(ctx, Options{Servers: []string{url}, CredsFile: "/nonexistent/x.creds"})
	if err == nil || !contains(err.Error(), "creds") {
		t.Fatalf("creds: %v", err)
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && containsFold(s, sub))
}
