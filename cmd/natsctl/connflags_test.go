package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/iostreams"
	"github.com/natsctl/natsctl/internal/natsservertest"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

// serverKinds are the servers the commands are tested against.
var serverKinds = []struct {
	name  string
	start func(t testing.TB) string
}{
	{"nats-server", func(t testing.TB) string { return natsservertest.Start(t).ClientURL }},
	{"natsctl", func(t testing.TB) string { return servertest.Run(t).ClientURL() }},
}

func eachServer(t *testing.T, f func(t *testing.T, url string)) {
	for _, k := range serverKinds {
		t.Run(k.name, func(t *testing.T) { f(t, k.start(t)) })
	}
}

// connectTo is a Connect for command options that dials url.
func connectTo(url string) func(context.Context) (*client.Conn, error) {
	return func(ctx context.Context) (*client.Conn, error) {
		return client.Connect(ctx, client.Options{Servers: []string{url}})
	}
}

// syncBuffer is a goroutine-safe buffer that can wait for text to appear.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(b.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %q; have %q", s, b.String())
		}
		time.Sleep(5 * time.Millisecond) // polling a condition with a deadline
	}
}

// asyncIO is streams for a command run on another goroutine.
func asyncIO() (*iostreams.IOStreams, *syncBuffer, *syncBuffer) {
	out, errOut := &syncBuffer{}, &syncBuffer{}
	return &iostreams.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut}, out, errOut
}

// goRun starts f on a goroutine and returns its result channel.
func goRun(f func() error) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- f() }()
	return ch
}

func wait(t *testing.T, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(15 * time.Second):
		t.Fatal("command did not finish")
		return nil
	}
}

func TestConnFlagsPrecedence(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("NATS_URL", "")
	t.Setenv("NATS_CONTEXT", "")
	t.Setenv("NATS_USER", "")
	d := &deps{IO: func() *iostreams.IOStreams { ios, _, _, _ := iostreams.Test(); return ios }()}
	if err := runContextAdd(d, newContextStore(), natsContext{Name: "c1", URL: "nats://ctx:1", User: "cu"}, true); err != nil {
		t.Fatal(err)
	}
	parse := func(args ...string) client.Options {
		t.Helper()
		cmd := newPubCmd(d, func(context.Context, *pubOptions) error { return nil })
		if err := cmd.ParseFlags(args); err != nil {
			t.Fatal(err)
		}
		// Read the parsed values back into a connFlags bound to cmd.
		own := &connFlags{d: d, cmd: cmd}
		f := cmd.Flags()
		own.Servers, _ = f.GetString("server")
		own.User, _ = f.GetString("user")
		own.Context, _ = f.GetString("context")
		own.Timeout, _ = f.GetDuration("timeout")
		o, err := own.options()
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	if o := parse(); o.Servers[0] != "nats://ctx:1" || o.User != "cu" {
		t.Fatalf("selected context not used: %+v", o)
	}
	t.Setenv("NATS_URL", "nats://env:2")
	if o := parse(); o.Servers[0] != "nats://env:2" || o.User != "cu" {
		t.Fatalf("NATS_URL should beat the context: %+v", o)
	}
	if o := parse("-s", "nats://flag:3,nats://flag:4", "--user", "fu"); len(o.Servers) != 2 || o.Servers[0] != "nats://flag:3" || o.User != "fu" {
		t.Fatalf("flags should win: %+v", o)
	}
	if o := parse("--timeout", "250ms"); o.Timeout != 250*time.Millisecond {
		t.Fatalf("timeout %v", o.Timeout)
	}
	cmd := newPubCmd(d, func(context.Context, *pubOptions) error { return nil })
	own := &connFlags{d: d, cmd: cmd, Context: "missing"}
	if _, err := own.options(); err == nil || !strings.Contains(err.Error(), "natsctl context ls") {
		t.Fatalf("missing context: %v", err)
	}
}

func TestConnectErrorsSayWhatToDo(t *testing.T) {
	d := &deps{Connect: client.Connect}
	cf := &connFlags{d: d, Servers: "nats://127.0.0.1:1", Timeout: time.Second}
	t.Setenv("NATS_URL", "")
	t.Setenv("NATS_CONTEXT", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	_, err := cf.connect(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no server at nats://127.0.0.1:1: is `natsctl serve` running?") {
		t.Fatalf("unreachable: %v", err)
	}
	cf.Creds = "/nonexistent/user.creds"
	_, err = cf.connect(context.Background())
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/user.creds") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("creds: %v", err)
	}
}

func TestParseHeaders(t *testing.T) {
	h, err := parseHeaders([]string{"a:1", "a: 2", "b:x:y"})
	if err != nil || len(h["a"]) != 2 || h.Get("b") != "x:y" {
		t.Fatalf("%v %v", h, err)
	}
	for _, bad := range []string{"nocolon", ":v", "a b:c"} {
		if _, err := parseHeaders([]string{bad}); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// startNatsServerWithUser runs nats-server requiring user/password.
func startNatsServerWithUser(t *testing.T, user, pass string) string {
	t.Helper()
	return natsservertest.Start(t, "--user", user, "--pass", pass).ClientURL
}
