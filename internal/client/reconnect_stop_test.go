package client

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// flakyServer completes the handshake with its first client and answers
// every later connection as hold says: hold it open saying nothing (the
// client waits in its dial), or close it at once (the client backs off).
type flakyServer struct {
	l        net.Listener
	hold     bool
	first    chan net.Conn // the handshaken first connection
	attempts chan struct{} // one per later connection

	mu    sync.Mutex
	conns []net.Conn
}

func newFlakyServer(t *testing.T, hold bool) *flakyServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &flakyServer{l: l, hold: hold, first: make(chan net.Conn, 1), attempts: make(chan struct{}, 100)}
	t.Cleanup(func() {
		l.Close()
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, c := range f.conns {
			c.Close()
		}
	})
	go func() {
		for n := 0; ; n++ {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conns = append(f.conns, nc)
			f.mu.Unlock()
			switch {
			case n == 0:
				go f.handshake(nc)
				continue
			case !hold:
				nc.Close()
			}
			select {
			case f.attempts <- struct{}{}:
			default:
			}
		}
	}()
	return f
}

func (f *flakyServer) handshake(nc net.Conn) {
	nc.Write([]byte(`INFO {"server_id":"flaky","headers":true,"max_payload":1048576}` + "\r\n"))
	br := bufio.NewReader(nc)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		if strings.HasPrefix(line, "PING") {
			nc.Write([]byte("PONG\r\n"))
			f.first <- nc
			return
		}
	}
}

func (f *flakyServer) url() string { return "nats://" + f.l.Addr().String() }

// TestStopWhileReconnecting: Close and Drain return promptly while the
// connection is in its reconnect loop, whether the loop waits out a backoff
// of an hour or sits in a dial with an hour's timeout, and the reconnect
// goroutine ends with them. Drain says it could not flush.
func TestStopWhileReconnecting(t *testing.T) {
	for _, state := range []struct {
		name string
		hold bool
	}{{"backing off", false}, {"in a dial", true}} {
		for _, stop := range []struct {
			name string
			f    func(*Conn) error
		}{
			{"Close", func(c *Conn) error { c.Close(); return nil }},
			{"Drain", func(c *Conn) error { return c.Drain(context.Background()) }},
		} {
			t.Run(state.name+"/"+stop.name, func(t *testing.T) {
				f := newFlakyServer(t, state.hold)
				disconnected := make(chan error, 1)
				c := connect(t, f.url(), func(o *Options) {
					o.MaxReconnects, o.ReconnectWait, o.Timeout = -1, time.Hour, time.Hour
					o.DisconnectedHandler = func(_ *Conn, err error) { disconnected <- err }
				})
				got := make(chan string, 1)
				if _, err := c.Subscribe("s", func(m *Msg) { got <- string(m.Data) }); err != nil {
					t.Fatal(err)
				}
				srv := recv(t, f.first, "handshake")
				srv.Close()
				recv(t, disconnected, "disconnect")
				recv(t, f.attempts, "reconnect attempt")
				if s := c.Status(); s != Reconnecting {
					t.Fatalf("status %v, want reconnecting", s)
				}
				// Bounds far below the hour the loop would wait.
				errc := make(chan error, 1)
				go func() { errc <- stop.f(c) }()
				err := recv(t, errc, stop.name+" to return")
				if stop.name == "Drain" {
					mustErr(t, err, ErrConnectionReconnecting)
				}
				wgDone := make(chan struct{})
				go func() { c.wg.Wait(); close(wgDone) }()
				recv(t, wgDone, "the connection's goroutines to end")
				if s := c.Status(); s != Closed {
					t.Fatalf("status %v, want closed", s)
				}
			})
		}
	}
}

// TestDrainWhileReconnectingRunsHandlers: what arrived before the
// disconnect is still handed to the handlers by a Drain while reconnecting.
func TestDrainWhileReconnectingRunsHandlers(t *testing.T) {
	f := newFlakyServer(t, false)
	c := connect(t, f.url(), func(o *Options) { o.MaxReconnects, o.ReconnectWait = -1, time.Hour })
	release := make(chan struct{})
	got := make(chan string, 2)
	if _, err := c.Subscribe("s", func(m *Msg) {
		<-release // the first message holds the handler: the second waits in the queue
		got <- string(m.Data)
	}); err != nil {
		t.Fatal(err)
	}
	srv := recv(t, f.first, "handshake")
	srv.Write([]byte("MSG s 1 3\r\none\r\nMSG s 1 3\r\ntwo\r\n"))
	waitFor(t, "both messages read", func() bool { return c.Stats().InMsgs == 2 })
	srv.Close()
	recv(t, f.attempts, "reconnect attempt")
	errc := make(chan error, 1)
	go func() { errc <- c.Drain(context.Background()) }()
	close(release)
	mustErr(t, recv(t, errc, "Drain"), ErrConnectionReconnecting)
	if a, b := recv(t, got, "first"), recv(t, got, "second"); a != "one" || b != "two" {
		t.Fatalf("handled %q, %q", a, b)
	}
}
