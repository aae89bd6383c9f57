package store

import "slices"

// Scanner answers the index-only questions consumers ask of a stream:
// how many messages are still to deliver, which is the next one, and the
// last message of each subject. Both stores implement it (assert
// Store.(Scanner)); nothing here reads message bytes.
//
// filters is a consumer's filter set: nil or empty matches every subject;
// a message matches when it matches any one filter.
type Scanner interface {
	// CountMatching counts the live messages with from <= seq <= to
	// matching filters.
	CountMatching(filters []string, from, to uint64) uint64
	// NextMatching returns the first live sequence >= from matching
	// filters, or 0 when there is none.
	NextMatching(filters []string, from uint64) uint64
	// LastPerSubject returns, in ascending order, the sequence of the
	// newest message of each subject matching filters.
	LastPerSubject(filters []string) []uint64
	// SeqAtTime returns the first live sequence stored at or after t
	// (Unix ns), or LastSeq+1 when there is none.
	SeqAtTime(t int64) uint64
}

var _ Scanner = (*store)(nil)

// matcher memoises "does subject id match the filters" over one scan.
type matcher struct {
	filters []string
	all     bool
	memo    map[uint32]bool
}

func newMatcher(filters []string) *matcher {
	m := &matcher{filters: filters, all: len(filters) == 0}
	for _, f := range filters {
		if matchAll(f) {
			m.all = true
		}
	}
	return m
}

func (m *matcher) match(x *index, id uint32) bool {
	if id == 0 {
		return false
	}
	if m.all {
		return true
	}
	if ok, seen := m.memo[id]; seen {
		return ok
	}
	if m.memo == nil {
		m.memo = make(map[uint32]bool)
	}
	name := x.subjectName(id)
	ok := false
	for _, f := range m.filters {
		if subjectMatches(f, name) {
			ok = true
			break
		}
	}
	m.memo[id] = ok
	return ok
}

func (s *store) CountMatching(filters []string, from, to uint64) uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	x := &s.idx
	from, to = max(from, x.base), min(to, x.last)
	if from > to || x.msgs == 0 {
		return 0
	}
	m := newMatcher(filters)
	if m.all && from == x.base && to == x.last {
		return x.msgs
	}
	var n uint64
	for seq := from; seq <= to; seq++ {
		if m.match(x, x.ents[seq-x.base].subj) {
			n++
		}
	}
	return n
}

func (s *store) NextMatching(filters []string, from uint64) uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(filters) <= 1 {
		f := ""
		if len(filters) == 1 {
			f = filters[0]
		}
		return s.nextMatchRLocked(f, from)
	}
	var best uint64
	for _, f := range filters {
		if seq := s.nextMatchRLocked(f, from); seq != 0 && (best == 0 || seq < best) {
			best = seq
		}
	}
	return best
}

func (s *store) LastPerSubject(filters []string) []uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	x := &s.idx
	m := newMatcher(filters)
	var out []uint64
	for _, id := range x.subj.ids {
		if m.match(x, id) {
			out = append(out, x.subj.info[id].last)
		}
	}
	slices.Sort(out)
	return out
}

func (s *store) SeqAtTime(t int64) uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	x := &s.idx
	// Timestamps grow with sequences; removed entries keep ts 0 in
	// between, so binary search over live ones by walking to a live entry.
	lo, hi := 0, len(x.ents)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		j := mid
		for j < hi && x.ents[j].subj == 0 {
			j++
		}
		if j == hi {
			hi = mid
			continue
		}
		if x.ents[j].ts < t {
			lo = j + 1
		} else {
			hi = mid
		}
	}
	for lo < len(x.ents) && x.ents[lo].subj == 0 {
		lo++
	}
	return x.base + uint64(lo)
}
