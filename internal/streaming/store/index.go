package store

// index is the in-memory view of a store's messages shared by both stores:
// which sequences are live, their subject, time and size, and per-subject
// counts with first/last sequence (for last-per-subject loads, per-subject
// limits and KV). It holds no payloads and does no I/O; the caller's lock
// protects it.
//
// ents is dense: ents[i] describes sequence base+i, and covers exactly
// first..last (removed sequences have subj 0). Dropping a prefix reslices,
// so memory for the front is reclaimed when append next reallocates.
type index struct {
	base   uint64
	ents   []ent
	last   uint64 // highest sequence ever assigned
	lastTs int64
	msgs   uint64
	bytes  uint64 // accounted: see acct
	subj   subjects
	over   overhead
}

// ent is 16 bytes per sequence.
type ent struct {
	ts int64
	// size is len(subject)+len(hdr)+len(data), which is also the file
	// record's length past its fixed header; entHdr marks a non-empty
	// header. Sizes stay below maxMsgSize, so the top bit is free.
	size uint32
	subj uint32 // subject id; 0 = removed
}

const entHdr = 1 << 31

// len is the message's subject, header and data length.
func (e ent) len() uint32 { return e.size &^ entHdr }

// overhead is what a store adds to each message's length in what it counts
// towards Bytes and MaxBytes: nats-server counts its own record, so that
// the same max_bytes holds the same messages on both servers and stream
// info shows the same bytes (nats-server filestore.go fileStoreMsgSizeRaw,
// memstore.go memStoreMsgSizeRaw).
type overhead struct {
	perMsg uint64 // every message
	perHdr uint64 // more for a message with a non-empty header
}

var (
	// fileOverhead: length(4) seq(8) ts(8) subject length(2) hash(8), and
	// a header length(4) when there is a header.
	fileOverhead = overhead{perMsg: 30, perHdr: 4}
	// memOverhead: sequence and timestamp.
	memOverhead = overhead{perMsg: 16}
)

// size is what a message of these lengths counts.
func (o overhead) size(slen, hlen, dlen int) uint64 {
	n := uint64(slen+hlen+dlen) + o.perMsg
	if hlen > 0 {
		n += o.perHdr
	}
	return n
}

func newIndex(o overhead) index {
	return index{base: 1, subj: newSubjects(), over: o}
}

// mkEnt packs a message's length and header flag.
func mkEnt(ts int64, slen, hlen, dlen int, subj uint32) ent {
	e := ent{ts: ts, size: uint32(slen + hlen + dlen), subj: subj}
	if hlen > 0 {
		e.size |= entHdr
	}
	return e
}

// acct is what e counts towards bytes.
func (x *index) acct(e ent) uint64 {
	n := uint64(e.len()) + x.over.perMsg
	if e.size&entHdr != 0 {
		n += x.over.perHdr
	}
	return n
}

// first returns the lowest live sequence, or last+1 when empty. Mutations
// keep ents[0] live (see trim), so this is a plain read, safe under a read
// lock.
func (x *index) first() uint64 { return x.base }

// trim drops removed entries from the front.
func (x *index) trim() {
	for len(x.ents) > 0 && x.ents[0].subj == 0 {
		x.ents = x.ents[1:]
		x.base++
	}
	if len(x.ents) == 0 {
		x.ents = x.ents[:0]
		x.base = x.last + 1
	}
}

func (x *index) get(seq uint64) (*ent, bool) {
	if seq < x.base || seq > x.last {
		return nil, false
	}
	e := &x.ents[seq-x.base]
	return e, e.subj != 0
}

// add records message seq, which must be above last; sequences skipped in
// between are recorded as removed (recovery after lost records).
func (x *index) add(seq uint64, subject string, hlen, dlen int, ts int64) {
	x.extendTo(seq - 1)
	if len(x.ents) == 0 {
		x.base = seq
	}
	id := x.subj.ref(subject, seq)
	e := mkEnt(ts, len(subject), hlen, dlen, id)
	x.ents = append(x.ents, e)
	x.last, x.lastTs = seq, ts
	x.msgs++
	x.bytes += x.acct(e)
}

// extendTo records the sequences up to seq as assigned and removed.
func (x *index) extendTo(seq uint64) {
	if seq <= x.last {
		return
	}
	if len(x.ents) == 0 {
		x.last, x.base = seq, seq+1
		return
	}
	for x.last < seq {
		x.ents = append(x.ents, ent{})
		x.last++
	}
}

// remove marks seq removed and returns its entry as it was.
func (x *index) remove(seq uint64) (ent, bool) {
	e, ok := x.get(seq)
	if !ok {
		return ent{}, false
	}
	old := *e
	e.subj = 0
	x.msgs--
	x.bytes -= x.acct(old)
	if si := x.subj.unref(old.subj, seq); si != nil && seq == si.last {
		// Removing a subject's newest message is rare (RemoveMsg); find the
		// previous one now so that last is always exact.
		s := seq - 1
		for x.ents[s-x.base].subj != old.subj {
			s--
		}
		si.last = s
	}
	x.trim()
	return old, true
}

// skipTo makes every sequence below seq removed and, when seq is past
// last, moves last to seq-1 so the next message gets seq. It returns how
// many live messages it removed.
func (x *index) skipTo(seq uint64, removed func(seq uint64)) uint64 {
	var n uint64
	for s := x.base; s < seq && s <= x.last; s++ {
		if _, ok := x.remove(s); ok {
			n++
			if removed != nil {
				removed(s)
			}
		}
	}
	if seq > x.last+1 {
		x.last = seq - 1
	}
	x.trim()
	return n
}

// subjectName returns the subject of id (no allocation).
func (x *index) subjectName(id uint32) string { return x.subj.info[id].name }

// subjects interns subject strings so that entries hold a 4-byte id, and
// keeps per-subject counts. Ids of subjects with no messages are reused.
type subjects struct {
	ids  map[string]uint32
	info []subjInfo // by id; info[0] unused
	free []uint32
}

type subjInfo struct {
	name        string
	count       uint64
	first, last uint64
	firstStale  bool // first may be below the real first (see firstOf)
}

func newSubjects() subjects {
	return subjects{ids: make(map[string]uint32), info: make([]subjInfo, 1)}
}

func (s *subjects) lookup(name string) (uint32, *subjInfo) {
	id, ok := s.ids[name]
	if !ok {
		return 0, nil
	}
	return id, &s.info[id]
}

func (s *subjects) ref(name string, seq uint64) uint32 {
	id, ok := s.ids[name]
	if !ok {
		if n := len(s.free); n > 0 {
			id = s.free[n-1]
			s.free = s.free[:n-1]
		} else {
			s.info = append(s.info, subjInfo{})
			id = uint32(len(s.info) - 1)
		}
		s.info[id] = subjInfo{name: name, first: seq}
		s.ids[name] = id
	}
	si := &s.info[id]
	si.count++
	si.last = seq
	return id
}

// unref drops one message of id; it returns the subject's info while the
// subject still has messages.
func (s *subjects) unref(id uint32, seq uint64) *subjInfo {
	si := &s.info[id]
	si.count--
	if si.count == 0 {
		delete(s.ids, si.name)
		*si = subjInfo{}
		s.free = append(s.free, id)
		return nil
	}
	if seq == si.first {
		si.firstStale = true
	}
	return si
}

// firstOf returns the exact first sequence of subject id. It may scan, and
// caches the result, so the write lock must be held. Under a read lock use
// subjInfo.first, which is always a lower bound.
func (x *index) firstOf(id uint32) uint64 {
	si := &x.subj.info[id]
	if si.firstStale {
		s := max(si.first, x.base)
		for x.ents[s-x.base].subj != id {
			s++
		}
		si.first, si.firstStale = s, false
	}
	return si.first
}

func (x *index) numDeleted() int {
	if x.msgs == 0 {
		return 0
	}
	return int(x.last - x.base + 1 - x.msgs)
}

// addBytes is add for a subject still in a read buffer: the string is
// allocated only for a subject not yet known (recovery).
func (x *index) addBytes(seq uint64, subject []byte, hlen, dlen int, ts int64) {
	if id, ok := x.subj.ids[string(subject)]; ok {
		x.add(seq, x.subj.info[id].name, hlen, dlen, ts)
		return
	}
	x.add(seq, string(subject), hlen, dlen, ts)
}
