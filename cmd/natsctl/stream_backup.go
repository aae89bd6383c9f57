package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/spf13/cobra"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/jsbackup"
	"github.com/natsctl/natsctl/internal/jsclient"
	"github.com/natsctl/natsctl/internal/streaming"
)

// `natsctl stream backup|restore` move a stream between servers (natsctl
// or nats-server, either way) in the portable jsbackup format, one file
// with the config. Both read and write through the ordinary JetStream
// API, so they work with any server version (the snapshot API's format
// depends on it: nats-server before 2.15 sends its file-store blocks).

func newStreamBackupCmd(d *deps) *cobra.Command {
	return newStreamSub(d, "backup NAME FILE", "Save a stream's config and messages to a portable file",
		`  natsctl stream backup ORDERS orders.backup
  natsctl stream backup ORDERS - > orders.backup`, cobra.ExactArgs(2), func(f *streamFlags) {
			f.cmd.RunE = func(cmd *cobra.Command, args []string) error {
				f.o.Name, f.o.File = args[0], args[1]
				return runStreamBackup(cmd.Context(), f.o)
			}
		}, runStreamBackup)
}

func newStreamRestoreCmd(d *deps) *cobra.Command {
	return newStreamSub(d, "restore FILE|DIR", "Recreate a stream from a backup (natsctl's, or a natscli backup directory), keeping message sequences",
		`  natsctl stream restore orders.backup
  natsctl stream restore orders.backup -s nats://other:4222
  natsctl stream restore ./natscli-backup-dir`, cobra.ExactArgs(1), func(f *streamFlags) {
			f.cmd.RunE = func(cmd *cobra.Command, args []string) error {
				f.o.File = args[0]
				return runStreamRestore(cmd.Context(), f.o)
			}
		}, runStreamRestore)
}

// backupInfo is the part of STREAM.INFO a backup keeps: config and state
// verbatim, plus the few state fields it needs itself.
type backupInfo struct {
	Config json.RawMessage `json:"config"`
	State  json.RawMessage `json:"state"`
}

type backupState struct {
	Messages uint64 `json:"messages"`
	FirstSeq uint64 `json:"first_seq"`
	LastSeq  uint64 `json:"last_seq"`
}

// runStreamBackup reads every message up to the stream's last sequence at
// the start (later publishes are not included) with MSG.GET, which
// returns the stored header block byte for byte on both servers.
func runStreamBackup(ctx context.Context, o *streamOptions) error {
	return withConn(ctx, o, func(nc *client.Conn) error {
		var info backupInfo
		if _, err := jsRequest(ctx, nc, "STREAM.INFO."+o.Name, nil, &info); err != nil {
			return fmt.Errorf("stream %s: %w", o.Name, err)
		}
		var st backupState
		if err := json.Unmarshal(info.State, &st); err != nil {
			return fmt.Errorf("stream %s: bad state in STREAM.INFO: %w", o.Name, err)
		}
		out, commit, err := createOutput(o)
		if err != nil {
			return err
		}
		defer commit(false)
		w, err := jsbackup.NewWriter(out, jsbackup.Header{Config: info.Config, State: info.State})
		if err != nil {
			return err
		}
		n, err := copyMessages(ctx, nc, o.Name, st, w)
		if err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		if err := commit(true); err != nil {
			return err
		}
		return reportTransfer(o, "backed up", o.Name, n, st.LastSeq)
	})
}

// copyMessages reads the messages from the first to the last sequence of
// st with MSG.GET {"seq":s,"next_by_subj":">"} (the first message at or
// after s), keeping up to 256 requests in flight for consecutive
// sequences. Requests that fall into a gap get the message after it,
// which is written once.
func copyMessages(ctx context.Context, nc *client.Conn, name string, st backupState, w *jsbackup.Writer) (uint64, error) {
	p, err := newPipe(nc, 256, 30*time.Second)
	if err != nil {
		return 0, err
	}
	defer p.close()
	next, written, n := max(st.FirstSeq, 1), uint64(0), uint64(0)
	for next <= st.LastSeq || p.outstanding() > 0 {
		for next <= st.LastSeq && !p.full() {
			body, _ := json.Marshal(map[string]any{"seq": next, "next_by_subj": ">"})
			if err := p.send(&client.Msg{Subject: "$JS.API.STREAM.MSG.GET." + name, Data: body}); err != nil {
				return n, err
			}
			next++
		}
		reply, err := p.recv(ctx)
		if err != nil {
			return n, fmt.Errorf("read messages of %s: %w", name, err)
		}
		var resp struct {
			Error   *streaming.APIError `json:"error"`
			Message streaming.StoredMsg `json:"message"`
		}
		if err := json.Unmarshal(reply.Data, &resp); err != nil {
			return n, fmt.Errorf("read messages of %s: bad reply %q", name, reply.Data)
		}
		m := resp.Message
		switch {
		case resp.Error != nil && resp.Error.ErrCode == 10037: // nothing at or after: done
			next = st.LastSeq + 1
			continue
		case resp.Error != nil:
			return n, fmt.Errorf("read messages of %s: %w", name, resp.Error)
		case m.Sequence > st.LastSeq:
			next = st.LastSeq + 1
			continue
		case m.Sequence <= written:
			continue // a request that fell into a gap
		}
		if err := w.Write(&jsbackup.Msg{Seq: m.Sequence, Subject: m.Subject, Header: m.Header, Data: m.Data, Time: m.Time}); err != nil {
			return n, err
		}
		written, n = m.Sequence, n+1
		next = max(next, m.Sequence+1)
	}
	return n, nil
}

// reportTransfer says what was done: a line on ErrOut, or with --json a
// JSON object on Out (unless Out carries the backup itself).
func reportTransfer(o *streamOptions, what, stream string, msgs, lastSeq uint64) error {
	if o.JSON && o.File != "-" {
		b, _ := json.Marshal(map[string]any{"stream": stream, "messages": msgs, "last_seq": lastSeq, "file": o.File})
		_, err := fmt.Fprintln(o.IO.Out, string(b))
		return err
	}
	fmt.Fprintf(o.IO.ErrOut, "%s %d messages of stream %s (last sequence %d), file %s\n", what, msgs, stream, lastSeq, o.File)
	return nil
}

// createOutput opens o.File for writing ("-" is standard output). A file
// is written under a temporary name and renamed by commit(true), so a
// failed backup never leaves a partial file under the final name.
func createOutput(o *streamOptions) (io.Writer, func(ok bool) error, error) {
	if o.File == "-" {
		return o.IO.Out, func(bool) error { return nil }, nil
	}
	f, err := os.CreateTemp(filepath.Dir(o.File), filepath.Base(o.File)+".tmp*")
	if err != nil {
		return nil, nil, err
	}
	done := false
	return f, func(ok bool) error {
		if done {
			return nil
		}
		done = true
		if !ok {
			f.Close()
			os.Remove(f.Name())
			return nil
		}
		err := f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(f.Name(), o.File)
		}
		if err != nil {
			os.Remove(f.Name())
		}
		return err
	}, nil
}

func runStreamRestore(ctx context.Context, o *streamOptions) error {
	r, h, closeIn, err := openBackup(o)
	if err != nil {
		return err
	}
	defer closeIn()
	return withConn(ctx, o, func(nc *client.Conn) error {
		rs, err := newRestorer(ctx, nc, h)
		if err != nil {
			return err
		}
		for {
			m, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: %w (the stream %s is left as restored so far)", o.File, err, rs.name)
			}
			if err := rs.put(m); err != nil {
				return err
			}
		}
		if err := rs.finish(); err != nil {
			return err
		}
		return reportTransfer(o, "restored", rs.name, rs.msgs, rs.last)
	})
}

// msgSource is what restore reads messages from: a natsctl backup file or
// a nats-server 2.15 snapshot archive.
type msgSource interface {
	Next() (*jsbackup.Msg, error)
}

// openBackup opens o.File: a `natsctl stream backup` file ("-" is
// standard input), or a directory written by natscli's `nats stream
// backup` (backup.json with the config and state, and the snapshot
// archive stream.arc.s2 that nats-server 2.15 and natsctl send).
func openBackup(o *streamOptions) (msgSource, jsbackup.Header, func(), error) {
	var h jsbackup.Header
	if o.File == "-" {
		r, err := jsbackup.NewReader(o.IO.In)
		if err != nil {
			return nil, h, nil, fmt.Errorf("standard input: %w", err)
		}
		return r, r.Header(), func() {}, nil
	}
	if fi, err := os.Stat(o.File); err == nil && fi.IsDir() {
		return openNatsBackupDir(o.File)
	}
	f, err := os.Open(o.File)
	if err != nil {
		return nil, h, nil, err
	}
	r, err := jsbackup.NewReader(f)
	if err != nil {
		f.Close()
		return nil, h, nil, fmt.Errorf("%s: %w", o.File, err)
	}
	return r, r.Header(), func() { f.Close() }, nil
}

func openNatsBackupDir(dir string) (msgSource, jsbackup.Header, func(), error) {
	var h jsbackup.Header
	meta, err := os.ReadFile(filepath.Join(dir, "backup.json"))
	if err != nil {
		return nil, h, nil, fmt.Errorf("%s is not a natscli backup directory: %w", dir, err)
	}
	if err := json.Unmarshal(meta, &h); err != nil || len(h.Config) == 0 {
		return nil, h, nil, fmt.Errorf("%s/backup.json: no stream config (%v)", dir, err)
	}
	var f *os.File
	for _, name := range []string{"stream.arc.s2", "stream.tar.s2"} {
		if f, err = os.Open(filepath.Join(dir, name)); err == nil {
			break
		}
	}
	if err != nil {
		return nil, h, nil, fmt.Errorf("%s: no stream.arc.s2 or stream.tar.s2 in it", dir)
	}
	plain := bufio.NewReaderSize(s2.NewReader(f), 64<<10)
	if magic, _ := plain.Peek(len(jsbackup.ArchiveMagic)); string(magic) != jsbackup.ArchiveMagic {
		f.Close()
		return nil, h, nil, fmt.Errorf("%s: the snapshot is not nats-server 2.15's archive format (older servers send their file-store blocks, which natsctl cannot read): back the stream up with `natsctl stream backup` instead", dir)
	}
	sr, err := jsbackup.NewSnapshotReader(plain)
	if err != nil {
		f.Close()
		return nil, h, nil, fmt.Errorf("%s: %w", dir, err)
	}
	return sr, h, func() { f.Close() }, nil
}

// restorer recreates a stream by publishing its messages again. To give
// each message its original sequence it moves the first sequence forward
// with a purge (which both servers accept on an empty stream) and fills
// each gap with placeholder messages, removed again at the end. While it
// runs the stream has no limits and allows deletes and purges; the
// original config is applied at the end.
type restorer struct {
	ctx     context.Context
	nc      *client.Conn
	name    string
	config  map[string]any
	state   backupState
	gapSubj string   // placeholder subject
	gapUniq bool     // gapSubj is ours alone: one purge removes placeholders
	gaps    []uint64 // placeholder sequences when !gapUniq
	filled  uint64   // placeholders published
	last    uint64   // last sequence in the stream
	msgs    uint64
	started bool
	pipe    *pipe
	expect  []uint64 // sequence each outstanding publish must get
}

func newRestorer(ctx context.Context, nc *client.Conn, h jsbackup.Header) (*restorer, error) {
	p, err := newPipe(nc, 256, 30*time.Second)
	if err != nil {
		return nil, err
	}
	rs := &restorer{ctx: ctx, nc: nc, pipe: p}
	if err := json.Unmarshal(h.Config, &rs.config); err != nil {
		return nil, fmt.Errorf("backup config: %w", err)
	}
	if len(h.State) > 0 {
		if err := json.Unmarshal(h.State, &rs.state); err != nil {
			return nil, fmt.Errorf("backup state: %w", err)
		}
	}
	rs.name, _ = rs.config["name"].(string)
	if rs.name == "" {
		return nil, errors.New("backup config has no stream name")
	}
	// Server-set metadata and first_seq are not config to send back.
	delete(rs.config, "first_seq")
	if md, ok := rs.config["metadata"].(map[string]any); ok {
		for k := range md {
			if strings.HasPrefix(k, "_nats.") {
				delete(md, k)
			}
		}
	}
	subjects, _ := rs.config["subjects"].([]any)
	if len(subjects) == 0 {
		return nil, fmt.Errorf("stream %s has no subjects (a mirror or sourced stream?): restore publishes to them and cannot restore it", rs.name)
	}
	first, _ := subjects[0].(string)
	rs.gapSubj, rs.gapUniq = placeholderSubject(first)
	if _, err := jsRequest(ctx, nc, "STREAM.INFO."+rs.name, nil, nil); err == nil {
		return nil, fmt.Errorf("stream %s already exists: delete it first (`natsctl stream rm %s`) or restore on another server", rs.name, rs.name)
	}
	open := make(map[string]any, len(rs.config))
	for k, v := range rs.config {
		open[k] = v
	}
	for k, v := range map[string]any{"sealed": false, "deny_delete": false, "deny_purge": false,
		"max_msgs": -1, "max_bytes": -1, "max_msgs_per_subject": -1, "max_age": 0} {
		open[k] = v
	}
	if _, err := jsRequest(ctx, nc, "STREAM.CREATE."+rs.name, open, nil); err != nil {
		return nil, fmt.Errorf("create stream %s: %w", rs.name, err)
	}
	return rs, nil
}

// placeholderSubject turns a stream subject into a literal one it
// accepts; unique reports whether real messages are unlikely to use it
// (it came from a wildcard).
func placeholderSubject(pattern string) (string, bool) {
	toks := strings.Split(pattern, ".")
	uniq := false
	for i, t := range toks {
		if t == "*" || t == ">" {
			toks[i], uniq = "_natsctl_restore_gap_", true
		}
	}
	return strings.Join(toks, "."), uniq
}

// advanceTo makes seq the next sequence the stream assigns.
func (rs *restorer) advanceTo(seq uint64) error {
	if !rs.started {
		rs.started = true
		if seq > 1 {
			if _, err := jsRequest(rs.ctx, rs.nc, "STREAM.PURGE."+rs.name, map[string]any{"seq": seq}, nil); err != nil {
				return fmt.Errorf("set first sequence of %s to %d: %w", rs.name, seq, err)
			}
			rs.last = seq - 1
		}
	}
	for rs.last+1 < seq {
		if err := rs.publish(&client.Msg{Subject: rs.gapSubj, Header: client.Header{}}, rs.last+1); err != nil {
			return err
		}
		rs.filled++
		if !rs.gapUniq {
			rs.gaps = append(rs.gaps, rs.last)
		}
	}
	return nil
}

// publish sends m, which must be stored as seq; acks are checked as they
// come back (at most 256 outstanding), all of them by flush. (A
// Nats-Expected-Last-Sequence header would make the server check the
// sequence before storing, but it would be stored with the message.)
func (rs *restorer) publish(m *client.Msg, seq uint64) error {
	if rs.pipe.full() {
		if err := rs.checkAck(); err != nil {
			return err
		}
	}
	if err := rs.pipe.send(m); err != nil {
		return fmt.Errorf("publish message %d to %s: %w", seq, rs.name, err)
	}
	rs.expect = append(rs.expect, seq)
	rs.last = seq
	return nil
}

// flush waits for every outstanding ack.
func (rs *restorer) flush() error {
	for rs.pipe.outstanding() > 0 {
		if err := rs.checkAck(); err != nil {
			return err
		}
	}
	return nil
}

func (rs *restorer) checkAck() error {
	seq := rs.expect[0]
	rs.expect = rs.expect[1:]
	reply, err := rs.pipe.recv(rs.ctx)
	if err != nil {
		return fmt.Errorf("publish message %d to %s: %w", seq, rs.name, err)
	}
	var ack struct {
		Error     *streaming.APIError `json:"error"`
		Seq       uint64              `json:"seq"`
		Duplicate bool                `json:"duplicate"`
	}
	if err := json.Unmarshal(reply.Data, &ack); err != nil {
		return fmt.Errorf("publish message %d to %s: bad ack %q", seq, rs.name, reply.Data)
	}
	switch {
	case ack.Error != nil:
		return fmt.Errorf("publish message %d to %s: %w", seq, rs.name, ack.Error)
	case ack.Duplicate:
		return fmt.Errorf("message %d has the Nats-Msg-Id of message %d, within the duplicate window: the server dropped it", seq, ack.Seq)
	case ack.Seq != seq:
		return fmt.Errorf("message %d was stored as %d: is something else publishing to stream %s?", seq, ack.Seq, rs.name)
	}
	return nil
}

func (rs *restorer) put(m *jsbackup.Msg) error {
	if err := rs.advanceTo(m.Seq); err != nil {
		return err
	}
	h, err := parseHeader(m.Header)
	if err != nil {
		return fmt.Errorf("message %d: %w", m.Seq, err)
	}
	if err := rs.publish(&client.Msg{Subject: m.Subject, Header: h, Data: m.Data}, m.Seq); err != nil {
		return err
	}
	rs.msgs++
	return nil
}

// finish fills up to the original last sequence, removes the placeholders
// and applies the original config.
func (rs *restorer) finish() error {
	if rs.state.LastSeq > rs.last {
		if err := rs.advanceTo(rs.state.LastSeq + 1); err != nil {
			return err
		}
	}
	if err := rs.flush(); err != nil {
		return err
	}
	rs.pipe.close()
	if rs.gapUniq && rs.filled > 0 {
		if _, err := jsRequest(rs.ctx, rs.nc, "STREAM.PURGE."+rs.name, map[string]any{"filter": rs.gapSubj}, nil); err != nil {
			return fmt.Errorf("remove placeholders from %s: %w", rs.name, err)
		}
	}
	for _, seq := range rs.gaps {
		if _, err := jsRequest(rs.ctx, rs.nc, "STREAM.MSG.DELETE."+rs.name, map[string]any{"seq": seq, "no_erase": true}, nil); err != nil {
			return fmt.Errorf("remove placeholder %d from %s: %w", seq, rs.name, err)
		}
	}
	if _, err := jsRequest(rs.ctx, rs.nc, "STREAM.UPDATE."+rs.name, rs.config, nil); err != nil {
		return fmt.Errorf("apply the original config to %s: %w", rs.name, err)
	}
	var info struct {
		State backupState `json:"state"`
	}
	if _, err := jsRequest(rs.ctx, rs.nc, "STREAM.INFO."+rs.name, nil, &info); err != nil {
		return err
	}
	if info.State.Messages != rs.msgs || info.State.LastSeq != rs.last {
		return fmt.Errorf("stream %s after restore has %d messages up to %d, want %d up to %d", rs.name, info.State.Messages, info.State.LastSeq, rs.msgs, rs.last)
	}
	return nil
}

// parseHeader decodes a stored header block. Nats-Expected-* headers are
// publish preconditions that held when the message was first stored;
// checked again against the restored stream they could refuse it, so
// they are not carried over.
func parseHeader(b []byte) (client.Header, error) {
	if len(b) == 0 {
		return client.Header{}, nil
	}
	h, err := jsclient.ParseHeader(b)
	if err != nil {
		return nil, err
	}
	for k := range h {
		if strings.HasPrefix(strings.ToLower(k), "nats-expected-") {
			delete(h, k)
		}
	}
	return h, nil
}
