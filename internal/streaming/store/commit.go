package store

import (
	"fmt"
	"time"
)

// Group commit. A writer appends its record to a segment's pend buffer
// under mu and takes a token; then, without mu, commit makes sure a flush
// covering that token has happened. Whoever gets ioMu first becomes the
// flusher for everybody: it takes all pending bytes, writes them and (by
// default) fsyncs once, while new writers keep appending to fresh pend
// buffers for the next round. A lone writer flushes its own record with no
// hand-off; N concurrent writers share one fsync.

func (b *fileBackend) commit(tok uint64) error {
	for {
		if err := b.failure(); err != nil {
			return err
		}
		if b.done(tok) {
			return nil
		}
		b.ioMu.Lock()
		err := b.flushIO(tok, b.interval == 0)
		b.ioMu.Unlock()
		if err != nil {
			return err
		}
	}
}

func (b *fileBackend) done(tok uint64) bool {
	if b.interval > 0 {
		return b.written.Load() >= tok
	}
	return b.synced.Load() >= tok
}

// flushIO writes everything pending, and with syncNow fsyncs it. ioMu held.
func (b *fileBackend) flushIO(tok uint64, syncNow bool) error {
	if b.written.Load() >= tok && (!syncNow || b.synced.Load() >= tok) {
		return nil // an earlier flusher covered us
	}
	b.mu.Lock()
	upto := b.gen
	segs := b.dirty
	b.dirty, b.dirty2 = b.dirty2[:0], nil
	for _, sg := range segs {
		sg.inflight, sg.pend, sg.spare = sg.pend, sg.spare[:0], nil
		sg.dirty = false
	}
	var dirSync bool
	var doomed []doomedSeg
	if syncNow {
		dirSync, b.dirNew = b.dirNew, false
		doomed = b.takeDoomedLocked(upto)
	}
	b.mu.Unlock()

	var err error
	for _, sg := range segs {
		if _, werr := sg.f.WriteAt(sg.inflight, sg.written); werr != nil && err == nil {
			err = werr
		}
	}
	if syncNow && err == nil {
		err = syncAll(b.fs, b.dir, segs, dirSync)
	}

	b.mu.Lock()
	for _, sg := range segs {
		sg.written += int64(len(sg.inflight))
		sg.spare, sg.inflight = sg.inflight[:0], nil
		if !syncNow && !sg.unsynced {
			sg.unsynced = true
			b.unsynced = append(b.unsynced, sg)
		}
	}
	clear(segs)
	b.dirty2 = segs[:0]
	b.mu.Unlock()
	if err != nil {
		return b.fail(err)
	}
	b.written.Store(upto)
	if syncNow {
		b.synced.Store(upto)
		b.removeDoomed(doomed)
	}
	return nil
}

func syncAll(fs FS, dir string, segs []*segment, dirSync bool) error {
	for _, sg := range segs {
		// A doomed segment is synced too: its file stays open until
		// removeDoomed, which runs under the same ioMu after this.
		if err := sg.f.Sync(); err != nil {
			return err
		}
	}
	if dirSync {
		return fs.SyncDir(dir)
	}
	return nil
}

// takeDoomedLocked removes from the doomed list the segments whose removal
// is safe once token upto is synced. mu held.
func (b *fileBackend) takeDoomedLocked(upto uint64) []doomedSeg {
	var ready []doomedSeg
	keep := b.doomed[:0]
	for _, d := range b.doomed {
		if d.tok <= upto && !d.seg.dirty {
			ready = append(ready, d)
		} else {
			keep = append(keep, d)
		}
	}
	b.doomed = keep
	return ready
}

// removeDoomed deletes segment files whose contents are no longer needed.
// A failure is harmless: recovery dooms an emptied segment again.
func (b *fileBackend) removeDoomed(ds []doomedSeg) {
	for _, d := range ds {
		_ = d.seg.f.Close()
		_ = b.fs.Remove(d.seg.path)
	}
	if len(ds) > 0 {
		b.mu.Lock()
		b.dirNew = true
		b.mu.Unlock()
	}
}

// syncIO fsyncs everything written so far (interval mode, Close). ioMu held.
func (b *fileBackend) syncIO() error {
	b.mu.Lock()
	upto := b.written.Load()
	segs := b.unsynced
	b.unsynced = nil
	for _, sg := range segs {
		sg.unsynced = false
	}
	dirSync := b.dirNew
	b.dirNew = false
	doomed := b.takeDoomedLocked(upto)
	b.mu.Unlock()
	if err := syncAll(b.fs, b.dir, segs, dirSync); err != nil {
		return b.fail(err)
	}
	b.synced.Store(upto)
	b.removeDoomed(doomed)
	return nil
}

func (b *fileBackend) syncLoop() {
	defer close(b.stopped)
	t := time.NewTicker(b.interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			b.ioMu.Lock()
			if b.failure() == nil {
				_ = b.syncIO() // sticky in b.failed; the next write reports it
			}
			b.ioMu.Unlock()
		case <-b.stop:
			return
		}
	}
}

// eraseQueued overwrites securely deleted records in place with a record
// of kind erased and the same length, whose payload is zero. The records
// were flushed by the commit before this call.
func (b *fileBackend) eraseQueued() error {
	b.ioMu.Lock()
	defer b.ioMu.Unlock()
	b.mu.Lock()
	reqs := b.erasing
	b.erasing = nil
	var segs []*segment
	var err error
	for _, r := range reqs {
		if r.seg.doomed || r.off+int64(r.n) > r.seg.written {
			continue
		}
		buf := make([]byte, r.n)
		if _, err = r.seg.f.ReadAt(buf, r.off); err != nil {
			break
		}
		old, _, derr := decodeRecord(buf)
		if derr != nil {
			continue // already damaged: nothing readable to erase
		}
		zero := make([]byte, r.n-recHdrLen)
		rec := appendRecord(buf[:0], kindErased, 0, old.seq, old.ts, "", nil, zero)
		if _, err = r.seg.f.WriteAt(rec, r.off); err != nil {
			break
		}
		segs = append(segs, r.seg)
	}
	b.mu.Unlock()
	if err == nil {
		err = syncAll(b.fs, b.dir, segs, false)
	}
	if err != nil {
		return b.fail(fmt.Errorf("erase: %w", err))
	}
	return nil
}

func (b *fileBackend) close() error {
	if b.stop != nil {
		close(b.stop)
		<-b.stopped
	}
	b.ioMu.Lock()
	defer b.ioMu.Unlock()
	err := b.failure()
	if err == nil {
		b.mu.Lock()
		tok := b.gen
		b.mu.Unlock()
		err = b.flushIO(tok, false) // then sync everything written
		if err == nil {
			err = b.syncIO()
		}
	}
	b.closeFiles()
	return err
}

func (b *fileBackend) closeFiles() {
	for _, sg := range b.segs {
		if sg.f != nil {
			_ = sg.f.Close()
		}
	}
	for _, d := range b.doomed {
		_ = d.seg.f.Close()
	}
}
