package store

import (
	"sync"
	"time"
)

// store implements Store for both backends: it owns the index, sequences,
// limits and purge rules; the backend owns bytes and durability.
//
// Locking: mu protects idx, lim, closed and everything the backend does
// under "mu held". Durability waits (backend.commit) happen after mu is
// released, which is what lets concurrent writers share one fsync.
type store struct {
	mu     sync.RWMutex
	idx    index
	be     backend
	name   string
	lim    Limits
	now    func() time.Time
	closed bool
	age    *time.Timer // max-age expiry, armed while there are messages
	// ageArmed: age will fire for the current oldest message (or earlier).
	ageArmed bool
}

func newStore(cfg Config, be backend, idx index) *store {
	s := &store{idx: idx, be: be, name: cfg.Name, lim: cfg.Limits, now: cfg.Now}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// maxMsgSize is the hard cap on one message: sizes live in 32 bits and a
// segment offset in 32 bits too.
const maxMsgSize = 1 << 30

func (s *store) StoreMsg(subject string, hdr, data []byte, ts int64) (uint64, error) {
	seq, tok, err := s.append(subject, hdr, data, ts)
	if err != nil {
		return 0, err
	}
	if err := s.be.commit(tok); err != nil {
		return 0, err
	}
	return seq, nil
}

func (s *store) Append(subject string, hdr, data []byte, ts int64) (uint64, error) {
	seq, _, err := s.append(subject, hdr, data, ts)
	return seq, err
}

func (s *store) append(subject string, hdr, data []byte, ts int64) (seq, tok uint64, err error) {
	if !validSubject(subject) {
		return 0, 0, ErrBadSubject
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, 0, ErrClosed
	}
	if ts == 0 {
		ts = s.now().UnixNano()
	}
	seq, err = s.storeLocked(subject, hdr, data, ts)
	return seq, s.be.token(), err
}

func (s *store) MsgSize(subject string, hdr, data []byte) uint64 {
	return s.idx.over.size(len(subject), len(hdr), len(data))
}

func (s *store) Flush() error {
	s.mu.RLock()
	closed, tok := s.closed, s.be.token()
	s.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	return s.be.commit(tok)
}

// load fills sm from seq, which must be live. Read lock held.
func (s *store) loadRLocked(seq uint64, e ent, sm *Msg) (*Msg, error) {
	if sm == nil {
		sm = new(Msg)
	}
	if err := s.be.read(seq, e, sm); err != nil {
		return nil, err
	}
	sm.Subject, sm.Seq, sm.Time = s.idx.subjectName(e.subj), seq, e.ts
	return sm, nil
}

func (s *store) LoadMsg(seq uint64, sm *Msg) (*Msg, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	e, ok := s.idx.get(seq)
	if !ok {
		return nil, ErrNotFound
	}
	return s.loadRLocked(seq, *e, sm)
}

func (s *store) LoadNextMsg(filter string, start uint64, sm *Msg) (*Msg, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	seq := s.nextMatchRLocked(filter, start)
	if seq == 0 {
		return nil, ErrNotFound
	}
	return s.loadRLocked(seq, s.idx.ents[seq-s.idx.base], sm)
}

func (s *store) LoadLastMsg(filter string, sm *Msg) (*Msg, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	seq := s.lastMatchRLocked(filter)
	if seq == 0 {
		return nil, ErrNotFound
	}
	return s.loadRLocked(seq, s.idx.ents[seq-s.idx.base], sm)
}

// nextMatchRLocked returns the first live sequence >= start matching
// filter, or 0.
func (s *store) nextMatchRLocked(filter string, start uint64) uint64 {
	x := &s.idx
	start = max(start, x.base)
	end := x.last
	switch {
	case matchAll(filter):
	case isLiteral(filter):
		id, si := x.subj.lookup(filter)
		if si == nil {
			return 0
		}
		start, end = max(start, si.first), si.last
		for seq := start; seq <= end; seq++ {
			if x.ents[seq-x.base].subj == id {
				return seq
			}
		}
		return 0
	default:
		// With fewer subjects than entries to scan, bound the scan by the
		// matching subjects' first and last sequences first.
		if end >= start && uint64(len(x.subj.ids)) < end-start {
			lo, hi := uint64(0), uint64(0)
			for name, id := range x.subj.ids {
				if si := &x.subj.info[id]; si.last >= start && subjectMatches(filter, name) {
					if lo == 0 || si.first < lo {
						lo = si.first
					}
					hi = max(hi, si.last)
				}
			}
			if lo == 0 {
				return 0
			}
			start, end = max(start, lo), hi
		}
	}
	var memo uint32
	var memoOK bool
	for seq := start; seq <= end; seq++ {
		id := x.ents[seq-x.base].subj
		if id == 0 {
			continue
		}
		if id != memo {
			memo, memoOK = id, matchAll(filter) || subjectMatches(filter, x.subjectName(id))
		}
		if memoOK {
			return seq
		}
	}
	return 0
}

// lastMatchRLocked returns the newest live sequence matching filter, or 0.
func (s *store) lastMatchRLocked(filter string) uint64 {
	x := &s.idx
	if x.msgs == 0 {
		return 0
	}
	switch {
	case matchAll(filter):
		seq := x.last
		for x.ents[seq-x.base].subj == 0 {
			seq--
		}
		return seq
	case isLiteral(filter):
		if _, si := x.subj.lookup(filter); si != nil {
			return si.last
		}
		return 0
	}
	var last uint64
	for name, id := range x.subj.ids {
		if si := &x.subj.info[id]; si.last > last && subjectMatches(filter, name) {
			last = si.last
		}
	}
	return last
}

func (s *store) RemoveMsg(seq uint64, erase bool) (bool, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false, ErrClosed
	}
	ok, err := s.removeLocked(seq, erase)
	tok := s.be.token()
	s.mu.Unlock()
	if err != nil || !ok {
		return ok, err
	}
	if err := s.be.commit(tok); err != nil {
		return true, err
	}
	if erase {
		return true, s.be.eraseQueued()
	}
	return true, nil
}

// removeLocked removes one live message. mu held.
func (s *store) removeLocked(seq uint64, erase bool) (bool, error) {
	e, ok := s.idx.get(seq)
	if !ok {
		return false, nil
	}
	if seq == s.idx.base && !erase {
		// Removing the oldest message is the common case (limits): a skip
		// marker keeps the file store free of tombstones.
		return true, s.skipLocked(seq + 1)
	}
	if err := s.be.remove(seq, *e, erase); err != nil {
		return false, err
	}
	s.idx.remove(seq)
	return true, nil
}

// skipLocked removes everything below seq. mu held.
func (s *store) skipLocked(seq uint64) error {
	if seq <= s.idx.base {
		return nil
	}
	if err := s.be.skipTo(seq); err != nil {
		return err
	}
	s.idx.skipTo(seq, nil)
	return nil
}

func (s *store) Purge(o PurgeOpts) (uint64, error) {
	if o.Seq != 0 && o.Keep != 0 {
		return 0, ErrBadPurge
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, ErrClosed
	}
	n, err := s.purgeLocked(o)
	tok := s.be.token()
	s.mu.Unlock()
	if err != nil {
		return n, err
	}
	return n, s.be.commit(tok)
}

func (s *store) State(deleted bool) State {
	s.mu.RLock()
	defer s.mu.RUnlock()
	x := &s.idx
	st := State{
		Msgs: x.msgs, Bytes: x.bytes, FirstSeq: x.base, LastSeq: x.last,
		NumDeleted: x.numDeleted(), NumSubjects: len(x.subj.ids),
	}
	if x.msgs > 0 {
		st.FirstTime = time.Unix(0, x.ents[0].ts).UTC()
	}
	if x.lastTs != 0 {
		st.LastTime = time.Unix(0, x.lastTs).UTC()
	}
	if deleted && st.NumDeleted > 0 {
		st.Deleted = make([]uint64, 0, st.NumDeleted)
		for i, e := range x.ents {
			if e.subj == 0 {
				st.Deleted = append(st.Deleted, x.base+uint64(i))
			}
		}
	}
	return st
}

func (s *store) SubjectsState(filter string) map[string]uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m := make(map[string]uint64)
	for name, id := range s.idx.subj.ids {
		if matchAll(filter) || subjectMatches(filter, name) {
			m[name] = s.idx.subj.info[id].count
		}
	}
	return m
}

func (s *store) SetLimits(l Limits) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.lim = l
	err := s.enforceAllLocked()
	tok := s.be.token()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.be.commit(tok)
}

func (s *store) Reports() []Report { return s.be.reports() }

func (s *store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = true
	if s.age != nil {
		s.age.Stop()
	}
	s.mu.Unlock()
	return s.be.close()
}
