package store

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecodeRecord feeds arbitrary bytes to the record decoder and to the
// recovery resync: neither may panic, a decoded record must re-encode to
// the same bytes, and a record that decodes must survive any split (a
// shorter prefix is errShort, never a different record).
func FuzzDecodeRecord(f *testing.F) {
	f.Add(appendRecord(nil, kindMsg, flagHdr, 1, 1700000000, "orders.eu", []byte("NATS/1.0\r\n\r\n"), []byte("hello")))
	f.Add(appendRecord(nil, kindMsg, 0, 42, 0, "a", nil, nil))
	f.Add(appendRecord(nil, kindDelete, 0, 7, 5, "", nil, nil))
	f.Add(appendRecord(nil, kindSkip, 0, 100, 0, "", nil, nil))
	f.Add(appendRecord(nil, kindErased, 0, 3, 9, "", nil, make([]byte, 20)))
	two := appendRecord(appendRecord(nil, kindMsg, 0, 1, 1, "x", nil, []byte("1")), kindMsg, 0, 2, 2, "y", nil, []byte("2"))
	f.Add(two)
	broken := bytes.Clone(two)
	broken[40] ^= 1
	f.Add(broken)
	f.Add([]byte("NSRM"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, n, err := decodeRecord(b)
		if err != nil {
			if n != 0 {
				t.Fatalf("error %v with length %d", err, n)
			}
		} else {
			if n < recHdrLen || n > len(b) {
				t.Fatalf("length %d of %d bytes", n, len(b))
			}
			re := appendRecord(nil, r.kind, r.flags, r.seq, r.ts, string(r.subject), r.hdr, r.data)
			if !bytes.Equal(re, b[:n]) {
				t.Fatalf("re-encoding differs:\n%x\n%x", re, b[:n])
			}
			for cut := 0; cut < n; cut++ {
				if _, _, err := decodeRecord(b[:cut]); err != errShort {
					t.Fatalf("prefix of %d bytes: %v, want errShort", cut, err)
				}
			}
		}
		if i := resync(b, 0); i >= 0 {
			if _, _, err := decodeRecord(b[i:]); err != nil {
				t.Fatalf("resync returned %d, which does not decode: %v", i, err)
			}
		}
	})
}

// FuzzRecover opens a store whose only segment holds arbitrary bytes:
// recovery must not fail or panic, and everything it indexed must load.
func FuzzRecover(f *testing.F) {
	var seg []byte
	seg = appendRecord(seg, kindSkip, 0, 1, 0, "", nil, nil)
	for i := range 5 {
		seg = appendRecord(seg, kindMsg, 0, uint64(i+1), int64(i), "f.x", nil, []byte("data"))
	}
	seg = appendRecord(seg, kindDelete, 0, 2, 0, "", nil, nil)
	seg = appendRecord(seg, kindErased, 0, 6, 0, "", nil, make([]byte, 7))
	f.Add(seg)
	f.Add(seg[:len(seg)-3])
	flipped := bytes.Clone(seg)
	flipped[recHdrLen+40] ^= 4
	f.Add(flipped)
	f.Add(appendRecord(nil, kindDelete, 0, 1<<62, 0, "", nil, nil))
	f.Add(appendRecord(nil, kindSkip, 0, 1<<62, 0, "", nil, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		fs := newFaultFS()
		fs.Put("/f/0000000001.seg", b)
		s, err := OpenFile(FileConfig{Dir: "/f", FS: fs})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		st := s.State(false)
		var sm Msg
		n := uint64(0)
		for seq := st.FirstSeq; seq <= st.LastSeq && n < st.Msgs; seq++ {
			if _, err := s.LoadMsg(seq, &sm); err == nil {
				n++
			} else if !errors.Is(err, ErrNotFound) {
				t.Fatalf("LoadMsg(%d): %v", seq, err)
			}
		}
		if n != st.Msgs {
			t.Fatalf("loaded %d of %d messages", n, st.Msgs)
		}
		if _, err := s.StoreMsg("after", nil, nil, 0); err != nil {
			t.Fatal(err)
		}
	})
}
