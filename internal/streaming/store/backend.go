package store

// backend is what a store keeps apart from the shared index: the message
// bytes and their durability. The shared code (core.go, limits.go) owns
// sequences, subjects, limits and purge rules, so both stores behave the
// same by construction.
//
// Methods marked "mu held" are called with the core's lock held for
// writing; read is called with it held for reading (concurrent reads).
// commit and eraseQueued are called without it.
type backend interface {
	// append stores message seq (mu held).
	append(seq uint64, subject string, hdr, data []byte, ts int64) error
	// read loads seq, whose index entry is e, into sm's buffer (read lock).
	read(seq uint64, e ent, sm *Msg) error
	// remove forgets seq (mu held); the file store writes a tombstone. With
	// erase the bytes are overwritten, by the time eraseQueued returns.
	remove(seq uint64, e ent, erase bool) error
	// skipTo forgets every sequence below seq (mu held): one marker record
	// instead of a tombstone per message.
	skipTo(seq uint64) error
	// token identifies everything appended so far (mu held).
	token() uint64
	// commit returns once everything up to tok is durable (no lock).
	commit(tok uint64) error
	// eraseQueued overwrites the bytes of messages removed with erase whose
	// records were not yet on disk at the time (no lock).
	eraseQueued() error
	reports() []Report
	close() error
}
