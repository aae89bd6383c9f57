package jsbackup

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// nats-server's portable snapshot archive ("NATSARC1", nats-server 2.15:
// server/archive/archive.go and server/stream_backup.go, read for the
// format; our own code). $JS.API.STREAM.SNAPSHOT of nats-server 2.15
// sends it s2-compressed, and natscli saves it as stream.tar.s2. natsctl
// writes it too, so snapshots move between the two servers.
//
//	"NATSARC1"                        once, at the start
//	then entries:
//	  uvarint  len(name)
//	  varint   timestamp (Unix ns)
//	  uvarint  sequence (0: not a message)
//	  uvarint  header size
//	  uvarint  payload size
//	  name
//	  header bytes, payload bytes
//
// A stream snapshot is: "state.json" (the stream state, JSON; its
// "consumer_count" says how many entries follow), one "consumers/<name>"
// entry per consumer (JSON), one entry per message (name = subject), and
// an entry with everything empty or zero marking the end.

// ArchiveMagic starts an archive.
const ArchiveMagic = "NATSARC1"

// maxArchiveName bounds an entry name (a subject), against corrupt input.
const maxArchiveName = 1 << 20

// ErrBadArchive is returned for input that is not a valid archive.
var ErrBadArchive = errors.New("jsbackup: invalid nats-server archive")

// Entry is one archive entry.
type Entry struct {
	Name      string
	Timestamp int64
	Sequence  uint64
	Header    []byte
	Payload   []byte
}

// ArchiveWriter writes an archive.
type ArchiveWriter struct {
	w     *bufio.Writer
	magic bool
	buf   [5 * binary.MaxVarintLen64]byte
}

// NewArchiveWriter writes to w; Flush must be called at the end.
func NewArchiveWriter(w io.Writer) *ArchiveWriter {
	return &ArchiveWriter{w: bufio.NewWriterSize(w, 64<<10)}
}

// Write appends one entry.
func (a *ArchiveWriter) Write(e *Entry) error {
	if !a.magic {
		if _, err := a.w.WriteString(ArchiveMagic); err != nil {
			return err
		}
		a.magic = true
	}
	b := a.buf[:0]
	b = binary.AppendUvarint(b, uint64(len(e.Name)))
	b = binary.AppendVarint(b, e.Timestamp)
	b = binary.AppendUvarint(b, e.Sequence)
	b = binary.AppendUvarint(b, uint64(len(e.Header)))
	b = binary.AppendUvarint(b, uint64(len(e.Payload)))
	if _, err := a.w.Write(b); err != nil {
		return err
	}
	if _, err := a.w.WriteString(e.Name); err != nil {
		return err
	}
	if _, err := a.w.Write(e.Header); err != nil {
		return err
	}
	_, err := a.w.Write(e.Payload)
	return err
}

// Flush writes what is buffered.
func (a *ArchiveWriter) Flush() error { return a.w.Flush() }

// ArchiveReader reads an archive.
type ArchiveReader struct {
	r     *bufio.Reader
	magic bool
	max   int64
}

// NewArchiveReader reads from r (decompressed). maxEntry bounds the bytes
// of one entry's header plus payload.
func NewArchiveReader(r *bufio.Reader, maxEntry int64) *ArchiveReader {
	return &ArchiveReader{r: r, max: maxEntry}
}

// Next returns the next entry; io.EOF only at a clean end of input before
// any entry bytes (a snapshot ends with its end marker, not with EOF).
func (a *ArchiveReader) Next() (*Entry, error) {
	if !a.magic {
		var m [len(ArchiveMagic)]byte
		if _, err := io.ReadFull(a.r, m[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			return nil, ErrBadArchive
		}
		if string(m[:]) != ArchiveMagic {
			return nil, ErrBadArchive
		}
		a.magic = true
	}
	nameLen, err := binary.ReadUvarint(a.r)
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	var ts int64
	var seq, hl, pl uint64
	if err == nil {
		ts, err = binary.ReadVarint(a.r)
	}
	if err == nil {
		seq, err = binary.ReadUvarint(a.r)
	}
	if err == nil {
		hl, err = binary.ReadUvarint(a.r)
	}
	if err == nil {
		pl, err = binary.ReadUvarint(a.r)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: entry header: %v", ErrBadArchive, err)
	}
	if nameLen > maxArchiveName || hl > uint64(a.max) || pl > uint64(a.max) || hl+pl > uint64(a.max) {
		return nil, fmt.Errorf("%w: entry of %d+%d bytes, name %d bytes", ErrBadArchive, hl, pl, nameLen)
	}
	// Read as the bytes come (not one allocation of the declared size), so
	// a damaged length cannot make us allocate what is not there.
	total := int64(nameLen + hl + pl)
	buf, err := io.ReadAll(io.LimitReader(a.r, total))
	if err != nil || int64(len(buf)) != total {
		return nil, fmt.Errorf("%w: entry cut short", ErrBadArchive)
	}
	e := &Entry{Name: string(buf[:nameLen]), Timestamp: ts, Sequence: seq}
	if hl > 0 {
		e.Header = buf[nameLen : nameLen+hl]
	}
	if pl > 0 {
		e.Payload = buf[nameLen+hl:]
	}
	return e, nil
}

// IsEnd reports whether e is the end marker.
func (e *Entry) IsEnd() bool {
	return e.Name == "" && e.Timestamp == 0 && e.Sequence == 0 && len(e.Header) == 0 && len(e.Payload) == 0
}

// SnapshotReader reads a stream snapshot archive (decompressed):
// state.json, then as many "consumers/<name>" entries as its
// consumer_count says, then messages up to the end marker. Consumers come
// from Consumers; Next skips those not read yet.
type SnapshotReader struct {
	ar        *ArchiveReader
	state     []byte
	consumers int // consumer entries not read yet
	last      uint64
	done      bool
}

// ConsumerEntry is one "consumers/<name>" entry: nats-server's
// {"config":...,"state":...} JSON, left to the caller to decode.
type ConsumerEntry struct {
	Name string
	JSON []byte
}

// consumerPrefix names consumer entries.
const consumerPrefix = "consumers/"

// NewSnapshotReader reads the state entry of a decompressed archive.
func NewSnapshotReader(plain *bufio.Reader) (*SnapshotReader, error) {
	ar := NewArchiveReader(plain, MaxLine)
	e, err := ar.Next()
	if err != nil || e.Name != "state.json" {
		return nil, fmt.Errorf("%w: expected state.json first", ErrBadArchive)
	}
	var st struct {
		Consumers int `json:"consumer_count"`
	}
	if err := json.Unmarshal(e.Payload, &st); err != nil {
		return nil, fmt.Errorf("%w: state.json: %v", ErrBadArchive, err)
	}
	if st.Consumers < 0 {
		return nil, fmt.Errorf("%w: state.json: consumer_count %d", ErrBadArchive, st.Consumers)
	}
	return &SnapshotReader{ar: ar, state: e.Payload, consumers: st.Consumers}, nil
}

// State returns state.json (nats-server's stream state JSON).
func (r *SnapshotReader) State() []byte { return r.state }

// Consumers reads the consumer entries (before the first Next). Like
// nats-server, it expects exactly consumer_count of them, each named
// "consumers/<name>".
func (r *SnapshotReader) Consumers() ([]ConsumerEntry, error) {
	var out []ConsumerEntry
	for r.consumers > 0 {
		e, err := r.ar.Next()
		if errors.Is(err, io.EOF) {
			return out, ErrTruncated
		}
		if err != nil {
			return out, err
		}
		name, ok := strings.CutPrefix(e.Name, consumerPrefix)
		if !ok || name == "" || e.Sequence != 0 {
			return out, fmt.Errorf("%w: expected a consumer entry, found %q", ErrBadArchive, e.Name)
		}
		r.consumers--
		out = append(out, ConsumerEntry{Name: name, JSON: e.Payload})
	}
	return out, nil
}

// Next returns the next message, io.EOF after the end marker, or an error
// (a snapshot without its end marker is truncated).
func (r *SnapshotReader) Next() (*Msg, error) {
	if r.consumers > 0 {
		if _, err := r.Consumers(); err != nil {
			return nil, err
		}
	}
	for !r.done {
		e, err := r.ar.Next()
		if errors.Is(err, io.EOF) {
			return nil, ErrTruncated
		}
		if err != nil {
			return nil, err
		}
		switch {
		case e.IsEnd():
			r.done = true
		case e.Sequence == 0:
			return nil, fmt.Errorf("%w: expected a message, found %q", ErrBadArchive, e.Name)
		case e.Sequence <= r.last || e.Name == "":
			return nil, fmt.Errorf("%w: message %d after %d", ErrBadArchive, e.Sequence, r.last)
		default:
			r.last = e.Sequence
			return &Msg{Seq: e.Sequence, Subject: e.Name, Header: e.Header, Data: e.Payload, Time: time.Unix(0, e.Timestamp).UTC()}, nil
		}
	}
	return nil, io.EOF
}
