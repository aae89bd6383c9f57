package main

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/natsservertest"
)

// cutProxy forwards TCP connections to a server until cut; from then on it
// answers each new connection as mode says, so that a client's reconnect
// loop can be held in a known state without killing the server.
type cutProxy struct {
	l        net.Listener
	target   string
	attempts chan struct{} // one per connection accepted after the cut
	sent     atomic.Int64  // bytes forwarded from clients to the server

	mu    sync.Mutex
	mode  proxyMode
	conns []net.Conn
}

type proxyMode int

const (
	proxyForward proxyMode = iota
	proxyRefuse            // accept and close at once: the client backs off and waits
	proxyHold              // accept and say nothing: the client waits for INFO in its dial
)

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{l: l, target: target, attempts: make(chan struct{}, 100)}
	t.Cleanup(func() {
		l.Close()
		p.cut(proxyRefuse)
	})
	go p.serve()
	return p
}

func (p *cutProxy) url() string { return "nats://" + p.l.Addr().String() }

func (p *cutProxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		mode := p.mode
		if mode != proxyRefuse {
			p.conns = append(p.conns, c)
		}
		p.mu.Unlock()
		switch mode {
		case proxyForward:
			go p.forward(c)
		case proxyRefuse:
			c.Close()
		}
		if mode != proxyForward {
			select {
			case p.attempts <- struct{}{}:
			default:
			}
		}
	}
}

func (p *cutProxy) forward(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, s)
	p.mu.Unlock()
	go func() { _, _ = io.Copy(s, countingReader{c, &p.sent}); s.Close() }()
	_, _ = io.Copy(c, s)
	c.Close()
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// cut drops every connection and answers new ones as mode says.
func (p *cutProxy) cut(mode proxyMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = mode
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// interruptDeadline bounds how long a command may take to exit after
// SIGTERM. It is generous for a process exit, yet below every wait the bug
// made a command sit out (drain flush 5s, consumer delete 1s, bench
// flush 15s).
const interruptDeadline = 900 * time.Millisecond

// TestE2EInterruptWhileReconnecting: each long-running client command
// exits promptly on SIGTERM while its connection is in the reconnect loop,
// whether it is waiting between attempts or stuck in a dial, with the exit
// code of an ordinary interrupt.
func TestE2EInterruptWhileReconnecting(t *testing.T) {
	srv := natsservertest.Start(t, "-js", "-sd", t.TempDir())
	setup := [][]string{
		{"stream", "add", "S", "--subjects", "s.>"},
		{"consumer", "add", "S", "C"},
		{"kv", "add", "B"},
	}
	for _, args := range setup {
		if out, err := cli(t, srv.ClientURL, args...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	cases := []struct {
		name    string
		args    []string
		ready   string // on stderr once the command is running
		sent    int64  // else: running once it has sent this many bytes
		stream  string // then wait for the command's consumer on this stream
		code    int
		wantErr string
	}{
		{"sub", []string{"sub", "foo"}, "Subscribed", 0, "", 0, ""},
		{"reply", []string{"reply", "svc", "hi"}, "Replying on", 0, "", 0, ""},
		{"stream sub", []string{"stream", "sub", "S", "--follow"}, "Replaying S", 0, "S", 0, ""},
		{"kv watch", []string{"kv", "watch", "B"}, "Watching B", 0, "KV_B", 0, ""},
		{"consumer sub", []string{"consumer", "sub", "S", "C"}, "Reading pull consumer", 0, "", 0, ""},
		// Past their setup, these print nothing until they end.
		{"bench reqrep", []string{"bench", "reqrep", "--duration", "1h"}, "", 256 << 10, "", 1, "interrupted while disconnected"},
		{"pub --sleep", []string{"pub", "p", "x", "--count", "1000000", "--sleep", "5ms"}, "", 1 << 10, "", 1, "interrupted while disconnected"},
	}
	for _, mode := range []struct {
		name string
		m    proxyMode
	}{{"backing off", proxyRefuse}, {"in a dial", proxyHold}} {
		for _, tc := range cases {
			t.Run(mode.name+"/"+tc.name, func(t *testing.T) {
				proxy := newCutProxy(t, hostPort(srv.ClientURL))
				before := 0
				if tc.stream != "" {
					before = consumerCount(t, srv.ClientURL, tc.stream)
				}
				cmd := cli(t, proxy.url(), tc.args...)
				var done <-chan error
				errOut := &syncBuffer{}
				if tc.ready != "" {
					done = startBackground(t, cmd, io.Discard, tc.ready)
				} else {
					done = startQuiet(t, cmd, errOut)
					waitSent(t, proxy, tc.sent)
				}
				if tc.stream != "" {
					// Its ordered consumer exists: on exit it would delete it.
					waitConsumer(t, srv.ClientURL, tc.stream, before)
				}
				proxy.cut(mode.m)
				select {
				case <-proxy.attempts: // the client is in its reconnect loop
				case err := <-done:
					t.Fatalf("%v exited by itself after the cut: %v; stderr %q", tc.args, err, errOut.String())
				case <-time.After(10 * time.Second):
					t.Fatal("the client did not try to reconnect")
				}
				if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
				var err error
				select {
				case err = <-done:
				case <-time.After(interruptDeadline):
					t.Fatalf("%v still running %s after SIGTERM", tc.args, interruptDeadline)
				}
				code := 0
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					code = ee.ExitCode()
				} else if err != nil {
					t.Fatal(err)
				}
				if code != tc.code || !strings.Contains(errOut.String(), tc.wantErr) {
					t.Fatalf("exit code %d (want %d), stderr %q (want %q)", code, tc.code, errOut.String(), tc.wantErr)
				}
			})
		}
	}
}

// startQuiet starts cmd with stderr into errOut and returns its exit.
func startQuiet(t *testing.T, cmd *exec.Cmd, errOut io.Writer) <-chan error {
	t.Helper()
	cmd.Stdout, cmd.Stderr = io.Discard, errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	return done
}

// waitSent waits until clients have sent n bytes through the proxy.
func waitSent(t *testing.T, p *cutProxy, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for p.sent.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes through the proxy, want %d", p.sent.Load(), n)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition with a deadline
	}
}

// consumerCount is the number of consumers on stream.
func consumerCount(t *testing.T, url, stream string) int {
	t.Helper()
	out, err := cli(t, url, "stream", "info", stream, "--json").Output()
	if err != nil {
		t.Fatalf("stream info %s: %v", stream, err)
	}
	var si struct {
		State struct {
			Consumers int `json:"consumer_count"`
		} `json:"state"`
	}
	if err := json.Unmarshal(out, &si); err != nil {
		t.Fatalf("stream info %s: %v", stream, err)
	}
	return si.State.Consumers
}

// waitConsumer waits until stream has more than before consumers.
func waitConsumer(t *testing.T, url, stream string, before int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for consumerCount(t, url, stream) <= before {
		if time.Now().After(deadline) {
			t.Fatalf("stream %s: no new consumer", stream)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition with a deadline
	}
}

// hostPort strips a URL's scheme.
func hostPort(u string) string {
	_, hp, _ := strings.Cut(u, "://")
	return hp
}
