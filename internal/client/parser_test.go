package client

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// recorder collects operations as text, to compare parses.
type recorder struct{ ops []string }

func (r *recorder) processMsg(subj, reply []byte, sid uint64, hdr, data []byte) {
	r.ops = append(r.ops, fmt.Sprintf("MSG %s %d %q %q %q", subj, sid, reply, hdr, data))
}
func (r *recorder) processInfo(js []byte)  { r.ops = append(r.ops, "INFO "+string(js)) }
func (r *recorder) processPing()           { r.ops = append(r.ops, "PING") }
func (r *recorder) processPong()           { r.ops = append(r.ops, "PONG") }
func (r *recorder) processOK()             { r.ops = append(r.ops, "+OK") }
func (r *recorder) processErr(text []byte) { r.ops = append(r.ops, "-ERR "+string(text)) }

var parseCases = []struct {
	in   string
	want []string
}{
	{"PING\r\n", []string{"PING"}},
	{"PONG\r\npong\r\n", []string{"PONG", "PONG"}},
	{"+OK\r\n", []string{"+OK"}},
	{"-ERR 'Authorization Violation'\r\n", []string{"-ERR Authorization Violation"}},
	{`INFO {"server_id":"x"}` + "\r\n", []string{`INFO {"server_id":"x"}`}},
	{"MSG foo 1 5\r\nhello\r\n", []string{`MSG foo 1 "" "" "hello"`}},
	{"MSG foo 1 bar 0\r\n\r\n", []string{`MSG foo 1 "bar" "" ""`}},
	{"msg  foo\t12  bar 3\r\na\r\n\r\n", []string{`MSG foo 12 "bar" "" "a\r\n"`}},
	{"HMSG foo 2 12 14\r\nNATS/1.0\r\n\r\nhi\r\n", []string{`MSG foo 2 "" "NATS/1.0\r\n\r\n" "hi"`}},
	{"HMSG foo 2 r 12 12\r\nNATS/1.0\r\n\r\n\r\nPING\r\n", []string{`MSG foo 2 "r" "NATS/1.0\r\n\r\n" ""`, "PING"}},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		var p parser
		r := &recorder{}
		if err := p.parse([]byte(tc.in), r); err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		if fmt.Sprint(r.ops) != fmt.Sprint(tc.want) {
			t.Errorf("%q:\n got %q\nwant %q", tc.in, r.ops, tc.want)
		}
	}
}

// TestParseSplit feeds every case, all concatenated, in two pieces at every
// byte, and one byte at a time: the result must not change.
func TestParseSplit(t *testing.T) {
	var all []byte
	var want []string
	for _, tc := range parseCases {
		all = append(all, tc.in...)
		want = append(want, tc.want...)
	}
	for i := 0; i <= len(all); i++ {
		var p parser
		r := &recorder{}
		// Copies, overwritten after use, catch slices kept past a parse call.
		a, b := bytes.Clone(all[:i]), bytes.Clone(all[i:])
		if err := p.parse(a, r); err != nil {
			t.Fatalf("split %d: %v", i, err)
		}
		for k := range a {
			a[k] = 'X'
		}
		if err := p.parse(b, r); err != nil {
			t.Fatalf("split %d: %v", i, err)
		}
		if fmt.Sprint(r.ops) != fmt.Sprint(want) {
			t.Fatalf("split at %d:\n got %q\nwant %q", i, r.ops, want)
		}
	}
	var p parser
	r := &recorder{}
	for i := range all {
		b := []byte{all[i]}
		if err := p.parse(b, r); err != nil {
			t.Fatal(err)
		}
		b[0] = 'X'
	}
	if fmt.Sprint(r.ops) != fmt.Sprint(want) {
		t.Fatalf("byte at a time:\n got %q\nwant %q", r.ops, want)
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{
		"FOO\r\n",
		"MSG foo\r\n",
		"MSG foo x 1\r\na\r\n",
		"MSG foo 1 -1\r\n",
		"MSG foo 1 2\r\nabcd\r\n",
		"HMSG foo 1 5 2\r\n",
		"MSG a b c d e f\r\n",
	} {
		var p parser
		if err := p.parse([]byte(in), &recorder{}); !errors.Is(err, ErrProtocol) {
			t.Errorf("%q: err = %v, want a protocol error", in, err)
		}
	}
}

type nopHandler struct{}

func (nopHandler) processMsg(subj, reply []byte, sid uint64, hdr, data []byte) {}
func (nopHandler) processInfo([]byte)                                          {}
func (nopHandler) processPing()                                                {}
func (nopHandler) processPong()                                                {}
func (nopHandler) processOK()                                                  {}
func (nopHandler) processErr([]byte)                                           {}

// TestParseNoAlloc guards the hot path: whole and split messages parse
// without allocating once the scratch buffers have grown.
func TestParseNoAlloc(t *testing.T) {
	in := []byte("MSG foo.bar 1 _INBOX.x 11\r\nhello world\r\nHMSG a 2 12 14\r\nNATS/1.0\r\n\r\nhi\r\n")
	var p parser
	allocs := testing.AllocsPerRun(1000, func() {
		_ = p.parse(in[:7], nopHandler{})
		_ = p.parse(in[7:30], nopHandler{})
		_ = p.parse(in[30:], nopHandler{})
	})
	if allocs != 0 {
		t.Fatalf("parse allocates %.1f times per run", allocs)
	}
}

func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add([]byte(tc.in), len(tc.in)/2)
	}
	f.Fuzz(func(t *testing.T, in []byte, cut int) {
		if cut < 0 || cut > len(in) {
			cut = len(in) / 2
		}
		var whole, split parser
		r1, r2 := &recorder{}, &recorder{}
		err1 := whole.parse(bytes.Clone(in), r1)
		err2 := split.parse(bytes.Clone(in[:cut]), r2)
		if err2 == nil {
			err2 = split.parse(bytes.Clone(in[cut:]), r2)
		}
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("whole err %v, split err %v", err1, err2)
		}
		if err1 == nil && fmt.Sprint(r1.ops) != fmt.Sprint(r2.ops) {
			t.Fatalf("whole %q != split %q", r1.ops, r2.ops)
		}
	})
}
