package jsbackup

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/klauspost/compress/s2"
)

// FormatName and Version identify the format in the first line.
const (
	FormatName = "natsctl-stream-backup"
	Version    = 1
)

// MaxLine bounds one encoded line (a message of up to 64 MiB in base64
// plus its subject and headers), so a damaged file cannot make the reader
// allocate without limit.
const MaxLine = 96 << 20

var (
	// ErrNotBackup is returned when the input is not in this format.
	ErrNotBackup = errors.New("jsbackup: not a natsctl stream backup")
	// ErrTruncated is returned when the input ends before its last line.
	ErrTruncated = errors.New("jsbackup: backup is truncated (no end record)")
)

// Header is the first line: what was backed up.
type Header struct {
	Format  string          `json:"format"`
	Version int             `json:"version"`
	Config  json.RawMessage `json:"config"`
	State   json.RawMessage `json:"state,omitempty"`
	Created time.Time       `json:"created"`
}

// Msg is one stored message.
type Msg struct {
	Seq     uint64    `json:"seq"`
	Subject string    `json:"subject"`
	Header  []byte    `json:"hdrs,omitempty"` // raw "NATS/1.0\r\n..." block
	Data    []byte    `json:"data,omitempty"`
	Time    time.Time `json:"time"`
}

// trailer is the last line.
type trailer struct {
	End      bool   `json:"end"`
	Messages uint64 `json:"messages"`
	LastSeq  uint64 `json:"last_seq"`
}

// line is what the reader decodes each line into: a message or the trailer.
type line struct {
	Msg
	trailer
}

// Writer writes a backup.
type Writer struct {
	zw      *s2.Writer
	enc     *json.Encoder
	n, last uint64
}

// NewWriter writes h (Format and Version are filled in) to w and returns a
// Writer for the messages. Close must be called to end the backup; it
// does not close w.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	h.Format, h.Version = FormatName, Version
	if h.Created.IsZero() {
		h.Created = time.Now().UTC()
	}
	zw := s2.NewWriter(w)
	bw := &Writer{zw: zw, enc: json.NewEncoder(zw)}
	if err := bw.enc.Encode(h); err != nil {
		return nil, err
	}
	return bw, nil
}

// Write appends one message. Sequences must strictly increase.
func (w *Writer) Write(m *Msg) error {
	if m.Seq <= w.last {
		return fmt.Errorf("jsbackup: sequence %d after %d", m.Seq, w.last)
	}
	if err := w.enc.Encode(m); err != nil {
		return err
	}
	w.n, w.last = w.n+1, m.Seq
	return nil
}

// Close writes the end record and flushes the compressor.
func (w *Writer) Close() error {
	if err := w.enc.Encode(trailer{End: true, Messages: w.n, LastSeq: w.last}); err != nil {
		return err
	}
	return w.zw.Close()
}

// Reader reads a backup.
type Reader struct {
	br     *bufio.Reader
	header Header
	n      uint64
	last   uint64
	done   bool
}

// NewReader reads and checks the first line.
func NewReader(r io.Reader) (*Reader, error) {
	br := &Reader{br: bufio.NewReaderSize(s2.NewReader(r), 64<<10)}
	// Fail fast on other data (a nats-server snapshot is an s2 tar).
	if first, err := br.br.Peek(1); err != nil || first[0] != '{' {
		return nil, ErrNotBackup
	}
	b, err := br.readLine()
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, ErrTruncated) {
			return nil, ErrNotBackup
		}
		return nil, fmt.Errorf("%w: %v", ErrNotBackup, err)
	}
	if err := json.Unmarshal(b, &br.header); err != nil || br.header.Format != FormatName {
		return nil, ErrNotBackup
	}
	if br.header.Version != Version {
		return nil, fmt.Errorf("jsbackup: format version %d, this natsctl reads version %d", br.header.Version, Version)
	}
	return br, nil
}

// Header returns the first line.
func (r *Reader) Header() Header { return r.header }

// Next returns the next message, io.EOF after the end record once the
// count matched, or an error (ErrTruncated when the input stops early).
func (r *Reader) Next() (*Msg, error) {
	if r.done {
		return nil, io.EOF
	}
	b, err := r.readLine()
	if err != nil {
		return nil, err
	}
	var l line
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("jsbackup: record %d: %w", r.n+1, err)
	}
	if l.End {
		if l.Messages != r.n || l.LastSeq != r.last {
			return nil, fmt.Errorf("jsbackup: end record says %d messages up to %d, read %d up to %d", l.Messages, l.LastSeq, r.n, r.last)
		}
		r.done = true
		return nil, io.EOF
	}
	if l.Seq <= r.last || l.Subject == "" {
		return nil, fmt.Errorf("jsbackup: record %d: bad sequence %d or subject %q", r.n+1, l.Seq, l.Subject)
	}
	r.n, r.last = r.n+1, l.Seq
	m := l.Msg
	return &m, nil
}

// readLine returns one line without its newline.
func (r *Reader) readLine() ([]byte, error) {
	var buf []byte
	for {
		part, err := r.br.ReadSlice('\n')
		if len(buf)+len(part) > MaxLine {
			return nil, fmt.Errorf("jsbackup: a record is longer than %d bytes", MaxLine)
		}
		buf = append(buf, part...)
		switch {
		case err == nil:
			return buf[:len(buf)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			return nil, ErrTruncated
		default:
			return nil, fmt.Errorf("jsbackup: %w", err)
		}
	}
}
