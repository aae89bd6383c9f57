package store

import (
	"errors"
	"fmt"
	"time"
)

// Store holds the messages of one stream. Both implementations (NewMemory,
// OpenFile) are safe for concurrent use.
//
// Sequences start at 1, grow by one per stored message and are never reused:
// not after RemoveMsg, not after Purge, not after a restart.
type Store interface {
	// StoreMsg appends a message and returns its sequence. ts is the time in
	// Unix nanoseconds; 0 means now. It returns only once the message is as
	// durable as the store's sync policy promises. A limit with DiscardNew
	// refuses the message with ErrMaxMsgs, ErrMaxBytes or ErrMaxMsgsPerSubject;
	// an oversized one gets ErrMaxMsgSize.
	StoreMsg(subject string, hdr, data []byte, ts int64) (uint64, error)
	// Append is StoreMsg without the wait: the message is stored and
	// visible, and becomes durable when Flush (or a later StoreMsg) returns.
	// A caller holding a batch (the stream engine with one read batch of
	// publishes) appends them all and flushes once before acknowledging:
	// one write and one fsync for the batch.
	Append(subject string, hdr, data []byte, ts int64) (uint64, error)
	// Flush returns once everything stored so far is durable.
	Flush() error

	// LoadMsg loads message seq into sm (allocated when nil) and returns it.
	// sm.Header and sm.Data alias sm's own buffer, reused by the next load
	// into the same sm. A removed or unknown seq gives ErrNotFound.
	LoadMsg(seq uint64, sm *Msg) (*Msg, error)
	// LoadLastMsg loads the newest message whose subject matches filter
	// (a subject, possibly with * and > wildcards; "" means all).
	LoadLastMsg(filter string, sm *Msg) (*Msg, error)
	// LoadNextMsg loads the first message with sequence >= start whose subject
	// matches filter. ErrNotFound when there is none.
	LoadNextMsg(filter string, start uint64, sm *Msg) (*Msg, error)

	// RemoveMsg removes message seq; with erase its bytes are overwritten
	// too (secure delete). It reports whether the message existed.
	RemoveMsg(seq uint64, erase bool) (bool, error)
	// Purge removes messages as PurgeOpts says and returns how many.
	Purge(opts PurgeOpts) (uint64, error)

	// State summarises the store; with deleted, State.Deleted lists the
	// removed sequences between FirstSeq and LastSeq.
	State(deleted bool) State
	// SubjectsState counts the live messages per subject matching filter.
	SubjectsState(filter string) map[string]uint64

	// MsgSize is what a message counts towards Bytes and MaxBytes:
	// nats-server's record size for this kind of store (the file store
	// adds 30 bytes, 34 with a header; the memory store 16), so that the
	// same limits keep the same messages on both servers.
	MsgSize(subject string, hdr, data []byte) uint64

	// SetLimits replaces the limits and enforces them at once.
	SetLimits(Limits) error
	// Reports lists the damage found on open and on later reads (file store
	// only). Each entry is meant to be logged and shown in /jsz.
	Reports() []Report
	// Close flushes and syncs everything and releases the store.
	Close() error
}

// Msg is one stored message.
type Msg struct {
	Subject string
	Header  []byte // nil when the message had none
	Data    []byte
	Seq     uint64
	Time    int64 // Unix nanoseconds

	buf []byte // backs Header and Data
}

// PurgeOpts selects what Purge removes (ADR-10). The zero value removes
// everything. Seq and Keep are mutually exclusive.
type PurgeOpts struct {
	Subject string // only messages matching this filter; "" for all
	Seq     uint64 // only messages with a sequence below Seq
	Keep    uint64 // all but the newest Keep (per Subject filter)
}

// State is the summary State returns; field meanings follow JetStream's
// stream state.
type State struct {
	Msgs        uint64
	Bytes       uint64 // what the messages count, see Store.MsgSize
	FirstSeq    uint64 // LastSeq+1 when the store is empty
	LastSeq     uint64 // highest sequence ever assigned
	FirstTime   time.Time
	LastTime    time.Time
	NumDeleted  int // removed sequences between FirstSeq and LastSeq
	NumSubjects int
	Deleted     []uint64 // only when asked for
}

// Discard says what a full store does with a new message.
type Discard int

const (
	// DiscardOld removes the oldest messages to make room.
	DiscardOld Discard = iota
	// DiscardNew refuses the new message.
	DiscardNew
)

// Limits bound a store. A value <= 0 means unlimited. Both stores enforce
// them with the same code (limits.go).
type Limits struct {
	MaxMsgs           int64
	MaxBytes          int64
	MaxAge            time.Duration
	MaxMsgsPerSubject int64
	MaxMsgSize        int64
	Discard           Discard
	// DiscardNewPerSubject makes a full subject refuse new messages (with
	// DiscardNew) instead of dropping its oldest.
	DiscardNewPerSubject bool
}

// Config is common to both stores.
type Config struct {
	Name   string // stream name, used in reports
	Limits Limits
	// Now is the clock used for timestamps and max-age; nil means time.Now.
	Now func() time.Time
}

var (
	ErrNotFound          = errors.New("store: message not found")
	ErrClosed            = errors.New("store: closed")
	ErrMaxMsgs           = errors.New("store: maximum messages exceeded")
	ErrMaxBytes          = errors.New("store: maximum bytes exceeded")
	ErrMaxMsgsPerSubject = errors.New("store: maximum messages per subject exceeded")
	ErrMaxMsgSize        = errors.New("store: message size exceeds maximum allowed")
	ErrBadSubject        = errors.New("store: invalid subject")
	ErrBadPurge          = errors.New("store: purge sequence and keep are mutually exclusive")
	// ErrCorrupt is returned (wrapped, with a Report) when a record fails its
	// checksum on read. The message is never served.
	ErrCorrupt = errors.New("store: corrupt data")
	// ErrFailed wraps the I/O error that stopped a file store; every later
	// write fails with it, since the disk state is no longer known.
	ErrFailed = errors.New("store: failed")
)

// Report describes damage found in a file store: a corrupt range (the word
// "corrupt" is in its String) or a torn tail truncated after a crash.
type Report struct {
	Stream   string
	File     string
	Torn     bool  // an incomplete write at the end of the last segment
	Offset   int64 // byte range in File
	Length   int64
	FirstSeq uint64 // message sequences lost, when known (0 = unknown)
	LastSeq  uint64
	Detail   string
}

func (r Report) String() string {
	what := "corrupt data"
	if r.Torn {
		what = "torn write at the end (truncated)"
	}
	s := fmt.Sprintf("stream %q: file %s: %s at bytes %d-%d", r.Stream, r.File, what, r.Offset, r.Offset+r.Length)
	switch {
	case r.FirstSeq != 0 && r.LastSeq >= r.FirstSeq:
		s += fmt.Sprintf(", message sequences %d-%d lost", r.FirstSeq, r.LastSeq)
	case r.FirstSeq != 0 && r.Torn:
		// After a crash these were never acknowledged; after damage to the
		// disk they may have been.
		s += fmt.Sprintf(", message sequences from %d may be lost (unacknowledged if the server crashed while writing them)", r.FirstSeq)
	case r.FirstSeq != 0:
		s += fmt.Sprintf(", message sequences from %d lost", r.FirstSeq)
	default:
		s += ", no message sequence known to be lost"
	}
	if r.Detail != "" {
		s += " (" + r.Detail + ")"
	}
	return s
}
