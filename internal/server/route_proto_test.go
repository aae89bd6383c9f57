package server

import (
	"fmt"
	"strings"
	"testing"
)

// routeRec records route operations as text.
type routeRec struct{ ops []string }

func (r *routeRec) routeInfo(a []byte) error { r.ops = append(r.ops, "INFO "+string(a)); return nil }
func (r *routeRec) routeConnect(a []byte) error {
	r.ops = append(r.ops, "CONNECT "+string(a))
	return nil
}
func (r *routeRec) routeSub(acc, s, q []byte, w int32) error {
	r.ops = append(r.ops, fmt.Sprintf("SUB %s %s %s %d", acc, s, q, w))
	return nil
}
func (r *routeRec) routeUnsub(acc, s, q []byte) error {
	r.ops = append(r.ops, fmt.Sprintf("UNSUB %s %s %s", acc, s, q))
	return nil
}
func (r *routeRec) routeMsg(pa *pubArgs, acc []byte, qs [][]byte, payload []byte) error {
	var q []string
	for _, x := range qs {
		q = append(q, string(x))
	}
	r.ops = append(r.ops, fmt.Sprintf("MSG %s %s r=%s q=%v hdr=%d %q", acc, pa.subject, pa.reply, q, pa.hdr, payload))
	return nil
}
func (r *routeRec) routeErr(t []byte) error { r.ops = append(r.ops, "ERR "+string(t)); return nil }
func (r *routeRec) processPing() error      { r.ops = append(r.ops, "PING"); return nil }
func (r *routeRec) routePong() error        { r.ops = append(r.ops, "PONG"); return nil }

var routeProtoCases = []struct{ in, want string }{
	{"RS+ $G foo.>\r\n", "SUB $G foo.>  0"},
	{"RS+ $G foo q 7\r\n", "SUB $G foo q 7"},
	{"LS+ leafc $G foo\r\n", "SUB $G foo  0"},
	{"RS- $G foo\r\n", "UNSUB $G foo "},
	{"RS- $G foo q\r\n", "UNSUB $G foo q"},
	{"RMSG $G foo 5\r\nhello\r\n", `MSG $G foo r= q=[] hdr=-1 "hello"`},
	{"RMSG $G foo bar 0\r\n\r\n", `MSG $G foo r=bar q=[] hdr=-1 ""`},
	{"RMSG $G foo + bar q1 q2 1\r\nx\r\n", `MSG $G foo r=bar q=[q1 q2] hdr=-1 "x"`},
	{"RMSG $G foo | q1 1\r\nx\r\n", `MSG $G foo r= q=[q1] hdr=-1 "x"`},
	{"HMSG $G foo 12 13\r\nNATS/1.0\r\n\r\nx\r\n", `MSG $G foo r= q=[] hdr=12 "NATS/1.0\r\n\r\nx"`},
	{"HMSG $G foo + r q 12 12\r\nNATS/1.0\r\n\r\n\r\n", `MSG $G foo r=r q=[q] hdr=12 "NATS/1.0\r\n\r\n"`},
	{"LMSG leafc $G foo 12 12\r\nNATS/1.0\r\n\r\n\r\n", `MSG $G foo r= q=[] hdr=12 "NATS/1.0\r\n\r\n"`},
	{"PING\r\nPONG\r\n+OK\r\nA+ $G\r\n", "PING|PONG"},
	{"INFO {\"a\":1}\r\n", `INFO {"a":1}`},
	{"-ERR 'x'\r\n", "ERR 'x'"},
}

func TestRouteParser_Ops(t *testing.T) {
	for _, tc := range routeProtoCases {
		var r routeRec
		p := routeParser{maxControl: 4096}
		if err := p.parse([]byte(tc.in), &r); err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got := strings.Join(r.ops, "|"); got != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

// Every op fed in two pieces at every byte gives the same result.
func TestRouteParser_Split(t *testing.T) {
	for _, tc := range routeProtoCases {
		for i := 1; i < len(tc.in); i++ {
			var r routeRec
			p := routeParser{maxControl: 4096}
			buf := []byte(tc.in)
			a, b := append([]byte(nil), buf[:i]...), append([]byte(nil), buf[i:]...)
			if err := p.parse(a, &r); err != nil {
				t.Fatalf("%q at %d: %v", tc.in, i, err)
			}
			clear(a) // the parser must not keep aliases into a consumed read
			if err := p.parse(b, &r); err != nil {
				t.Fatalf("%q at %d: %v", tc.in, i, err)
			}
			if got := strings.Join(r.ops, "|"); got != tc.want {
				t.Fatalf("%q split at %d:\n got %s\nwant %s", tc.in, i, got, tc.want)
			}
		}
	}
}

func TestRouteParser_Errors(t *testing.T) {
	for _, in := range []string{
		"BOGUS\r\n", "RS+ $G\r\n", "RS+ $G foo q\r\n", "RS+ $G foo q -1\r\n", "RS- $G\r\n",
		"RMSG $G foo\r\n", "RMSG $G foo x\r\n", "RMSG $G foo a b 1\r\n", "HMSG $G foo 5 2\r\n",
		"RMSG $G foo 2\r\nabcd\r\n", "RMSG $G foo.. 1\r\nx\r\n", "RMSG $G foo 99999999999\r\n",
	} {
		var r routeRec
		p := routeParser{maxControl: 4096}
		if err := p.parse([]byte(in), &r); err == nil {
			t.Errorf("%q accepted: %v", in, r.ops)
		}
	}
}

func TestRouteParser_NoAllocsPerMessage(t *testing.T) {
	in := []byte("RMSG $G foo.bar + _INBOX.x q1 q2 5\r\nhello\r\nRS+ $G a.b q 3\r\n")
	var h nopRoute
	p := routeParser{maxControl: 4096}
	p.parse(in, h) // grow buffers
	if n := testing.AllocsPerRun(100, func() { p.parse(in, h) }); n != 0 {
		t.Fatalf("%v allocations per parse", n)
	}
}

type nopRoute struct{}

func (nopRoute) routeInfo([]byte) error                            { return nil }
func (nopRoute) routeConnect([]byte) error                         { return nil }
func (nopRoute) routeSub(_, _, _ []byte, _ int32) error            { return nil }
func (nopRoute) routeUnsub(_, _, _ []byte) error                   { return nil }
func (nopRoute) routeMsg(*pubArgs, []byte, [][]byte, []byte) error { return nil }
func (nopRoute) routeErr([]byte) error                             { return nil }
func (nopRoute) processPing() error                                { return nil }
func (nopRoute) routePong() error                                  { return nil }

func FuzzRouteParser(f *testing.F) {
	for _, tc := range routeProtoCases {
		f.Add([]byte(tc.in), 3)
	}
	f.Fuzz(func(t *testing.T, in []byte, cut int) {
		var h nopRoute
		p := routeParser{maxControl: 4096}
		if cut < 0 || cut > len(in) {
			cut = len(in) / 2
		}
		if err := p.parse(in[:cut], h); err != nil {
			return
		}
		p.parse(in[cut:], h)
	})
}
