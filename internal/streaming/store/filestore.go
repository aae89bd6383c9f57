package store

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// FileConfig configures a file store.
type FileConfig struct {
	Config
	// Dir holds the segment files; it is created when missing. Nothing else
	// in it is touched, so consumer state can live beside them later.
	Dir string
	// SegmentSize is the size at which a new segment is started
	// (default 16 MiB).
	SegmentSize int64
	// SyncInterval 0 (the default) fsyncs before StoreMsg returns, shared by
	// concurrent writers (group commit). A positive interval only writes to
	// the OS before returning and fsyncs every interval, like nats-server's
	// default: a process crash loses nothing, a power cut up to one interval.
	SyncInterval time.Duration
	// FS is the file system; nil means the OS.
	FS FS
}

const (
	defaultSegmentSize = 16 << 20
	maxSegmentSize     = 1 << 30
	segSuffix          = ".seg"
	noOff              = math.MaxUint32
)

// OpenFile opens (or creates) a file store in cfg.Dir, verifying every
// record. Damage found is in Reports(); the store serves what is intact.
func OpenFile(cfg FileConfig) (Store, error) {
	if cfg.SegmentSize <= 0 {
		cfg.SegmentSize = defaultSegmentSize
	}
	cfg.SegmentSize = min(cfg.SegmentSize, maxSegmentSize)
	if cfg.FS == nil {
		cfg.FS = OSFS{}
	}
	b := &fileBackend{
		fs: cfg.FS, dir: cfg.Dir, name: cfg.Name, segSize: cfg.SegmentSize,
		interval: cfg.SyncInterval, seen: make(map[reportKey]bool),
	}
	s := newStore(cfg.Config, b, newIndex(fileOverhead))
	b.mu, b.x = &s.mu, &s.idx
	if err := b.recover(); err != nil {
		b.closeFiles()
		return nil, err
	}
	s.mu.Lock()
	err := b.compactLocked()
	if err == nil {
		err = s.enforceAllLocked()
	}
	tok := b.token()
	s.mu.Unlock()
	if err == nil {
		err = b.commit(tok)
	}
	if err != nil {
		b.closeFiles()
		return nil, err
	}
	if b.interval > 0 {
		b.stop, b.stopped = make(chan struct{}), make(chan struct{})
		go b.syncLoop()
	}
	return s, nil
}

// fileBackend stores records in append-only segment files. See doc.go for
// the format and the durability rules.
//
// Locks: ioMu (held while writing/syncing files outside mu) before mu (the
// store's lock, which guards everything else here). written, synced and
// failed are atomics so a writer can see its batch is done without mu.
type fileBackend struct {
	fs       FS
	dir      string
	name     string
	segSize  int64
	interval time.Duration

	mu *sync.RWMutex // the store's
	x  *index        // the store's

	segs     []*segment // by id; the last is active
	nextID   uint64
	gen      uint64     // bumped by every change; commit tokens
	dirty    []*segment // segments with pend bytes
	dirty2   []*segment // the other dirty slice, reused (no allocation per flush)
	unsynced []*segment // written since the last sync (interval mode)
	dirNew   bool       // a segment was created: sync the directory
	doomed   []doomedSeg
	erasing  []eraseReq

	ioMu    sync.Mutex
	written atomic.Uint64 // gen handed to the OS
	synced  atomic.Uint64 // gen fsynced
	failed  atomic.Pointer[error]

	stop, stopped chan struct{}

	repMu sync.Mutex
	reps  []Report
	seen  map[reportKey]bool
}

type reportKey struct {
	file string
	off  int64
}

// segment is one segment file and its part of the in-memory index.
type segment struct {
	id    uint64
	path  string
	f     File
	first uint64   // sequence of offs[0]
	offs  []uint32 // record offset of message first+i (noOff: not here)
	live  int      // live messages in this segment
	tombs []uint64 // tombstones here for messages of earlier segments
	// size = written + len(inflight) + len(pend). Bytes below written are
	// in the file; inflight is being written by a flusher outside mu; pend
	// is appended to under mu.
	size, written   int64
	inflight, pend  []byte
	spare           []byte
	dirty, unsynced bool
	doomed          bool
}

type doomedSeg struct {
	seg *segment
	tok uint64 // remove once this token is synced
}

type eraseReq struct {
	seg *segment
	off int64
	n   int
}

func segName(id uint64) string { return fmt.Sprintf("%010d%s", id, segSuffix) }

// find returns the segment and offset holding message seq.
func (b *fileBackend) find(seq uint64) (*segment, int64, bool) {
	i := sort.Search(len(b.segs), func(i int) bool { return b.segs[i].first > seq }) - 1
	for ; i >= 0; i-- {
		sg := b.segs[i]
		if seq >= sg.first && seq < sg.first+uint64(len(sg.offs)) {
			off := sg.offs[seq-sg.first]
			return sg, int64(off), off != noOff
		}
		if len(sg.offs) > 0 {
			break
		}
	}
	return nil, 0, false
}

func (b *fileBackend) active() *segment { return b.segs[len(b.segs)-1] }

// markDirtyLocked queues sg for the next flush. mu held.
func (b *fileBackend) markDirtyLocked(sg *segment) {
	if !sg.dirty {
		sg.dirty = true
		b.dirty = append(b.dirty, sg)
	}
	b.gen++
}

func (b *fileBackend) append(seq uint64, subject string, hdr, data []byte, ts int64) error {
	if err := b.failure(); err != nil {
		return err
	}
	n := int64(recLen(subject, hdr, data))
	sg := b.active()
	if sg.size+n > b.segSize && sg.size > recHdrLen {
		var err error
		if sg, err = b.rollLocked(b.x.base); err != nil {
			return err
		}
	}
	if len(sg.offs) == 0 {
		sg.first = seq
	}
	for sg.first+uint64(len(sg.offs)) < seq {
		sg.offs = append(sg.offs, noOff)
	}
	sg.offs = append(sg.offs, uint32(sg.size))
	sg.live++
	var flags byte
	if hdr != nil {
		flags = flagHdr
	}
	sg.pend = appendRecord(sg.pend, kindMsg, flags, seq, ts, subject, hdr, data)
	sg.size += n
	b.markDirtyLocked(sg)
	return nil
}

// putLocked appends a control record (tombstone or skip) to the active
// segment. mu held.
func (b *fileBackend) putLocked(kind byte, seq uint64, ts int64) {
	sg := b.active()
	sg.pend = appendRecord(sg.pend, kind, 0, seq, ts, "", nil, nil)
	sg.size += recHdrLen
	b.markDirtyLocked(sg)
}

func (b *fileBackend) read(seq uint64, e ent, sm *Msg) error {
	sg, off, ok := b.find(seq)
	if !ok {
		return ErrNotFound
	}
	n := recHdrLen + int(e.len())
	if cap(sm.buf) < n {
		sm.buf = make([]byte, n, max(n, 2*cap(sm.buf)))
	}
	buf := sm.buf[:n]
	if rel := off - sg.written; rel >= 0 {
		if rel >= int64(len(sg.inflight)) {
			copy(buf, sg.pend[rel-int64(len(sg.inflight)):])
		} else {
			copy(buf, sg.inflight[rel:])
		}
	} else if _, err := sg.f.ReadAt(buf, off); err != nil {
		return b.readDamage(sg, off, n, seq, err.Error())
	}
	r, _, err := decodeRecord(buf)
	if err == nil && (r.kind != kindMsg || r.seq != seq) {
		err = fmt.Errorf("record holds kind %d seq %d", r.kind, r.seq)
	}
	if err != nil {
		return b.readDamage(sg, off, n, seq, err.Error())
	}
	sm.Header, sm.Data = nil, r.data
	if r.flags&flagHdr != 0 {
		sm.Header = r.hdr
	}
	return nil
}

// readDamage reports a record that failed verification on read and
// returns the error LoadMsg gives for it.
func (b *fileBackend) readDamage(sg *segment, off int64, n int, seq uint64, detail string) error {
	r := Report{Stream: b.name, File: filepath.Base(sg.path), Offset: off, Length: int64(n),
		FirstSeq: seq, LastSeq: seq, Detail: "found on read: " + detail}
	b.report(r)
	return fmt.Errorf("%w: %s", ErrCorrupt, r)
}

func (b *fileBackend) report(r Report) {
	b.repMu.Lock()
	defer b.repMu.Unlock()
	k := reportKey{r.File, r.Offset}
	if b.seen[k] {
		return
	}
	b.seen[k] = true
	b.reps = append(b.reps, r)
}

func (b *fileBackend) reports() []Report {
	b.repMu.Lock()
	defer b.repMu.Unlock()
	return append([]Report(nil), b.reps...)
}

func (b *fileBackend) remove(seq uint64, e ent, erase bool) error {
	if err := b.failure(); err != nil {
		return err
	}
	sg, off, ok := b.find(seq)
	act := b.active()
	b.putLocked(kindDelete, seq, e.ts)
	if !ok {
		return nil
	}
	if sg != act {
		act.tombs = append(act.tombs, seq)
	}
	if erase {
		b.erasing = append(b.erasing, eraseReq{seg: sg, off: off, n: recHdrLen + int(e.len())})
	}
	sg.live--
	if sg.live == 0 && sg != act {
		b.doomLocked(sg)
	}
	return nil
}

func (b *fileBackend) skipTo(seq uint64) error {
	if err := b.failure(); err != nil {
		return err
	}
	// Count the live messages leaving each segment.
	x := b.x
	var sg *segment
	for s := x.base; s < seq && s <= x.last; s++ {
		if x.ents[s-x.base].subj == 0 {
			continue
		}
		if sg == nil || s < sg.first || s >= sg.first+uint64(len(sg.offs)) {
			sg, _, _ = b.find(s)
		}
		if sg != nil {
			sg.live--
		}
	}
	if seq > x.last {
		// Everything goes: start a clean segment so all old ones can go.
		if _, err := b.rollLocked(seq); err != nil {
			return err
		}
	} else {
		b.putLocked(kindSkip, seq, 0)
	}
	for _, sg := range append([]*segment(nil), b.segs[:len(b.segs)-1]...) {
		if sg.live == 0 {
			b.doomLocked(sg)
		}
	}
	return nil
}

// rollLocked starts a new active segment whose first record is a skip
// marker for skip (every sequence below it is gone). mu held.
func (b *fileBackend) rollLocked(skip uint64) (*segment, error) {
	id := b.nextID
	path := filepath.Join(b.dir, segName(id))
	f, err := b.fs.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return nil, b.fail(fmt.Errorf("create segment: %w", err))
	}
	b.nextID++
	old := b.activeOrNil()
	sg := &segment{id: id, path: path, f: f, first: max(skip, b.x.last+1)}
	b.segs = append(b.segs, sg)
	b.dirNew = true
	b.putLocked(kindSkip, skip, 0)
	if old != nil && old.live == 0 {
		b.doomLocked(old)
	}
	return sg, nil
}

func (b *fileBackend) activeOrNil() *segment {
	if len(b.segs) == 0 {
		return nil
	}
	return b.active()
}

// doomLocked drops an emptied segment (never the active one): tombstones
// it holds for messages in older, surviving segments are written again to
// the active segment, and the file is removed once that is synced. mu held.
func (b *fileBackend) doomLocked(sg *segment) {
	if sg.doomed || sg == b.active() {
		return
	}
	sg.doomed = true
	for i, o := range b.segs {
		if o == sg {
			b.segs = append(b.segs[:i], b.segs[i+1:]...)
			break
		}
	}
	act := b.active()
	for _, t := range sg.tombs {
		// A tombstone is still needed while its message's segment exists.
		if o, _, ok := b.find(t); ok && o != act {
			b.putLocked(kindDelete, t, 0)
			act.tombs = append(act.tombs, t)
		}
	}
	sg.tombs = nil
	b.doomed = append(b.doomed, doomedSeg{seg: sg, tok: b.gen})
}

// compactLocked dooms every emptied segment but the active one (after
// recovery). mu held.
func (b *fileBackend) compactLocked() error {
	for _, sg := range append([]*segment(nil), b.segs...) {
		if sg.live == 0 {
			b.doomLocked(sg)
		}
	}
	return nil
}

func (b *fileBackend) token() uint64 { return b.gen }

func (b *fileBackend) failure() error {
	if p := b.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// fail makes err sticky: after a failed write or sync the file contents
// are unknown, so the store refuses further changes.
func (b *fileBackend) fail(err error) error {
	err = fmt.Errorf("%w: stream %q: %w", ErrFailed, b.name, err)
	b.failed.CompareAndSwap(nil, &err)
	return b.failure()
}
