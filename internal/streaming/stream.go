package streaming

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/streaming/store"
)

// stream is one stream: its config, its store, the subscriptions on its
// subjects and the goroutine that stores what they receive (publish.go).
//
// The ingest goroutine (run) owns dedup and lastMsgID; the API goroutine
// reads them only through that goroutine's results. cfg is replaced whole
// on update (readers take the pointer once per batch or request).
type stream struct {
	e       *Engine
	name    string
	dir     string
	created time.Time
	cfg     atomic.Pointer[StreamConfig]
	st      store.Store

	subMu      sync.Mutex // subs, directSubs
	subs       []*server.InternalSub
	directSubs []*server.InternalSub

	in       chan *inMsg
	inBytes  atomic.Int64
	dropped  atomic.Uint64
	quit     chan struct{}
	done     chan struct{}
	stopOnce sync.Once

	// Owned by the ingest goroutine.
	dedup      dedupIndex
	lastMsgID  string
	ackPre     []byte // `{"stream":"NAME","seq":`
	acks       []pendingAck
	ackBuf     []byte
	scratchMsg store.Msg

	consumerSet // consumers (consumerhooks.go)
}

// streamMeta is meta.json in a stream's directory.
type streamMeta struct {
	Config  StreamConfig `json:"config"`
	Created time.Time    `json:"created"`
}

const (
	metaFile      = "meta.json"
	msgsDir       = "msgs"
	deletedPrefix = ".deleted-"
	apiPrefix     = "$JS.API."
	directPrefix  = "$JS.API.DIRECT.GET."
)

func (st *stream) config() *StreamConfig { return st.cfg.Load() }

// openStream recovers the stream stored in e.dir/name.
func (e *Engine) openStream(name string) (*stream, error) { return e.openStreamWith(name, nil) }

// openStreamWith is openStream; a memory stream gets the messages of mem
// (a restore) rather than an empty store.
func (e *Engine) openStreamWith(name string, mem store.Store) (*stream, error) {
	dir := filepath.Join(e.dir, name)
	b, err := os.ReadFile(filepath.Join(dir, metaFile))
	if err != nil {
		return nil, fmt.Errorf("streaming: stream %q: read %s: %w (move the directory away to start without it)", name, metaFile, err)
	}
	var meta streamMeta
	if err := json.Unmarshal(b, &meta); err != nil {
		return nil, fmt.Errorf("streaming: stream %q: %s: %w", name, metaFile, err)
	}
	meta.Config.Name = name
	st, err := e.newStream(dir, &meta.Config, meta.Created, mem)
	if err != nil {
		return nil, err
	}
	for _, r := range st.st.Reports() {
		e.log.Warn("stream damage found on recovery", "stream", name, "report", r.String())
	}
	if err := st.recoverConsumers(); err != nil {
		st.stop()
		return nil, err
	}
	state := st.st.State(false)
	e.log.Info("stream recovered", "stream", name, "storage", meta.Config.Storage.String(),
		"messages", state.Msgs, "bytes", state.Bytes, "first_seq", state.FirstSeq, "last_seq", state.LastSeq)
	return st, nil
}

// createStream makes a new stream from a validated config.
func (e *Engine) createStream(cfg *StreamConfig) (*stream, error) {
	dir := filepath.Join(e.dir, cfg.Name)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	created := time.Now().UTC()
	if err := writeJSONFile(filepath.Join(dir, metaFile), streamMeta{Config: *cfg, Created: created}); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	st, err := e.newStream(dir, cfg, created, nil)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return st, nil
}

// newStream opens the store (or, for a memory stream, takes mem when
// given) and starts the stream's goroutine and subscriptions.
func (e *Engine) newStream(dir string, cfg *StreamConfig, created time.Time, mem store.Store) (*stream, error) {
	st := &stream{
		e: e, name: cfg.Name, dir: dir, created: created,
		in:   make(chan *inMsg, ingestQueueLen),
		quit: make(chan struct{}), done: make(chan struct{}),
	}
	st.consumers = make(map[string]*consumer)
	st.cfg.Store(cfg)
	st.ackPre = append(append([]byte(`{"stream":`), mustJSON(cfg.Name)...), `,"seq":`...)
	scfg := store.Config{Name: cfg.Name, Limits: storeLimits(cfg)}
	var err error
	switch {
	case cfg.Storage == MemoryStorage && mem != nil:
		st.st, err = mem, mem.SetLimits(scfg.Limits)
	case cfg.Storage == MemoryStorage:
		st.st, err = store.NewMemory(scfg)
	default:
		st.st, err = store.OpenFile(store.FileConfig{
			Config: scfg, Dir: filepath.Join(dir, msgsDir),
			SyncInterval: e.cfg.SyncInterval, FS: e.cfg.FS, SegmentSize: e.cfg.segmentSize,
		})
	}
	if err != nil {
		return nil, fmt.Errorf("streaming: open stream %q: %w", cfg.Name, err)
	}
	go st.run()
	if err := st.subscribe(cfg); err != nil {
		st.stop()
		return nil, err
	}
	return st, nil
}

// storeLimits maps a config to the store's limits (-1 and 0: unlimited).
// max_msg_size is checked by the engine on header+data, as nats-server
// counts it, so the store is not given it.
func storeLimits(c *StreamConfig) store.Limits {
	l := store.Limits{
		MaxMsgs: c.MaxMsgs, MaxBytes: c.MaxBytes, MaxAge: c.MaxAge,
		MaxMsgsPerSubject: c.MaxMsgsPerSubject, DiscardNewPerSubject: c.DiscardNewPerSubject,
	}
	if c.Discard == DiscardNew {
		l.Discard = store.DiscardNew
	}
	return l
}

// subscribe (re)creates the subscriptions on the stream's subjects and,
// with allow_direct, on its DIRECT.GET subjects (queue group _sys_, as
// nats-server does).
func (st *stream) subscribe(cfg *StreamConfig) error {
	st.subMu.Lock()
	defer st.subMu.Unlock()
	for _, s := range st.subs {
		s.Unsubscribe()
	}
	for _, s := range st.directSubs {
		s.Unsubscribe()
	}
	st.subs, st.directSubs = st.subs[:0], st.directSubs[:0]
	for _, subj := range cfg.Subjects {
		s, err := st.e.ic.SubscribeTraced(subj, "", st.onTracedMsg)
		if err != nil {
			return fmt.Errorf("subscribe %s: %w", subj, err)
		}
		st.subs = append(st.subs, s)
	}
	if cfg.AllowDirect {
		for _, subj := range []string{directPrefix + st.name, directPrefix + st.name + ".>"} {
			s, err := st.e.ic.Subscribe(subj, "_sys_", st.onDirect)
			if err != nil {
				return fmt.Errorf("subscribe %s: %w", subj, err)
			}
			st.directSubs = append(st.directSubs, s)
		}
	}
	return nil
}

func (st *stream) unsubscribe() {
	st.subMu.Lock()
	defer st.subMu.Unlock()
	for _, s := range st.subs {
		s.Unsubscribe()
	}
	for _, s := range st.directSubs {
		s.Unsubscribe()
	}
	st.subs, st.directSubs = nil, nil
}

// stop unsubscribes, stores what is queued, and closes the store.
func (st *stream) stop() error {
	var err error
	st.stopOnce.Do(func() {
		st.unsubscribe()
		close(st.quit)
		<-st.done
		st.stopConsumers(false)
		err = st.st.Close()
	})
	return err
}

// update applies a validated new config.
func (st *stream) update(cfg *StreamConfig) error {
	old := st.config()
	if err := st.st.SetLimits(storeLimits(cfg)); err != nil {
		return err
	}
	if err := writeJSONFile(filepath.Join(st.dir, metaFile), streamMeta{Config: *cfg, Created: st.created}); err != nil {
		return err
	}
	st.cfg.Store(cfg)
	if !slices.Equal(old.Subjects, cfg.Subjects) || old.AllowDirect != cfg.AllowDirect {
		return st.subscribe(cfg)
	}
	return nil
}

// remove deletes the stream's files after stop.
func (st *stream) remove() error {
	gone := filepath.Join(filepath.Dir(st.dir), deletedPrefix+st.name+"-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	if err := os.Rename(st.dir, gone); err != nil {
		return err
	}
	_ = syncDir(filepath.Dir(st.dir))
	return os.RemoveAll(gone)
}

// info builds StreamInfo. With subjectsFilter the per-subject counts are
// included, one page from offset (sorted by subject); total counts them all.
func (st *stream) info(deleted bool, subjectsFilter string, offset int) (*StreamInfo, apiPaged) {
	cfg := st.config()
	s := st.st.State(deleted)
	if s.LastSeq == 0 {
		// The store says LastSeq+1; a stream that never held a message
		// reports 0, as nats-server does (natscli shows it).
		s.FirstSeq = 0
	}
	si := &StreamInfo{
		Config:  *cfg,
		Created: st.created,
		State: StreamState{
			Msgs: s.Msgs, Bytes: s.Bytes, FirstSeq: s.FirstSeq, FirstTime: s.FirstTime,
			LastSeq: s.LastSeq, LastTime: s.LastTime, NumSubjects: s.NumSubjects,
			NumDeleted: s.NumDeleted, Deleted: s.Deleted,
			Consumers: st.numConsumers(),
		},
		Cluster: &ClusterInfo{Leader: st.e.srv.Name()},
		TS:      time.Now().UTC(),
	}
	var pg apiPaged
	if subjectsFilter != "" {
		all := st.st.SubjectsState(subjectsFilter)
		keys := make([]string, 0, len(all))
		for k := range all {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		pg = apiPaged{Total: len(keys), Offset: offset, Limit: subjectsPageLimit}
		if offset < len(keys) {
			keys = keys[offset:min(len(keys), offset+subjectsPageLimit)]
			si.State.Subjects = make(map[string]uint64, len(keys))
			for _, k := range keys {
				si.State.Subjects[k] = all[k]
			}
		}
	}
	return si, pg
}

// lastSeqFor is the sequence of the newest message on subject, 0 if none.
func (st *stream) lastSeqFor(subject string) (uint64, error) {
	sm, err := st.st.LoadLastMsg(subject, &st.scratchMsg)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return sm.Seq, nil
}
