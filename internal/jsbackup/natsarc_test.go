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
	f.Fuzz(func(t *testing.T, b []byte) {
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
