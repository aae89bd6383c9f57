package jsbackup

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
)

func sample() []*Msg {
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 123456789, time.UTC)
	return []*Msg{
		{Seq: 3, Subject: "orders.new", Data: []byte("first"), Time: t0},
		{Seq: 7, Subject: "orders.old", Header: []byte("NATS/1.0\r\nA: b\r\n\r\n"), Data: []byte{0, 1, 2, 0xff}, Time: t0.Add(time.Second)},
		{Seq: 8, Subject: "orders.empty", Time: t0.Add(2 * time.Second)},
	}
}

func encode(t *testing.T, msgs []*Msg) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Config: json.RawMessage(`{"name":"ORDERS"}`)})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if err := w.Write(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decodeAll(b []byte) (Header, []*Msg, error) {
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		return Header{}, nil, err
	}
	var out []*Msg
	for {
		m, err := r.Next()
		if errors.Is(err, io.EOF) {
			return r.Header(), out, nil
		}
		if err != nil {
			return r.Header(), out, err
		}
		out = append(out, m)
	}
}

func TestRoundTrip(t *testing.T) {
	in := sample()
	h, out, err := decodeAll(encode(t, in))
	if err != nil {
		t.Fatal(err)
	}
	if string(h.Config) != `{"name":"ORDERS"}` || h.Format != FormatName || h.Version != Version || h.Created.IsZero() {
		t.Fatalf("header %+v", h)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("messages differ:\n in %+v\nout %+v", in, out)
	}
}

func TestWriter_RefusesSequenceGoingBack(t *testing.T) {
	w, _ := NewWriter(io.Discard, Header{})
	if err := w.Write(&Msg{Seq: 5, Subject: "a"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&Msg{Seq: 5, Subject: "a"}); err == nil {
		t.Fatal("repeated sequence accepted")
	}
}

func TestReader_Truncated(t *testing.T) {
	b := encode(t, sample())
	// Cut anywhere: never a silent short restore.
	for cut := 0; cut < len(b); cut++ {
		_, msgs, err := decodeAll(b[:cut])
		if err == nil {
			t.Fatalf("cut at %d of %d: read %d messages without error", cut, len(b), len(msgs))
		}
	}
}

func TestReader_NotBackup(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("hello"), encodeRaw(t, `{"format":"other"}`+"\n")} {
		if _, err := NewReader(bytes.NewReader(in)); !errors.Is(err, ErrNotBackup) {
			t.Fatalf("%q: %v, want ErrNotBackup", in, err)
		}
	}
}

func TestReader_CountMismatch(t *testing.T) {
	raw := `{"format":"natsctl-stream-backup","version":1,"config":{}}` + "\n" +
		`{"seq":1,"subject":"a","time":"2026-01-01T00:00:00Z"}` + "\n" +
		`{"end":true,"messages":2,"last_seq":1}` + "\n"
	if _, _, err := decodeAll(encodeRaw(t, raw)); err == nil {
		t.Fatal("end record with a wrong count accepted")
	}
}

// encodeRaw s2-compresses text as a Writer would.
func encodeRaw(t testing.TB, text string) []byte {
	var buf bytes.Buffer
	zw := s2.NewWriter(&buf)
	if _, err := zw.Write([]byte(text)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func FuzzReader(f *testing.F) {
	f.Add(encodeRaw(f, `{"format":"natsctl-stream-backup","version":1,"config":{}}`+"\n"+`{"end":true}`+"\n"))
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, Header{Config: json.RawMessage(`{}`)})
	for _, m := range sample() {
		w.Write(m)
	}
	w.Close()
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		_, msgs, err := decodeAll(b)
		if err != nil {
			return
		}
		// What decodes re-encodes to the same messages.
		var out bytes.Buffer
		w, _ := NewWriter(&out, Header{})
		for _, m := range msgs {
			if err := w.Write(m); err != nil {
				t.Fatalf("decoded message does not re-encode: %v", err)
			}
		}
		w.Close()
		_, again, err := decodeAll(out.Bytes())
		if err != nil || len(again) != len(msgs) {
			t.Fatalf("re-decode: %v, %d of %d", err, len(again), len(msgs))
		}
	})
}
