package server_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestLimit_MaxConnections(t *testing.T) {
	s := servertest.Run(t, func(o *server.Options) { o.MaxConnections = 2 })
	a, b := dialRaw(t, s), dialRaw(t, s)
	a.expectOpen()
	b.expectOpen()
	c := dialRaw(t, s) // INFO, then the error
	if got := c.expectClosed(); got != "-ERR 'maximum connections exceeded'\r\n" {
		t.Fatalf("third connection got %q", got)
	}
	a.c.Close()
	waitFor(t, "the slot to free", func() bool { return s.NumConns() == 1 })
	dialRaw(t, s).expectOpen()
}

func TestLimit_MaxSubscriptions(t *testing.T) {
	s := servertest.Run(t, func(o *server.Options) { o.MaxSubscriptions = 2 })
	rc := dialRaw(t, s)
	rc.send(`CONNECT {"verbose":false}` + "\r\nSUB a 1\r\nSUB b 2\r\nSUB c 3\r\nPING\r\n")
	rc.expect("-ERR 'maximum subscriptions exceeded'\r\nPONG\r\n")
	// The connection stays open and the first two subscriptions work.
	rc.send("PUB b 1\r\nx\r\nPUB c 1\r\ny\r\nPING\r\n")
	rc.expect("MSG b 2 1\r\nx\r\nPONG\r\n")
}

func TestLimit_MaxPayloadFromControlLine(t *testing.T) {
	s := servertest.Run(t, func(o *server.Options) { o.MaxPayload = 100 })
	rc := dialRaw(t, s)
	// The violation is decided before any payload byte arrives.
	rc.send(`CONNECT {"verbose":false}` + "\r\nPUB foo 101\r\n")
	if got := rc.expectClosed(); got != "-ERR 'Maximum Payload Violation'\r\n" {
		t.Fatalf("got %q", got)
	}
}

func TestLimit_StaleConnection(t *testing.T) {
	s := servertest.Run(t, func(o *server.Options) {
		o.PingInterval = 100 * time.Millisecond
		o.PingMax = 2
	})
	rc := dialRaw(t, s)
	rc.send(`CONNECT {"verbose":false}` + "\r\n")
	start := time.Now()
	got := rc.expectClosed() // never answers PING
	if got != "PING\r\nPING\r\n-ERR 'Stale Connection'\r\n" {
		t.Fatalf("got %q", got)
	}
	// ping_interval × (ping_max+1) plus slack.
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("closed after %v", el)
	}
	// A client that answers stays.
	ok := dialRaw(t, s)
	ok.send(`CONNECT {"verbose":false}` + "\r\n")
	for i := 0; i < 4; i++ {
		if l := ok.line(); l != "PING\r\n" {
			t.Fatalf("got %q", l)
		}
		ok.send("PONG\r\n")
	}
	ok.expectOpen()
}

// TestLimit_SlowConsumer publishes 200 MiB at a subscriber that never reads:
// it is cut off while the publisher and another subscriber carry on.
func TestLimit_SlowConsumer(t *testing.T) {
	s := servertest.Run(t, func(o *server.Options) {
		o.MaxPending = 8 << 20
		o.WriteDeadline = 2 * time.Second
	})
	stuck := dialRaw(t, s)
	stuck.send(`CONNECT {"verbose":false}` + "\r\nSUB big 1\r\nPING\r\n")
	stuck.expect("PONG\r\n") // from here on it never reads

	reader := connect(t, s)
	var got atomic.Int64
	rsub, _ := reader.Subscribe("big", func(m *nats.Msg) { got.Add(1) })
	rsub.SetPendingLimits(-1, -1)
	reader.Flush()

	pub := connect(t, s)
	payload := bytes.Repeat([]byte("x"), 64*1024)
	const n = 200 * 16 // 200 MiB
	for i := 0; i < n; i++ {
		if err := pub.Publish("big", payload); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.FlushTimeout(30 * time.Second); err != nil {
		t.Fatalf("publisher held up: %v", err)
	}
	waitFor(t, "the reader to get everything", func() bool { return got.Load() == n })
	waitFor(t, "the stuck subscriber to be cut off", func() bool { return s.NumConns() == 2 })
	if s.SlowConsumers() == 0 {
		t.Fatal("slow consumer not counted")
	}
}

func TestLimit_ControlLineSplitAtEveryByte(t *testing.T) {
	s := servertest.Run(t)
	line := "PUB some.subject reply.to 5\r\nhello\r\n"
	for i := 1; i < len(line); i++ {
		rc := dialRaw(t, s)
		rc.send(`CONNECT {"verbose":false}` + "\r\nSUB some.subject 9\r\nPING\r\n")
		rc.expect("PONG\r\n")
		// Two writes on a no-delay socket usually arrive as two reads; the
		// parser test covers every split deterministically.
		rc.send(line[:i])
		rc.send(line[i:] + "PING\r\n")
		rc.expect("MSG some.subject 9 reply.to 5\r\nhello\r\nPONG\r\n")
		rc.c.Close()
	}
}

func TestTrace_LogsBothDirections(t *testing.T) {
	var buf syncBuffer
	s := servertest.Run(t, func(o *server.Options) {
		o.Trace = true
		o.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	rc := dialRaw(t, s)
	rc.send(`CONNECT {"verbose":false}` + "\r\nSUB t 1\r\nPUB t 2\r\nhi\r\nPING\r\n")
	rc.expect("MSG t 1 2\r\nhi\r\nPONG\r\n")
	for _, want := range []string{`msg="<<- SUB"`, `msg="<<- PUB"`, `msg="->> MSG t 1 2"`, `msg="->> PONG"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("trace lacks %s:\n%s", want, buf.String())
		}
	}
}
