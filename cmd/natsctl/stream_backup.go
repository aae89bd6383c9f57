package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/jsbackup"
	"github.com/natsctl/natsctl/internal/streaming"
)

// `natsctl stream backup|restore` move a stream between servers (natsctl
// or nats-server, either way) in the portable jsbackup format. Both read
// and write through the ordinary JetStream API, so neither depends on a
// server's storage layout (nats-server's own snapshots are its file-store
// blocks, which no other server can load).

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
	return newStreamSub(d, "restore FILE", "Recreate a stream from a backup, keeping message sequences",
		`  natsctl stream restore orders.backup
  natsctl stream restore orders.backup -s nats://other:4222`, cobra.ExactArgs(1), func(f *streamFlags) {
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
		n := uint64(0)
		for seq := max(st.FirstSeq, 1); seq <= st.LastSeq; {
			var resp struct {
				Message streaming.StoredMsg `json:"message"`
			}
			_, err := jsRequest(ctx, nc, "STREAM.MSG.GET."+o.Name, map[string]any{"seq": seq, "next_by_subj": ">"}, &resp)
			var apiErr *streaming.APIError
			if errors.As(err, &apiErr) && apiErr.ErrCode == 10037 { // no message found: none left
				break
			}
			if err != nil {
				return fmt.Errorf("read message %d of %s: %w", seq, o.Name, err)
			}
			m := resp.Message
			if m.Sequence > st.LastSeq {
				break
			}
			if err := w.Write(&jsbackup.Msg{Seq: m.Sequence, Subject: m.Subject, Header: m.Header, Data: m.Data, Time: m.Time}); err != nil {
				return err
			}
			n++
			seq = m.Sequence + 1
		}
		if err := w.Close(); err != nil {
			return err
		}
		if err := commit(true); err != nil {
			return err
		}
		fmt.Fprintf(o.IO.ErrOut, "backed up %d messages of stream %s (last sequence %d) to %s\n", n, o.Name, st.LastSeq, o.File)
		return nil
	})
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
	var in io.Reader = o.IO.In
	if o.File != "-" {
		f, err := os.Open(o.File)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	r, err := jsbackup.NewReader(in)
	if err != nil {
		return fmt.Errorf("%s: %w", o.File, err)
	}
	return withConn(ctx, o, func(nc *client.Conn) error {
		rs, err := newRestorer(ctx, nc, r.Header())
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
		fmt.Fprintf(o.IO.ErrOut, "restored %d messages into stream %s (last sequence %d)\n", rs.msgs, rs.name, rs.last)
		return nil
	})
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
}

func newRestorer(ctx context.Context, nc *client.Conn, h jsbackup.Header) (*restorer, error) {
	rs := &restorer{ctx: ctx, nc: nc}
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

// publish stores m and checks that it got sequence seq. (A
// Nats-Expected-Last-Sequence header would make the server check it
// before storing, but it would be stored with the message.)
func (rs *restorer) publish(m *client.Msg, seq uint64) error {
	reply, err := rs.nc.RequestMsg(rs.ctx, m)
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
	rs.last = seq
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
	h := client.Header{}
	if len(b) == 0 {
		return h, nil
	}
	line, rest, _ := bytes.Cut(b, []byte("\r\n"))
	if !bytes.HasPrefix(line, []byte("NATS/1.0")) {
		return nil, fmt.Errorf("bad header block %q", b)
	}
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		if len(line) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return nil, fmt.Errorf("bad header line %q", line)
		}
		key := string(bytes.TrimSpace(k))
		if strings.HasPrefix(strings.ToLower(key), "nats-expected-") {
			continue
		}
		h.Add(key, string(bytes.TrimSpace(v)))
	}
	return h, nil
}
