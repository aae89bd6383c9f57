package jsbackup

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

func archiveSample() []*Entry {
	return []*Entry{
		{Name: "state.json", Timestamp: 5, Payload: []byte(`{"messages":2}`)},
		{Name: "a.b", Timestamp: -1, Sequence: 7, Header: []byte("NATS/1.0\r\nK: v\r\n\r\n"), Payload: []byte("data")},
		{Name: "a.c", Timestamp: 1 << 60, Sequence: 9},
		{},
	}
}

func writeArchive(t testing.TB, es []*Entry) []byte {
	var buf bytes.Buffer
	w := NewArchiveWriter(&buf)
	for _, e := range es {
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readArchive(b []byte) ([]*Entry, error) {
	r := NewArchiveReader(bufio.NewReader(bytes.NewReader(b)), 1<<20)
	var out []*Entry
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, e)
	}
}

func TestArchive_RoundTrip(t *testing.T) {
	in := archiveSample()
	b := writeArchive(t, in)
	if !bytes.HasPrefix(b, []byte(ArchiveMagic)) {
		t.Fatal("no magic")
	}
	out, err := readArchive(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) || !out[3].IsEnd() || out[2].IsEnd() {
		t.Fatalf("round trip:\n%+v\n%+v", in, out)
	}
}

func TestArchive_BadInput(t *testing.T) {
	b := writeArchive(t, archiveSample())
	for cut := len(ArchiveMagic) + 1; cut < len(b)-1; cut++ {
		es, err := readArchive(b[:cut])
		// A cut between entries reads as a clean end: the missing end
		// marker is what the restore checks for.
		if err == nil && len(es) > 0 && es[len(es)-1].IsEnd() {
			t.Fatalf("cut at %d: ends with the end marker", cut)
		}
	}
	if _, err := readArchive([]byte("NOTMAGIC")); !errors.Is(err, ErrBadArchive) {
		t.Fatalf("bad magic: %v", err)
	}
	huge := append([]byte(ArchiveMagic), 1, 0, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 'x')
	if _, err := readArchive(huge); !errors.Is(err, ErrBadArchive) {
		t.Fatalf("oversized entry: %v", err)
	}
}

func FuzzArchiveReader(f *testing.F) {
	f.Add(writeArchive(f, archiveSample()))
	f.Add([]byte(ArchiveMagic))
	f.Add(writeArchive(f, consumerSample()))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = snapshotMsgs(b) // must not panic or allocate without bound
		es, err := readArchive(b)
		if err != nil {
			return
		}
		again, err := readArchive(writeArchive(t, es))
		if err != nil || len(again) != len(es) {
			t.Fatalf("re-read: %v, %d of %d", err, len(again), len(es))
		}
	})
}

func snapshotMsgs(b []byte) ([]*Msg, error) {
	sr, err := NewSnapshotReader(bufio.NewReader(bytes.NewReader(b)))
	if err != nil {
		return nil, err
	}
	var out []*Msg
	for {
		m, err := sr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, m)
	}
}

func consumerSample() []*Entry {
	return []*Entry{
		{Name: "state.json", Payload: []byte(`{"messages":1,"consumer_count":2}`)},
		{Name: "consumers/A", Timestamp: 1, Payload: []byte(`{"config":{},"state":{}}`)},
		{Name: "consumers/B", Timestamp: 1, Payload: []byte(`{}`)},
		{Name: "a", Sequence: 3, Timestamp: 10, Payload: []byte("x")},
		{},
	}
}

// Consumers returns exactly consumer_count entries named consumers/<name>;
// anything else where one is expected, or a non-message after them, is
// an error.
func TestSnapshotReader_Consumers(t *testing.T) {
	es := consumerSample()
	sr, err := NewSnapshotReader(bufio.NewReader(bytes.NewReader(writeArchive(t, es))))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := sr.Consumers()
	if err != nil || len(cs) != 2 || cs[0].Name != "A" || cs[1].Name != "B" || string(cs[1].JSON) != "{}" {
		t.Fatalf("consumers %q, %v", cs, err)
	}
	if m, err := sr.Next(); err != nil || m.Seq != 3 {
		t.Fatalf("message after consumers: %+v %v", m, err)
	}
	// Next alone skips the consumers.
	if msgs, err := snapshotMsgs(writeArchive(t, es)); err != nil || len(msgs) != 1 {
		t.Fatalf("messages %v %v", msgs, err)
	}
	bad := map[string][]*Entry{
		"count above entries":     {es[0], es[1], es[3], es[4]},
		"entry not a consumer":    {es[0], es[1], {Name: "other"}, es[3], es[4]},
		"consumer among messages": {{Name: "state.json", Payload: []byte(`{}`)}, es[3], es[1], es[4]},
		"bad state.json":          {{Name: "state.json", Payload: []byte(`{`)}, es[4]},
		"negative count":          {{Name: "state.json", Payload: []byte(`{"consumer_count":-1}`)}, es[4]},
	}
	for name, b := range bad {
		if _, err := snapshotMsgs(writeArchive(t, b)); !errors.Is(err, ErrBadArchive) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Cut inside the consumers: truncated.
	if _, err := snapshotMsgs(writeArchive(t, es[:2])); !errors.Is(err, ErrTruncated) {
		t.Fatalf("cut in consumers: %v", err)
	}
}

func TestSnapshotReader(t *testing.T) {
	es := []*Entry{
		{Name: "state.json", Payload: []byte(`{"messages":2,"consumer_count":1}`)},
		{Name: "consumers/C", Payload: []byte(`{}`)},
		{Name: "a", Sequence: 3, Timestamp: 10, Payload: []byte("x")},
		{Name: "b", Sequence: 5, Timestamp: 20, Header: []byte("NATS/1.0\r\n\r\n")},
		{},
	}
	msgs, err := snapshotMsgs(writeArchive(t, es))
	if err != nil || len(msgs) != 2 || msgs[0].Seq != 3 || msgs[1].Subject != "b" || msgs[1].Time.UnixNano() != 20 || string(msgs[0].Data) != "x" {
		t.Fatalf("read %+v, %v", msgs, err)
	}
	// Without the end marker: truncated.
	if _, err := snapshotMsgs(writeArchive(t, es[:4])); !errors.Is(err, ErrTruncated) {
		t.Fatalf("no end marker: %v", err)
	}
	// Sequences must increase.
	bad := []*Entry{es[0], es[3], es[2], {}}
	if _, err := snapshotMsgs(writeArchive(t, bad)); !errors.Is(err, ErrBadArchive) {
		t.Fatalf("out of order: %v", err)
	}
	// state.json must come first.
	if _, err := snapshotMsgs(writeArchive(t, es[2:])); !errors.Is(err, ErrBadArchive) {
		t.Fatalf("no state: %v", err)
	}
}
