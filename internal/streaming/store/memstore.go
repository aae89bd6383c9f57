package store

// NewMemory returns a store that keeps messages in memory only.
func NewMemory(cfg Config) (Store, error) {
	return newStore(cfg, &memBackend{base: 1}, newIndex(memOverhead)), nil
}

// memBackend keeps one copy of each message, header and data back to back,
// in a slice parallel to the index (msgs[i] is sequence base+i).
type memBackend struct {
	base uint64
	msgs []memMsg
}

type memMsg struct {
	buf  []byte // header then data
	hlen int
	hdr  bool // a header was given, even an empty one
}

func (m *memBackend) append(seq uint64, _ string, hdr, data []byte, _ int64) error {
	if len(m.msgs) == 0 {
		m.base = seq
	}
	for m.base+uint64(len(m.msgs)) < seq { // sequences skipped by a purge
		m.msgs = append(m.msgs, memMsg{})
	}
	buf := make([]byte, len(hdr)+len(data))
	copy(buf, hdr)
	copy(buf[len(hdr):], data)
	m.msgs = append(m.msgs, memMsg{buf: buf, hlen: len(hdr), hdr: hdr != nil})
	return nil
}

func (m *memBackend) read(seq uint64, _ ent, sm *Msg) error {
	mm := &m.msgs[seq-m.base]
	sm.buf = append(sm.buf[:0], mm.buf...)
	sm.Header, sm.Data = nil, sm.buf[mm.hlen:]
	if mm.hdr {
		sm.Header = sm.buf[:mm.hlen:mm.hlen]
		if sm.Header == nil {
			sm.Header = []byte{} // present but empty, as stored
		}
	}
	return nil
}

func (m *memBackend) remove(seq uint64, _ ent, erase bool) error {
	mm := &m.msgs[seq-m.base]
	if erase {
		clear(mm.buf)
	}
	*mm = memMsg{}
	return nil
}

func (m *memBackend) skipTo(seq uint64) error {
	if seq >= m.base+uint64(len(m.msgs)) {
		m.msgs, m.base = m.msgs[:0], seq
		return nil
	}
	if seq > m.base {
		clear(m.msgs[:seq-m.base]) // let the payloads be collected
		m.msgs = m.msgs[seq-m.base:]
		m.base = seq
	}
	return nil
}

func (m *memBackend) token() uint64       { return 0 }
func (m *memBackend) commit(uint64) error { return nil }
func (m *memBackend) eraseQueued() error  { return nil }
func (m *memBackend) reports() []Report   { return nil }
func (m *memBackend) close() error        { return nil }
