package store

import "time"

// This file is the limits layer both stores share: admission (discard new,
// max message size), eviction (discard old, per subject, max age) and the
// purge rules. It works on the index and calls the backend only through
// removeLocked/skipLocked, so a limit behaves the same in every store.

// storeLocked admits, appends and then evicts. mu held.
func (s *store) storeLocked(subject string, hdr, data []byte, ts int64) (uint64, error) {
	if err := s.admitLocked(subject, hdr, data); err != nil {
		return 0, err
	}
	seq := s.idx.last + 1
	if err := s.be.append(seq, subject, hdr, data, ts); err != nil {
		return 0, err
	}
	s.idx.add(seq, subject, len(hdr), len(data), ts)
	if err := s.evictLocked(subject); err != nil {
		return seq, err
	}
	s.armAgeLocked()
	return seq, nil
}

// admitLocked refuses a message a limit forbids adding.
func (s *store) admitLocked(subject string, hdr, data []byte) error {
	l, x := &s.lim, &s.idx
	if n := uint64(len(subject) + len(hdr) + len(data)); n > maxMsgSize || (l.MaxMsgSize > 0 && n > uint64(l.MaxMsgSize)) {
		return ErrMaxMsgSize
	}
	size := x.over.size(len(subject), len(hdr), len(data))
	if l.Discard == DiscardNew {
		if l.MaxMsgs > 0 && x.msgs+1 > uint64(l.MaxMsgs) {
			return ErrMaxMsgs
		}
		if l.MaxBytes > 0 && x.bytes+size > uint64(l.MaxBytes) {
			return ErrMaxBytes
		}
		if l.MaxMsgsPerSubject > 0 && l.DiscardNewPerSubject {
			if _, si := x.subj.lookup(subject); si != nil && si.count+1 > uint64(l.MaxMsgsPerSubject) {
				return ErrMaxMsgsPerSubject
			}
		}
	}
	return nil
}

// evictLocked drops what the limits no longer allow after a message on
// subject was added: that subject's oldest beyond MaxMsgsPerSubject, then
// the stream's oldest beyond MaxMsgs/MaxBytes (DiscardOld only).
func (s *store) evictLocked(subject string) error {
	if err := s.evictSubjectLocked(subject); err != nil {
		return err
	}
	return s.evictOldLocked()
}

func (s *store) evictSubjectLocked(subject string) error {
	max := s.lim.MaxMsgsPerSubject
	if max <= 0 {
		return nil
	}
	for {
		id, si := s.idx.subj.lookup(subject)
		if si == nil || si.count <= uint64(max) {
			return nil
		}
		if _, err := s.removeLocked(s.idx.firstOf(id), false); err != nil {
			return err
		}
	}
}

func (s *store) evictOldLocked() error {
	l, x := &s.lim, &s.idx
	if l.Discard != DiscardOld || (l.MaxMsgs <= 0 && l.MaxBytes <= 0) {
		return nil
	}
	msgs, bytes := x.msgs, x.bytes
	seq := x.base
	for seq <= x.last &&
		((l.MaxMsgs > 0 && msgs > uint64(l.MaxMsgs)) || (l.MaxBytes > 0 && bytes > uint64(l.MaxBytes))) {
		if e := x.ents[seq-x.base]; e.subj != 0 {
			msgs--
			bytes -= x.acct(e)
		}
		seq++
	}
	return s.skipLocked(seq)
}

// enforceAllLocked applies every limit to the whole store (SetLimits).
func (s *store) enforceAllLocked() error {
	if s.lim.MaxMsgsPerSubject > 0 {
		var over []string
		for name, id := range s.idx.subj.ids {
			if s.idx.subj.info[id].count > uint64(s.lim.MaxMsgsPerSubject) {
				over = append(over, name)
			}
		}
		for _, name := range over {
			if err := s.evictSubjectLocked(name); err != nil {
				return err
			}
		}
	}
	if err := s.evictOldLocked(); err != nil {
		return err
	}
	if err := s.expireLocked(s.now()); err != nil {
		return err
	}
	s.rearmAgeLocked()
	return nil
}

// expireLocked removes messages older than MaxAge from the front. Messages
// are expired in sequence order: one stored with an older timestamp behind
// a newer one waits for it, as in nats-server.
func (s *store) expireLocked(now time.Time) error {
	if s.lim.MaxAge <= 0 || s.idx.msgs == 0 {
		return nil
	}
	cutoff := now.Add(-s.lim.MaxAge).UnixNano()
	x := &s.idx
	seq := x.base
	for seq <= x.last {
		if e := x.ents[seq-x.base]; e.subj != 0 && e.ts > cutoff {
			break
		}
		seq++
	}
	return s.skipLocked(seq)
}

// armAgeLocked schedules the next expiry for when the oldest message turns
// MaxAge old, unless one is already scheduled (newer messages expire later,
// so StoreMsg need not touch the timer).
func (s *store) armAgeLocked() {
	if s.ageArmed {
		return
	}
	s.rearmAgeLocked()
}

func (s *store) rearmAgeLocked() {
	if s.lim.MaxAge <= 0 || s.idx.msgs == 0 || s.closed {
		if s.age != nil {
			s.age.Stop()
		}
		s.ageArmed = false
		return
	}
	s.ageArmed = true
	d := max(time.Unix(0, s.idx.ents[0].ts).Add(s.lim.MaxAge).Sub(s.now()), time.Millisecond)
	if s.age == nil {
		s.age = time.AfterFunc(d, s.expireTick)
		return
	}
	s.age.Reset(d)
}

func (s *store) expireTick() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	err := s.expireLocked(s.now())
	s.rearmAgeLocked()
	tok := s.be.token()
	s.mu.Unlock()
	if err == nil {
		_ = s.be.commit(tok) // a failure sticks in the backend and fails the next write
	}
}

// purgeLocked implements Purge. mu held.
func (s *store) purgeLocked(o PurgeOpts) (uint64, error) {
	x := &s.idx
	before := x.msgs
	if matchAll(o.Subject) {
		target := x.last + 1
		switch {
		case o.Seq != 0:
			target = o.Seq
		case o.Keep != 0:
			if x.msgs <= o.Keep {
				return 0, nil
			}
			kept := uint64(0)
			for target > x.base && kept < o.Keep {
				target--
				if x.ents[target-x.base].subj != 0 {
					kept++
				}
			}
		}
		err := s.skipLocked(target)
		return before - x.msgs, err
	}
	var seqs []uint64
	var memo uint32
	var ok bool
	for seq := x.base; seq <= x.last && (o.Seq == 0 || seq < o.Seq); seq++ {
		id := x.ents[seq-x.base].subj
		if id == 0 {
			continue
		}
		if id != memo {
			memo, ok = id, subjectMatches(o.Subject, x.subjectName(id))
		}
		if ok {
			seqs = append(seqs, seq)
		}
	}
	if o.Keep != 0 {
		if uint64(len(seqs)) <= o.Keep {
			return 0, nil
		}
		seqs = seqs[:uint64(len(seqs))-o.Keep]
	}
	for _, seq := range seqs {
		if _, err := s.removeLocked(seq, false); err != nil {
			return before - x.msgs, err
		}
	}
	return before - x.msgs, nil
}
