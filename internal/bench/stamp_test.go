package bench

import (
	"bytes"
	"testing"
)

func TestStamp_RoundTrip(t *testing.T) {
	for _, s := range []stamp{
		{},
		{warmup: true, pub: 3, seq: 7, hasTime: true, sent: 12345},
		{pub: MaxClients, seq: 1<<48 - 1, hasTime: true, sent: 1<<48 - 1},
	} {
		b := newPayload(32, nil)
		tail := bytes.Clone(b[stampLen:])
		putStamp(b, s)
		got, ok := readStamp(b)
		if !ok || got != s {
			t.Errorf("round trip of %+v = %+v, %v", s, got, ok)
		}
		if !bytes.Equal(b[stampLen:], tail) {
			t.Error("putStamp wrote past the stamp")
		}
	}
}

func TestStamp_SendTimeWrapsModulo48Bits(t *testing.T) {
	sent := int64(1<<48 - 10)
	b := make([]byte, stampLen)
	putStamp(b, stamp{hasTime: true, sent: sent})
	s, _ := readStamp(b)
	if d := since(sent+25, s.sent); d != 25 {
		t.Errorf("since across the wrap = %d, want 25", d)
	}
	if d := since(1<<50+100, int64(uint64(1<<50+40)&mask48)); d != 60 {
		t.Errorf("since of a full UnixNano = %d, want 60", d)
	}
}

func TestReadStamp_RejectsOthers(t *testing.T) {
	if _, ok := readStamp(make([]byte, stampLen)); ok {
		t.Error("zeros read as a stamp")
	}
	if _, ok := readStamp([]byte{magic0, magic1, 0}); ok {
		t.Error("short payload read as a stamp")
	}
	for range 1000 {
		if _, ok := readStamp(newPayload(stampLen, nil)); ok {
			t.Fatal("a fresh random payload reads as a stamp")
		}
	}
}

func TestNewPayload_FixedContentRepeated(t *testing.T) {
	if got := newPayload(7, []byte("abc")); string(got) != "abcabca" {
		t.Errorf("newPayload = %q", got)
	}
	if got := newPayload(2, []byte("abc")); string(got) != "ab" {
		t.Errorf("newPayload = %q", got)
	}
	if got := newPayload(0, nil); len(got) != 0 {
		t.Errorf("newPayload(0) = %q", got)
	}
}

func FuzzReadStamp(f *testing.F) {
	b := make([]byte, 20)
	putStamp(b, stamp{pub: 1, seq: 2, hasTime: true, sent: 3})
	f.Add(b)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, ok := readStamp(b)
		if !ok {
			return
		}
		c := make([]byte, stampLen)
		putStamp(c, s)
		if !bytes.Equal(c, b[:stampLen]) {
			t.Fatalf("re-encoding %+v = %x, want %x", s, c, b[:stampLen])
		}
	})
}
