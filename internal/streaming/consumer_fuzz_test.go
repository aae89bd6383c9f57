package streaming

import (
	"strconv"
	"testing"
)

func FuzzParseAckSubject(f *testing.F) {
	f.Add("$JS.ACK.S.C.1.2.3.1700000000000000000.5")
	f.Add("$JS.ACK._.HASH.S.C.2.10.11.1700000000000000000.0.tok")
	f.Add("$JS.ACK.S.C.x.2.3.4.5")
	f.Add("$JS.ACK...")
	f.Fuzz(func(t *testing.T, subject string) {
		a, ok := parseAckSubject(subject)
		if !ok {
			return
		}
		if a.sseq == 0 {
			t.Fatalf("accepted %q with sseq 0", subject)
		}
		// Re-rendering a v1 subject from the result parses to the same.
		v1 := "$JS.ACK." + a.stream + "." + a.consumer + "." + strconv.FormatUint(a.dc, 10) + "." +
			strconv.FormatUint(a.sseq, 10) + "." + strconv.FormatUint(a.dseq, 10) + ".0.0"
		if b, ok := parseAckSubject(v1); ok && b != a {
			t.Fatalf("%q -> %+v, re-rendered %q -> %+v", subject, a, v1, b)
		}
	})
}

func FuzzParseNextRequest(f *testing.F) {
	for _, s := range []string{"", "5", " 10 ", `{"batch":3,"expires":1000000000}`, `{"batch":1,"idle_heartbeat":600000000,"expires":1000000000}`, `{"no_wait":true}`, `{"batch":-1}`, "{", "abc"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, bad := parseNextRequest(body)
		if bad != "" {
			if r != nil {
				t.Fatal("request and error both returned")
			}
			return
		}
		if r.n < 1 {
			t.Fatalf("%q: batch %d", body, r.n)
		}
		if r.hb > 0 && r.expires.IsZero() {
			t.Fatalf("%q: heartbeat without expiry accepted", body)
		}
	})
}

func FuzzConsumerState(f *testing.F) {
	c := &consumer{pending: map[uint64]*pendingMsg{}, rdc: map[uint64]uint64{}, rdqSet: map[uint64]struct{}{}}
	c.sseq, c.dseq, c.asflr, c.adflr = 10, 12, 3, 4
	c.pending[5] = &pendingMsg{dseq: 6, ts: 7}
	c.rdc[5] = 3
	f.Add(c.encodeStateLocked(nil))
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		d := &consumer{pending: map[uint64]*pendingMsg{}, rdc: map[uint64]uint64{}, rdqSet: map[uint64]struct{}{}}
		if d.decodeState(b) != nil {
			return
		}
		// What decodes re-encodes and decodes to the same state.
		e := &consumer{pending: map[uint64]*pendingMsg{}, rdc: map[uint64]uint64{}, rdqSet: map[uint64]struct{}{}}
		if err := e.decodeState(d.encodeStateLocked(nil)); err != nil {
			t.Fatalf("re-encoded state does not decode: %v", err)
		}
		if e.sseq != d.sseq || e.dseq != d.dseq || len(e.pending) != len(d.pending) || len(e.rdc) != len(d.rdc) {
			t.Fatal("state changed through encode/decode")
		}
	})
}
