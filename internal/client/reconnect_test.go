package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/natsservertest"
)

// deadURL returns a URL where nothing listens.
func deadURL(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "nats://" + addr
}

// TestReconnectSameAddress stops the server and starts it again on the same
// port: the subscription keeps receiving without the application doing
// anything, and publishes made while disconnected are delivered.
func TestReconnectSameAddress(t *testing.T) {
	p := natsservertest.Start(t)
	port := p.Port()
	disconnected := make(chan error, 10)
	reconnected := make(chan struct{}, 10)
	c := connect(t, p.ClientURL, func(o *Options) {
		o.MaxReconnects = -1
		o.DisconnectedHandler = func(_ *Conn, err error) { disconnected <- err }
		o.ReconnectedHandler = func(*Conn) { reconnected <- struct{}{} }
	})
	got := make(chan string, 100)
	if _, err := c.Subscribe("r", func(m *Msg) { got <- string(m.Data) }); err != nil {
		t.Fatal(err)
	}
	flush(t, c)
	if err := c.Publish("r", []byte("before")); err != nil {
		t.Fatal(err)
	}
	if m := recv(t, got, "message before restart"); m != "before" {
		t.Fatalf("got %q", m)
	}

	p.Stop()
	recv(t, disconnected, "disconnect")
	if err := c.Publish("r", []byte("while down")); err != nil {
		t.Fatalf("publish while disconnected: %v", err)
	}
	natsservertest.StartOnPort(t, port)
	recv(t, reconnected, "reconnect")
	if m := recv(t, got, "buffered message"); m != "while down" {
		t.Fatalf("got %q", m)
	}

	other := connect(t, p.ClientURL)
	if err := other.Publish("r", []byte("after")); err != nil {
		t.Fatal(err)
	}
	flush(t, other)
	if m := recv(t, got, "message after restart"); m != "after" {
		t.Fatalf("got %q", m)
	}
	if c.Stats().Reconnects != 1 {
		t.Fatalf("reconnects %d", c.Stats().Reconnects)
	}
}

// TestFailoverURLList: a dead first URL is skipped at connect, and losing
// the server moves the connection to the next one in the list.
func TestFailoverURLList(t *testing.T) {
	a := natsservertest.Start(t)
	b := natsservertest.Start(t)
	dead := deadURL(t)
	reconnected := make(chan string, 10)
	c := connect(t, strings.Join([]string{dead, a.ClientURL, b.ClientURL}, ","), func(o *Options) {
		o.ReconnectedHandler = func(c *Conn) { reconnected <- c.ConnectedURL() }
	})
	if got := c.ConnectedURL(); got != a.ClientURL {
		t.Fatalf("connected to %s, want %s", got, a.ClientURL)
	}
	s, err := c.SubscribeSync("f")
	if err != nil {
		t.Fatal(err)
	}
	flush(t, c)
	a.Stop()
	if url := recv(t, reconnected, "reconnect"); url != b.ClientURL {
		t.Fatalf("reconnected to %s, want %s", url, b.ClientURL)
	}
	other := connect(t, b.ClientURL)
	if err := other.Publish("f", []byte("on b")); err != nil {
		t.Fatal(err)
	}
	flush(t, other)
	if m, err := s.NextMsg(5 * time.Second); err != nil || string(m.Data) != "on b" {
		t.Fatalf("after failover: %v %v", m, err)
	}
}

// TestReconnectGivesUp: with every server gone and a retry limit, the
// connection closes and says why.
func TestReconnectGivesUp(t *testing.T) {
	p := natsservertest.Start(t)
	closed := make(chan struct{})
	c := connect(t, p.ClientURL, func(o *Options) {
		o.MaxReconnects = 2
		o.ClosedHandler = func(*Conn) { close(closed) }
	})
	p.Stop()
	recv(t, closed, "close after giving up")
	if c.Status() != Closed {
		t.Fatalf("status %v", c.Status())
	}
	mustErr(t, c.Publish("x", nil), ErrConnectionClosed)
}

// fakeServer accepts one client, does the handshake, then lets the test
// script the rest. It speaks just enough protocol for keep-alive and
// lame-duck tests.
type fakeServer struct {
	l     net.Listener
	conns chan net.Conn
}

func newFakeServer(t *testing.T, info string) *fakeServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{l: l, conns: make(chan net.Conn, 4)}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { nc.Close() })
			fmt.Fprintf(nc, "INFO %s\r\n", info)
			br := bufio.NewReader(nc)
			// CONNECT, then PING: answer it to complete the handshake.
			if _, err := br.ReadString('\n'); err != nil {
				return
			}
			if _, err := br.ReadString('\n'); err != nil {
				return
			}
			if _, err := nc.Write([]byte("PONG\r\n")); err != nil {
				return
			}
			f.conns <- nc
		}
	}()
	return f
}

func (f *fakeServer) url() string { return "nats://" + f.l.Addr().String() }

// TestKeepAliveDetectsDeadServer: a server that stops answering PINGs is
// declared stale after MaxPingsOut and the client reconnects.
func TestKeepAliveDetectsDeadServer(t *testing.T) {
	f := newFakeServer(t, `{"server_id":"fake","headers":true,"max_payload":1048576}`)
	disconnected := make(chan error, 1)
	c := connect(t, f.url(), func(o *Options) {
		o.PingInterval = 20 * time.Millisecond
		o.MaxPingsOut = 2
		o.DisconnectedHandler = func(_ *Conn, err error) {
			select {
			case disconnected <- err:
			default:
			}
		}
	})
	recv(t, f.conns, "connection")
	err := recv(t, disconnected, "stale connection")
	if !errors.Is(err, ErrStaleConnection) {
		t.Fatalf("disconnect reason %v", err)
	}
	// It comes back to the same (still listening) server.
	recv(t, f.conns, "reconnection")
	waitFor(t, "reconnected", c.IsConnected)
}

// TestLameDuckMovesToAnotherServer: a server announcing lame-duck mode, with
// another server in the cluster, makes the client move there.
func TestLameDuckMovesToAnotherServer(t *testing.T) {
	real := natsservertest.Start(t)
	f := newFakeServer(t, `{"server_id":"fake","headers":true,"max_payload":1048576}`)
	reconnected := make(chan string, 1)
	lame := make(chan struct{}, 1)
	c := connect(t, f.url(), func(o *Options) {
		o.ReconnectedHandler = func(c *Conn) { reconnected <- c.ConnectedURL() }
		o.LameDuckHandler = func(*Conn) { lame <- struct{}{} }
	})
	nc := recv(t, f.conns, "connection")
	s, err := c.SubscribeSync("ldm")
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(real.ClientURL, "nats://")
	fmt.Fprintf(nc, "INFO {\"server_id\":\"fake\",\"headers\":true,\"connect_urls\":[%q],\"ldm\":true}\r\n", host)
	recv(t, lame, "lame duck callback")
	if url := recv(t, reconnected, "move"); url != real.ClientURL {
		t.Fatalf("moved to %s, want %s", url, real.ClientURL)
	}
	if err := c.Publish("ldm", []byte("here")); err != nil {
		t.Fatal(err)
	}
	if m, err := s.NextMsg(5 * time.Second); err != nil || string(m.Data) != "here" {
		t.Fatalf("after move: %v %v", m, err)
	}
	servers := c.Servers()
	if len(servers) != 2 {
		t.Fatalf("pool %v: the announced server should have been added", servers)
	}
}

func TestFlushFailsOnClose(t *testing.T) {
	f := newFakeServer(t, `{"server_id":"fake","headers":true}`)
	c := connect(t, f.url(), func(o *Options) { o.NoReconnect = true })
	recv(t, f.conns, "connection")
	errc := make(chan error, 1)
	go func() { errc <- c.Flush(context.Background()) }() // the fake never answers
	waitFor(t, "PING queued", func() bool { c.mu.Lock(); defer c.mu.Unlock(); return len(c.pongs) > 0 })
	c.Close()
	mustErr(t, recv(t, errc, "flush result"), ErrConnectionClosed)
}
