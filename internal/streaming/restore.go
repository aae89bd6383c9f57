package streaming

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/s2"

	"github.com/natsctl/natsctl/internal/jsbackup"
	"github.com/natsctl/natsctl/internal/streaming/store"
)

// Stream restore: $JS.API.STREAM.RESTORE.<stream> with nats-server's
// protocol (jsStreamRestoreRequest, processStreamRestore), so natscli's
// `nats stream restore` works:
//
//  1. The request carries {config, state}; the reply is a
//     stream_restore_response naming a deliver subject
//     ($JS.SNAPSHOT.RESTORE.<stream>.<token>).
//  2. The client sends the snapshot there in chunks, each as a request;
//     each is answered with an empty message once consumed.
//  3. An empty chunk ends it; its reply is a stream_create_response with
//     the restored stream's info (or the error).
//
// The snapshot is nats-server 2.15's archive (what both servers' SNAPSHOT
// send) or a `natsctl stream backup` file; older nats-server snapshots (a
// tar of its file-store blocks) are refused with an error saying what to
// do instead. Messages are written straight into a new store with their
// original sequences and times, in a staging directory named like an
// interrupted delete (so a crash leaves nothing behind), which becomes
// the stream only when everything was read. A memory stream's messages
// go into a memory store, handed to the stream when it opens; what would
// pass max_memory_store (max_file_store) is refused.
//
// Consumers in the snapshot (snapshotconsumer.go) are decoded and checked
// while it is read (a bad one fails the restore, leaving no stream), and
// created with their state when the stream opens, before it is visible:
// durables as durables; ephemerals as ephemerals, whose
// inactive_threshold starts at the end of the restore (nats-server keeps
// them alive while it restores, then starts the same countdown).
// Messages pending on a restored consumer are redelivered on its next
// pull or push, as after a restart.

const (
	typeStreamRestore  = "io.nats.jetstream.api.v1.stream_restore_response"
	restoreIdleTimeout = 30 * time.Second
)

type restoreRequest struct {
	Config json.RawMessage `json:"config"`
	State  StreamState     `json:"state"`
}

type restoreResponse struct {
	apiResponse
	DeliverSubject string `json:"deliver_subject,omitempty"`
}

var errStreamExistsRestore = apiErr(500, 10130, "stream name already in use, cannot restore")

type restoreChunk struct {
	reply string
	data  []byte
}

func (e *Engine) streamRestore(name string, body []byte) reply {
	fail := func(err *APIError) reply {
		return jsonReply(restoreResponse{apiResponse: apiResponse{Type: typeStreamRestore, Error: err}}, true)
	}
	if len(body) == 0 {
		return fail(errBadRequest)
	}
	var req restoreRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return fail(errInvalidJSON(err))
	}
	cfg, aerr := decodeNamedStreamConfig(name, req.Config)
	if aerr != nil {
		return fail(aerr)
	}
	cfg.setDefaults()
	if aerr := cfg.validate(); aerr != nil {
		return fail(aerr)
	}
	if e.lookup(name) != nil {
		return fail(errStreamExistsRestore)
	}
	if aerr := e.checkOverlap(cfg, ""); aerr != nil {
		return fail(aerr)
	}
	// As nats-server does, refuse up front what the state says will not
	// fit; the decoder checks the bytes actually written too.
	if room := e.restoreRoom(cfg.Storage); room >= 0 && (cfg.MaxBytes > e.limitFor(cfg.Storage) || int64(req.State.Bytes) > room) {
		return fail(exceeded(cfg.Storage))
	}
	deliver := "$JS.SNAPSHOT.RESTORE." + name + "." + randomName()
	chunks := make(chan restoreChunk, 16)
	sub, err := e.ic.Subscribe(deliver, "", func(_, reply string, _, data []byte) {
		select {
		case chunks <- restoreChunk{reply: reply, data: clone(data)}:
		default: // a client sending without waiting for replies
			_ = e.ic.Publish(reply, "", nil, mustJSON(apiResponse{Type: typeStreamCreate, Error: errTooManyRequests}))
		}
	})
	if err != nil {
		return fail(errGeneral(err))
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer sub.Unsubscribe()
		e.receiveRestore(cfg, chunks)
	}()
	return jsonReply(restoreResponse{apiResponse: apiResponse{Type: typeStreamRestore}, DeliverSubject: deliver}, false)
}

// receiveRestore feeds the chunks to a decoder writing the staging store,
// then has the API goroutine adopt the result.
func (e *Engine) receiveRestore(cfg *StreamConfig, chunks <-chan restoreChunk) {
	staging := filepath.Join(e.dir, deletedPrefix+"restore-"+cfg.Name+"-"+randomName())
	pr, pw := io.Pipe()
	type outcome struct {
		res *restoreResult
		err error
	}
	decoded := make(chan outcome, 1)
	go func() {
		res, err := e.restoreInto(staging, cfg, pr)
		pr.CloseWithError(err)
		decoded <- outcome{res, err}
	}()
	answer := func(reply string, err error) {
		_ = os.RemoveAll(staging)
		if reply != "" {
			_ = e.ic.Publish(reply, "", nil, mustJSON(apiResponse{Type: typeStreamCreate, Error: apiErr(500, 10062, "restore failed: "+err.Error())}))
		}
	}
	// fail stops the decoder (which reports the first error) and answers.
	fail := func(reply string, err error) {
		pw.CloseWithError(err)
		o := <-decoded
		if o.err != nil {
			err = o.err
		} else {
			o.res.close()
		}
		answer(reply, err)
	}
	idle := time.NewTimer(restoreIdleTimeout)
	defer idle.Stop()
	for {
		select {
		case <-e.quit:
			fail("", errors.New("server shutting down"))
			return
		case <-idle.C:
			fail("", errors.New("restore stalled: no chunk for "+restoreIdleTimeout.String()))
			e.log.Warn("stream restore stalled", "stream", cfg.Name)
			return
		case c := <-chunks:
			idle.Reset(restoreIdleTimeout)
			if len(c.data) > 0 {
				if _, err := pw.Write(c.data); err != nil {
					fail(c.reply, err)
					return
				}
				_ = e.ic.Publish(c.reply, "", nil, nil)
				continue
			}
			pw.Close()
			o := <-decoded
			if o.err != nil {
				answer(c.reply, o.err)
				return
			}
			e.adopt(staging, cfg, o.res, c.reply)
			return
		}
	}
}

// restoreResult is what a restore read, for adopt.
type restoreResult struct {
	mem       store.Store // a memory stream's messages; nil for file streams
	consumers []restoredConsumer
}

// close drops what a restore read that will not become a stream.
func (r *restoreResult) close() {
	if r != nil && r.mem != nil {
		_ = r.mem.Close()
	}
}

// restoreInto writes the snapshot read from r into a new store (a file
// store in dir, or a memory store), keeping sequences and times, and
// decodes its consumers. The snapshot is nats-server 2.15's archive (what
// both servers' SNAPSHOT send) or natsctl's jsbackup file.
func (e *Engine) restoreInto(dir string, cfg *StreamConfig, r io.Reader) (*restoreResult, error) {
	plain := bufio.NewReaderSize(s2.NewReader(r), 64<<10)
	first, err := plain.Peek(1)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	// No limits while loading: the snapshot holds what the limits kept.
	var s store.Store
	if cfg.Storage == MemoryStorage {
		s, err = store.NewMemory(store.Config{Name: cfg.Name})
	} else {
		s, err = store.OpenFile(store.FileConfig{
			Config: store.Config{Name: cfg.Name}, Dir: filepath.Join(dir, msgsDir),
			SyncInterval: e.cfg.SyncInterval, FS: e.cfg.FS, SegmentSize: e.cfg.segmentSize,
		})
	}
	if err != nil {
		return nil, err
	}
	res := &restoreResult{}
	w := &seqWriter{s: s, room: e.restoreRoom(cfg.Storage), storage: cfg.Storage}
	switch magic, _ := plain.Peek(len(jsbackup.ArchiveMagic)); {
	case string(magic) == jsbackup.ArchiveMagic:
		res.consumers, err = restoreArchive(plain, w, cfg)
	case first[0] == '{':
		err = restoreBackup(plain, w)
	default:
		err = errors.New("not a snapshot natsctl can read (nats-server before 2.15 sends its own file-store blocks): " +
			"copy the stream with `natsctl stream backup` and `natsctl stream restore` instead")
	}
	if err == nil {
		err = s.Flush()
	}
	if cfg.Storage == MemoryStorage && err == nil {
		res.mem = s
		return res, nil
	}
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// restoreArchive writes a nats-server archive (jsbackup/natsarc.go) into
// w and returns its consumers, checked against cfg.
func restoreArchive(plain *bufio.Reader, w *seqWriter, cfg *StreamConfig) ([]restoredConsumer, error) {
	sr, err := jsbackup.NewSnapshotReader(plain)
	if err != nil {
		return nil, err
	}
	var state StreamState
	if err := json.Unmarshal(sr.State(), &state); err != nil {
		return nil, fmt.Errorf("snapshot: state.json: %w", err)
	}
	entries, err := sr.Consumers()
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	consumers, err := decodeSnapshotConsumers(entries, cfg)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	for {
		m, err := sr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("snapshot: %w", err)
		}
		if err := w.put(m.Seq, m.Subject, m.Header, m.Data, m.Time.UnixNano()); err != nil {
			return nil, err
		}
	}
	if !w.started && state.FirstSeq > 1 {
		if err := w.advance(state.FirstSeq); err != nil {
			return nil, err
		}
	}
	return consumers, w.advance(state.LastSeq + 1)
}

// restoreBackup writes a jsbackup stream into w.
func restoreBackup(plain *bufio.Reader, w *seqWriter) error {
	br, err := jsbackup.NewPlainReader(plain)
	if err != nil {
		return err
	}
	var state StreamState
	if h := br.Header(); len(h.State) > 0 {
		if err := json.Unmarshal(h.State, &state); err != nil {
			return fmt.Errorf("snapshot state: %w", err)
		}
	}
	for {
		m, err := br.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if err := w.put(m.Seq, m.Subject, m.Header, m.Data, m.Time.UnixNano()); err != nil {
			return err
		}
	}
	return w.advance(state.LastSeq + 1)
}

// restoreRoom is how many bytes of storage t a restore may still use,
// -1 when there is no limit.
func (e *Engine) restoreRoom(t Storage) int64 {
	lim := e.limitFor(t)
	if lim <= 0 {
		return -1
	}
	return max(lim-int64(e.usage(t)), 0)
}

func exceeded(t Storage) *APIError {
	if t == MemoryStorage {
		return errMemoryExceeded
	}
	return errStorageExceeded
}

// seqWriter appends messages at given sequences: a purge moves an empty
// store forward; a gap gets placeholders, removed at once. With room >= 0
// it fails once the messages' bytes pass room (a snapshot larger than
// its state said must not fill the memory).
type seqWriter struct {
	s       store.Store
	last    uint64
	subject string // a subject for placeholders
	started bool
	room    int64
	used    int64
	storage Storage
}

func (w *seqWriter) advance(seq uint64) error {
	if !w.started {
		w.started = true
		if seq > 1 {
			if _, err := w.s.Purge(store.PurgeOpts{Seq: seq}); err != nil {
				return err
			}
		}
		w.last = seq - 1
	}
	for w.last+1 < seq {
		got, err := w.s.Append(w.subject, nil, nil, 0)
		if err != nil {
			return err
		}
		if _, err := w.s.RemoveMsg(got, false); err != nil {
			return err
		}
		w.last = got
	}
	return nil
}

func (w *seqWriter) put(seq uint64, subj string, hdr, data []byte, ts int64) error {
	if w.subject == "" {
		w.subject = subj
	}
	if err := w.advance(seq); err != nil {
		return err
	}
	if w.used += int64(w.s.MsgSize(subj, hdr, data)); w.room >= 0 && w.used > w.room {
		return errors.New(exceeded(w.storage).Description)
	}
	got, err := w.s.Append(subj, hdr, data, ts)
	if err != nil {
		return err
	}
	if got != seq {
		return fmt.Errorf("message %d stored as %d", seq, got)
	}
	w.last = got
	return nil
}

// adopt turns the staging directory (and for a memory stream res.mem)
// into the stream with res's consumers, on the API goroutine (which owns
// stream creation), and answers reply.
func (e *Engine) adopt(staging string, cfg *StreamConfig, res *restoreResult, reply string) {
	run := func() {
		fail := func(err *APIError) {
			res.close()
			_ = os.RemoveAll(staging)
			_ = e.ic.Publish(reply, "", nil, mustJSON(apiResponse{Type: typeStreamCreate, Error: err}))
		}
		if e.lookup(cfg.Name) != nil {
			fail(errStreamExistsRestore)
			return
		}
		if aerr := e.checkOverlap(cfg, ""); aerr != nil {
			fail(aerr)
			return
		}
		if err := writeJSONFile(filepath.Join(staging, metaFile), streamMeta{Config: *cfg, Created: time.Now().UTC()}); err != nil {
			fail(errGeneral(err))
			return
		}
		if err := os.Rename(staging, filepath.Join(e.dir, cfg.Name)); err != nil {
			fail(errGeneral(err))
			return
		}
		_ = syncDir(e.dir)
		st, err := e.openStreamWith(cfg.Name, res.mem)
		if err != nil {
			res.close()
			_ = os.RemoveAll(filepath.Join(e.dir, cfg.Name))
			_ = e.ic.Publish(reply, "", nil, mustJSON(apiResponse{Type: typeStreamCreate, Error: errGeneral(err)}))
			return
		}
		if err := st.addRestoredConsumers(res.consumers); err != nil {
			_ = st.stop()
			_ = os.RemoveAll(filepath.Join(e.dir, cfg.Name))
			_ = e.ic.Publish(reply, "", nil, mustJSON(apiResponse{Type: typeStreamCreate, Error: apiErr(500, 10062, "restore failed: "+err.Error())}))
			return
		}
		e.mu.Lock()
		e.streams[cfg.Name] = st
		e.mu.Unlock()
		e.log.Info("stream restored", "stream", cfg.Name)
		si, _ := st.info(false, "", 0)
		_ = e.ic.Publish(reply, "", nil, mustJSON(streamInfoResponse{apiResponse: apiResponse{Type: typeStreamCreate}, StreamInfo: si}))
	}
	select {
	case e.apiQ <- apiReq{run: run}:
	case <-e.quit:
		res.close()
		_ = os.RemoveAll(staging)
	}
}
