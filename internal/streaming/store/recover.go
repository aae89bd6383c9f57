package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// recover rebuilds the index from the segment files, verifying the
// checksum of every record. There is no separate index file: the segments
// are the only truth, so nothing can disagree with them.
//
// A record that fails verification loses only itself: the scan resumes at
// the next offset where a record checks out, and the range in between is
// reported (one Report per damaged range). Only a damaged range that runs
// to the end of the last segment is truncated, since that is where a crash
// leaves a partial write; damage anywhere else stays on disk for forensics.
func (b *fileBackend) recover() error {
	if err := b.fs.MkdirAll(b.dir); err != nil {
		return fmt.Errorf("store: create %s: %w", b.dir, err)
	}
	// Make the directory itself durable, in case it was just created.
	if err := b.fs.SyncDir(filepath.Dir(filepath.Clean(b.dir))); err != nil {
		return fmt.Errorf("store: sync %s: %w", filepath.Dir(b.dir), err)
	}
	names, err := b.fs.ReadDir(b.dir)
	if err != nil {
		return fmt.Errorf("store: read %s: %w", b.dir, err)
	}
	var ids []uint64
	for _, n := range names {
		if num, ok := strings.CutSuffix(n, segSuffix); ok {
			if id, err := strconv.ParseUint(num, 10, 64); err == nil {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	b.nextID = 1
	sc := scanner{b: b}
	for i, id := range ids {
		path := filepath.Join(b.dir, segName(id))
		f, err := b.fs.OpenFile(path, os.O_RDWR)
		if err != nil {
			return fmt.Errorf("store: open %s: %w", path, err)
		}
		sg := &segment{id: id, path: path, f: f, first: b.x.last + 1}
		b.segs = append(b.segs, sg)
		b.nextID = id + 1
		if err := sc.scan(sg, i == len(ids)-1); err != nil {
			return err
		}
	}
	sc.finish()
	if len(b.segs) == 0 {
		b.mu.Lock()
		_, err := b.rollLocked(1)
		b.mu.Unlock()
		return err
	}
	return nil
}

// scanner carries state across segments during recovery.
type scanner struct {
	b       *fileBackend
	buf     []byte
	lastMsg uint64  // sequence of the last intact message record
	open    *Report // damage whose end sequence is not known yet
}

func (sc *scanner) scan(sg *segment, last bool) error {
	size, err := sg.f.Size()
	if err != nil {
		return fmt.Errorf("store: %s: %w", sg.path, err)
	}
	if cap(sc.buf) < int(size) {
		sc.buf = make([]byte, size)
	}
	buf := sc.buf[:size]
	if _, err := sg.f.ReadAt(buf, 0); err != nil && size > 0 {
		return fmt.Errorf("store: read %s: %w", sg.path, err)
	}
	off := 0
	for off < len(buf) {
		r, n, err := decodeRecord(buf[off:])
		if err == nil {
			err = sc.apply(sg, r, off, n)
		}
		if err == nil {
			off += n
			continue
		}
		next := resync(buf, off+1)
		if next < 0 && last {
			// The tail of the last segment: a write cut short by a crash
			// (incomplete or never-written bytes), or damage; either way
			// nothing after it is intact. Truncate so appends continue
			// from intact data.
			torn := errors.Is(err, errShort) || allZero(buf[off:])
			sc.damage(sg, int64(off), int64(len(buf)-off), torn, err)
			if terr := sg.f.Truncate(int64(off)); terr != nil {
				return fmt.Errorf("store: truncate %s: %w", sg.path, terr)
			}
			if serr := sg.f.Sync(); serr != nil {
				return fmt.Errorf("store: sync %s: %w", sg.path, serr)
			}
			buf = buf[:off]
			break
		}
		if next < 0 {
			next = len(buf)
		}
		sc.damage(sg, int64(off), int64(next-off), false, err)
		off = next
	}
	sg.size, sg.written = int64(len(buf)), int64(len(buf))
	return nil
}

// resync returns the first offset >= from where an intact record starts,
// or -1.
func resync(buf []byte, from int) int {
	var magic [4]byte
	binary.LittleEndian.PutUint32(magic[:], recMagic)
	for from < len(buf) {
		i := bytes.Index(buf[from:], magic[:])
		if i < 0 {
			return -1
		}
		if _, _, err := decodeRecord(buf[from+i:]); err == nil {
			return from + i
		}
		from += i + 1
	}
	return -1
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// damage records a damaged range; its lost sequences run from the message
// after the last intact one to the one before the next intact one.
func (sc *scanner) damage(sg *segment, off, n int64, torn bool, cause error) {
	sc.flushOpen(0)
	r := &Report{Stream: sc.b.name, File: filepath.Base(sg.path), Torn: torn,
		Offset: off, Length: n, FirstSeq: sc.lastMsg + 1, Detail: cause.Error()}
	sc.open = r
}

// flushOpen closes the open damage report at the next intact message seq
// (0: end of data).
func (sc *scanner) flushOpen(next uint64) {
	r := sc.open
	if r == nil {
		return
	}
	sc.open = nil
	switch {
	case next == 0:
		// Damage at the very end: it held sequences from FirstSeq on, how
		// many is unknown (String says "may be lost" for a torn tail).
	case next <= r.FirstSeq:
		r.FirstSeq = 0 // only control records were lost, or nothing
	default:
		r.LastSeq = next - 1
	}
	sc.b.report(*r)
}

func (sc *scanner) finish() { sc.flushOpen(0) }

var errOrder = errors.New("record: sequence out of order")

// maxGap bounds the sequences a record may skip while messages are live:
// lost records account for gaps, and no segment holds this many. Only a
// skip record (a purge) moves the sequence further.
const maxGap = 1 << 24

func tooFar(x *index, seq uint64) bool {
	return x.msgs > 0 && seq > x.last+maxGap
}

// apply adds one intact record to the index. An error means the record,
// though its checksum holds, cannot be right (treated as damage).
func (sc *scanner) apply(sg *segment, r record, off, n int) error {
	b, x := sc.b, sc.b.x
	switch r.kind {
	case kindMsg, kindErased:
		if r.seq <= x.last || r.seq == 0 || tooFar(x, r.seq) ||
			(len(sg.offs) > 0 && r.seq > sg.first+uint64(len(sg.offs))+maxGap) {
			return errOrder
		}
		sc.flushOpen(r.seq)
		sc.lastMsg = r.seq
		if len(sg.offs) == 0 {
			sg.first = r.seq
		}
		for sg.first+uint64(len(sg.offs)) < r.seq {
			sg.offs = append(sg.offs, noOff)
		}
		if r.kind == kindErased {
			sg.offs = append(sg.offs, noOff)
			x.extendTo(r.seq)
			return nil
		}
		sg.offs = append(sg.offs, uint32(off))
		sg.live++
		x.addBytes(r.seq, r.subject, len(r.hdr), len(r.data), r.ts)
	case kindDelete:
		if r.seq == 0 || tooFar(x, r.seq) {
			return errOrder
		}
		x.extendTo(r.seq) // when its message was lost: never reuse the sequence
		if _, ok := x.remove(r.seq); ok {
			if o, _, found := b.find(r.seq); found {
				o.live--
				if o != sg {
					sg.tombs = append(sg.tombs, r.seq)
				}
			}
		}
	case kindSkip:
		for s := x.base; s < r.seq && s <= x.last; s++ {
			if x.ents[s-x.base].subj != 0 {
				if o, _, found := b.find(s); found {
					o.live--
				}
			}
		}
		x.skipTo(r.seq, nil)
	}
	return nil
}
