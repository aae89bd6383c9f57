package server_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/server"
)

// rawConn is a plain TCP client speaking our own bytes.
type rawConn struct {
	t    testing.TB
	c    net.Conn
	r    *bufio.Reader
	info string
}

func dialAddr(t testing.TB, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	rc := &rawConn{t: t, c: c, r: bufio.NewReader(c)}
	rc.info = rc.line()
	if !strings.HasPrefix(rc.info, "INFO {") || !strings.HasSuffix(rc.info, "} \r\n") {
		t.Fatalf("first line is not INFO: %q", rc.info)
	}
	return rc
}

func dialRaw(t testing.TB, s *server.Server) *rawConn {
	t.Helper()
	return dialAddr(t, s.Addr().String())
}

func (rc *rawConn) send(s string) {
	rc.t.Helper()
	if _, err := rc.c.Write([]byte(s)); err != nil {
		rc.t.Fatalf("send: %v", err)
	}
}

func (rc *rawConn) line() string {
	rc.t.Helper()
	rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	l, err := rc.r.ReadString('\n')
	if err != nil {
		rc.t.Fatalf("read line: %v (got %q)", err, l)
	}
	return l
}

// expect reads exactly len(want) bytes and compares them.
func (rc *rawConn) expect(want string) {
	rc.t.Helper()
	rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got := make([]byte, len(want))
	n, err := io.ReadFull(rc.r, got)
	if err != nil || string(got) != want {
		rc.t.Fatalf("expected %q, got %q (err %v)", want, got[:n], err)
	}
}

// expectClosed reads until EOF and returns what came before it.
func (rc *rawConn) expectClosed() string {
	rc.t.Helper()
	rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(rc.r)
	if err != nil && !isReset(err) {
		rc.t.Fatalf("connection not closed: %v (got %q)", err, b)
	}
	return string(b)
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "reset by peer") || strings.Contains(err.Error(), "broken pipe"))
}

// expectOpen checks the connection still answers PING.
func (rc *rawConn) expectOpen() {
	rc.t.Helper()
	rc.send("PING\r\n")
	rc.expect("PONG\r\n")
}

var _ = bytes.Equal
