package server

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// recorder is a handler that writes each operation as a line of text.
type recorder struct{ b strings.Builder }

func (r *recorder) processConnect(arg []byte) error {
	fmt.Fprintf(&r.b, "CONNECT %s\n", arg)
	return nil
}
func (r *recorder) processPub(pa *pubArgs, payload []byte) error {
	fmt.Fprintf(&r.b, "PUB %s|%s|%d|%q\n", pa.subject, pa.reply, pa.hdr, payload)
	return nil
}
func (r *recorder) processSub(subject, queue, sid []byte) error {
	fmt.Fprintf(&r.b, "SUB %s|%s|%s\n", subject, queue, sid)
	return nil
}
func (r *recorder) processUnsub(sid []byte, max int64) error {
	fmt.Fprintf(&r.b, "UNSUB %s|%d\n", sid, max)
	return nil
}
func (r *recorder) processHPub(pa *pubArgs, payload []byte) error { return r.processPub(pa, payload) }
func (r *recorder) processPing() error                            { r.b.WriteString("PING\n"); return nil }
func (r *recorder) processPong() error                            { r.b.WriteString("PONG\n"); return nil }

func newTestParser() *parser {
	return &parser{maxControl: 4096, maxPayload: 1 << 20, headers: true}
}

// a stream that uses every operation and argument form.
const allOps = "CONNECT {\"verbose\":false}\r\nPING\r\npong\r\nSUB foo 1\r\nsub\tfoo  q  2\r\n" +
	"PUB foo 5\r\nhello\r\nPUB foo bar 0\r\n\r\nHPUB h 12 14\r\nNATS/1.0\r\n\r\nhi\r\n" +
	"HPUB h r 12 12\r\nNATS/1.0\r\n\r\n\r\nUNSUB 1\r\nUNSUB 2 10\r\n+OK\r\nINFO {}\r\nPING\n"

const allOpsWant = `CONNECT {"verbose":false}
PING
PONG
SUB foo||1
SUB foo|q|2
PUB foo||-1|"hello"
PUB foo|bar|-1|""
PUB h||12|"NATS/1.0\r\n\r\nhi"
PUB h|r|12|"NATS/1.0\r\n\r\n"
UNSUB 1|0
UNSUB 2|10
PING
`

func TestParser_AllOps(t *testing.T) {
	r := &recorder{}
	if err := newTestParser().parse([]byte(allOps), r); err != nil {
		t.Fatal(err)
	}
	if got := r.b.String(); got != allOpsWant {
		t.Fatalf("got\n%s\nwant\n%s", got, allOpsWant)
	}
}

// TestParser_SplitEverywhere feeds the stream in two reads split at every
// byte, and byte by byte, reusing the read buffer as the server does.
func TestParser_SplitEverywhere(t *testing.T) {
	in := []byte(allOps)
	for i := 0; i <= len(in); i++ {
		p, r := newTestParser(), &recorder{}
		buf := make([]byte, len(in))
		n := copy(buf, in[:i])
		if err := p.parse(buf[:n], r); err != nil {
			t.Fatalf("split %d: %v", i, err)
		}
		clear(buf) // the next read overwrites the buffer
		n = copy(buf, in[i:])
		if err := p.parse(buf[:n], r); err != nil {
			t.Fatalf("split %d: %v", i, err)
		}
		if got := r.b.String(); got != allOpsWant {
			t.Fatalf("split at %d (%q|%q):\n%s", i, in[:i], in[i:], got)
		}
	}
	p, r := newTestParser(), &recorder{}
	one := make([]byte, 1)
	for _, b := range in {
		one[0] = b
		if err := p.parse(one, r); err != nil {
			t.Fatal(err)
		}
	}
	if got := r.b.String(); got != allOpsWant {
		t.Fatalf("byte by byte:\n%s", got)
	}
}

func TestParser_Errors(t *testing.T) {
	cases := []struct {
		in   string
		want *protoError
	}{
		{"FOO bar\r\n", errParseUnknownOp},
		{"\r\n", errParseUnknownOp},
		{"PUB\r\n", errParseUnknownOp},
		{"UNSUB\r\n", errParseUnknownOp},
		{"PINGX\r\n", errParseUnknownOp},
		{"PUB foo\r\n", errParseBadArgs},
		{"PUB foo abc\r\n", errParseBadArgs},
		{"PUB foo -1\r\n", errParseBadArgs},
		{"PUB foo bar baz 1\r\n", errParseBadArgs},
		{"SUB foo\r\n", errParseBadArgs},
		{"SUB foo bar baz 1\r\n", errParseBadArgs},
		{"HPUB foo 30 10\r\n", errParseBadArgs},
		{"PUB foo 2000000\r\n", errParseMaxPayload},
		{"PUB foo 2\r\nhello\r\n", errParseUnknownOp},
		{"-ERR 'x'\r\n", errParseClientError},
		{"SUB " + strings.Repeat("a", 5000) + " 1\r\n", errParseMaxControl},
		{"PUB " + strings.Repeat("a", 5000), errParseMaxControl},
	}
	for _, tc := range cases {
		err := newTestParser().parse([]byte(tc.in), &recorder{})
		if err != tc.want {
			t.Errorf("%.40q: got %v, want %v", tc.in, err, tc.want)
		}
	}
	// CONNECT may exceed max_control_line (it can carry a JWT).
	long := "CONNECT {\"jwt\":\"" + strings.Repeat("x", 8000) + "\"}\r\n"
	if err := newTestParser().parse([]byte(long), &recorder{}); err != nil {
		t.Fatalf("long CONNECT: %v", err)
	}
	p := newTestParser()
	p.headers = false
	if err := p.parse([]byte("HPUB h 12 14\r\n"), &recorder{}); err != errParseBadArgs {
		t.Fatalf("HPUB without headers: %v", err)
	}
}

func FuzzParser(f *testing.F) {
	f.Add([]byte(allOps), 7)
	f.Add([]byte("PUB foo 5\r\nhello\r\n"), 3)
	f.Add([]byte("HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"), 9)
	f.Add([]byte("SUB foo.* q 1\r\nUNSUB 1 5\r\n"), 0)
	f.Fuzz(func(t *testing.T, in []byte, split int) {
		// Whole and in two pieces must agree on what was parsed and on
		// whether it failed.
		p1, r1 := newTestParser(), &recorder{}
		err1 := p1.parse(in, r1)
		if split < 0 {
			split = -split
		}
		split %= len(in) + 1
		p2, r2 := newTestParser(), &recorder{}
		err2 := p2.parse(bytes.Clone(in[:split]), r2)
		if err2 == nil {
			err2 = p2.parse(bytes.Clone(in[split:]), r2)
		}
		if (err1 == nil) != (err2 == nil) && !isLineLimitRace(err1, err2) {
			t.Fatalf("whole: %v, split at %d: %v", err1, split, err2)
		}
		if err1 == nil && err2 == nil && r1.b.String() != r2.b.String() {
			t.Fatalf("whole and split disagree:\n%s\n---\n%s", r1.b.String(), r2.b.String())
		}
	})
}

// isLineLimitRace allows one difference: an over-long partial line is refused
// as soon as it is seen, before its end arrives.
func isLineLimitRace(a, b error) bool {
	return a == errParseMaxControl || b == errParseMaxControl
}

// BenchmarkParsePub parses a read batch of small PUBs; it must not allocate.
func BenchmarkParsePub(b *testing.B) {
	var batch []byte
	for i := 0; i < 100; i++ {
		batch = append(batch, "PUB foo.bar 16\r\n0123456789abcdef\r\n"...)
	}
	p := newTestParser()
	h := nopHandler{}
	b.ReportAllocs()
	b.SetBytes(int64(len(batch)))
	for b.Loop() {
		if err := p.parse(batch, h); err != nil {
			b.Fatal(err)
		}
	}
}

type nopHandler struct{}

func (nopHandler) processConnect([]byte) error        { return nil }
func (nopHandler) processPub(*pubArgs, []byte) error  { return nil }
func (nopHandler) processHPub(*pubArgs, []byte) error { return nil }
func (nopHandler) processSub(_, _, _ []byte) error    { return nil }
func (nopHandler) processUnsub([]byte, int64) error   { return nil }
func (nopHandler) processPing() error                 { return nil }
func (nopHandler) processPong() error                 { return nil }

func TestParsePub_NoAllocs(t *testing.T) {
	batch := []byte("PUB foo.bar 16\r\n0123456789abcdef\r\nPUB foo rep 3\r\nabc\r\n")
	p := newTestParser()
	if n := testing.AllocsPerRun(100, func() { _ = p.parse(batch, nopHandler{}) }); n != 0 {
		t.Fatalf("parse allocates %.1f times per batch", n)
	}
}
