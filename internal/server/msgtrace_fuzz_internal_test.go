package server

import (
	"bytes"
	"strings"
	"testing"
)

func TestTraceHeaders(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want map[string][]string
	}{
		{"NATS/1.0\r\nNats-Trace-Dest: a.b\r\n\r\n", map[string][]string{"Nats-Trace-Dest": {"a.b"}}},
		{"NATS/1.0\r\nX:  v1 \t\r\nx: v2\r\nX:v3\r\n\r\n", map[string][]string{"X": {"v1", "v3"}, "x": {"v2"}}},
		{"NATS/1.0\r\nEmpty:\r\n: nameless\r\nnocolon\r\nK: v\r\n\r\n", map[string][]string{"K": {"v"}}},
		{"NATS/1.0\r\nK: v\r\nUnterminated: x", map[string][]string{"K": {"v"}}},
		{"NATS/1.0 503\r\nK: v\r\n\r\n", nil}, // a status: not traced, as nats-server
		{"HTTP/1.0\r\nK: v\r\n\r\n", nil},
	} {
		got := traceHeaders([]byte(tc.in))
		if len(got) != len(tc.want) {
			t.Fatalf("%q: %v, want %v", tc.in, got, tc.want)
		}
		for k, v := range tc.want {
			if strings.Join(got[k], "|") != strings.Join(v, "|") {
				t.Fatalf("%q: %v, want %v", tc.in, got, tc.want)
			}
		}
	}
}

func TestSetTraceDest(t *testing.T) {
	in := "NATS/1.0\r\nA: 1\r\nNats-Trace-Dest:  old.dest\r\nB: 2\r\n\r\n"
	if got, want := string(DisableTrace([]byte(in))), "NATS/1.0\r\nA: 1\r\nNats-Trace-Dest: trace disabled\r\nB: 2\r\n\r\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := DisableTrace([]byte("NATS/1.0\r\nA: 1\r\n\r\n")); string(got) != "NATS/1.0\r\nA: 1\r\n\r\n" {
		t.Fatalf("got %q", got)
	}
}

// FuzzTraceHeaders: the header parser of traces never panics, returns
// only names and values it could have read, and agrees with setTraceDest.
func FuzzTraceHeaders(f *testing.F) {
	for _, s := range []string{
		"NATS/1.0\r\nNats-Trace-Dest: a.b\r\nNats-Trace-Only: true\r\n\r\n",
		"NATS/1.0\r\nX:  v1 \t\r\nx: v2\r\n\r\n",
		"NATS/1.0\r\nNats-Trace-Dest:\r\nNats-Trace-Dest: later\r\n\r\n",
		"NATS/1.0\r\n:\r\n\r\n",
		"NATS/1.0\r\nK: v",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, hdr []byte) {
		m := traceHeaders(hdr)
		for k, vs := range m {
			if k == "" || strings.Contains(k, "\r\n") || len(vs) == 0 {
				t.Fatalf("name %q values %q", k, vs)
			}
			for _, v := range vs {
				if v == "" || strings.Contains(v, "\r\n") || strings.Trim(v, " \t") != v {
					t.Fatalf("value %q of %q", v, k)
				}
			}
		}
		out := setTraceDest(hdr, "new.dest")
		if len(m[hdrTraceDest]) > 0 {
			if got := traceHeaders(out)[hdrTraceDest]; len(got) == 0 || got[0] != "new.dest" {
				t.Fatalf("after setTraceDest: %q from %q", got, out)
			}
		} else if !bytes.Contains(hdr, []byte("\r\n"+hdrTraceDest+":")) && !bytes.Equal(out, hdr) {
			t.Fatalf("setTraceDest changed %q", hdr)
		}
	})
}
