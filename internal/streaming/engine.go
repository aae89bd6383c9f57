package streaming

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/streaming/store"
)

// Config configures the engine.
type Config struct {
	// StoreDir holds the streams (and its LOCK). Empty means
	// DefaultStoreDir for the server's client port.
	StoreDir string
	// MaxMemory and MaxStore bound the bytes held by memory and file
	// streams; <= 0 means unlimited.
	MaxMemory int64
	MaxStore  int64
	// SyncInterval 0 ("always", the default) fsyncs before each publish ack,
	// one fsync per batch (group commit); > 0 fsyncs in the background every
	// interval like nats-server (a power cut can lose the acks of the last
	// interval; a process crash loses nothing either way).
	SyncInterval time.Duration
	// FS replaces the file system (tests: simulated power loss).
	FS store.FS
	// Logger; nil means the server's.
	Logger *slog.Logger
	// Account the engine serves; "" is the global account. An engine for
	// the global account also starts one engine per configured account
	// (accounts.go), each with its own streams under
	// StoreDir/accounts/<name>.
	Account string

	segmentSize int64 // tests: small segments
}

// Engine is the streaming engine: it attaches to a server as an
// in-process client (server.Engine) and serves the JetStream API and
// publishes to streams. See doc.go.
type Engine struct {
	cfg  Config
	srv  *server.Server
	ic   *server.InternalClient
	log  *slog.Logger
	lock *store.DirLock
	dir  string // StoreDir/streams

	mu      sync.RWMutex
	streams map[string]*stream
	started bool

	apiQ    chan apiReq
	quit    chan struct{}
	wg      sync.WaitGroup
	stopped atomic.Bool

	apiTotal, apiErrors atomic.Uint64

	accs accountEngines // the global engine's: the other accounts' engines (accounts.go)
}

// New returns an engine to put in server.Options.Engine.
func New(cfg Config) *Engine {
	return &Engine{cfg: cfg, streams: make(map[string]*stream), quit: make(chan struct{})}
}

// DefaultStoreDir is where a server on port keeps its streams when no
// directory is configured: one per client port under the user's data
// directory, so two local servers on different ports do not collide.
func DefaultStoreDir(port int) string {
	base := os.Getenv("XDG_DATA_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = os.TempDir()
		}
		base = filepath.Join(home, ".local", "share")
		if runtime.GOOS == "darwin" {
			base = filepath.Join(home, "Library", "Application Support")
		}
	}
	return filepath.Join(base, "natsctl", "jetstream-"+strconv.Itoa(port))
}

// StoreDir is the directory in use (after Start).
func (e *Engine) StoreDir() string { return e.cfg.StoreDir }

const apiQueueLen = 4096

// Start implements server.Engine: lock the store directory, recover the
// streams, subscribe to the API and advertise JetStream.
func (e *Engine) Start(s *server.Server) error {
	e.srv = s
	e.log = e.cfg.Logger
	if e.log == nil {
		e.log = s.Logger()
	}
	if e.cfg.StoreDir == "" {
		e.cfg.StoreDir = DefaultStoreDir(s.Addr().Port)
	}
	abs, err := filepath.Abs(e.cfg.StoreDir)
	if err == nil {
		e.cfg.StoreDir = abs
	}
	lock, err := store.LockDir(e.cfg.StoreDir)
	if err != nil {
		return fmt.Errorf("streaming: %w", err)
	}
	e.lock = lock
	e.dir = filepath.Join(e.cfg.StoreDir, "streams")
	if err := os.MkdirAll(e.dir, 0o750); err != nil {
		lock.Unlock()
		return fmt.Errorf("streaming: create %s: %w", e.dir, err)
	}
	if e.cfg.Account == "" {
		e.ic = s.NewInternalClient("$JS")
	} else if e.ic = s.NewAccountInternalClient("$JS", e.cfg.Account); e.ic == nil {
		lock.Unlock()
		return fmt.Errorf("streaming: account %q does not exist", e.cfg.Account)
	}
	e.apiQ = make(chan apiReq, apiQueueLen)
	sync := "always"
	if e.cfg.SyncInterval > 0 {
		sync = e.cfg.SyncInterval.String()
	}
	e.log.Info("streaming enabled", "store_dir", e.cfg.StoreDir, "sync_interval", sync,
		"max_memory_store", limitText(e.cfg.MaxMemory), "max_file_store", limitText(e.cfg.MaxStore))
	if err := e.recoverStreams(); err != nil {
		e.closeAll()
		return err
	}
	for _, subj := range []string{apiPrefix + "INFO", apiPrefix + "STREAM.>", apiPrefix + "CONSUMER.>"} {
		if _, err := e.ic.SubscribeRequests(subj, "", e.onAPI); err != nil {
			e.closeAll()
			return fmt.Errorf("streaming: subscribe %s: %w", subj, err)
		}
	}
	if err := e.startConsumers(); err != nil {
		e.closeAll()
		return err
	}
	e.wg.Add(1)
	go e.apiLoop()
	e.mu.Lock()
	e.started = true
	e.mu.Unlock()
	if e.cfg.Account == "" {
		// Once: the INFO template is not written while clients connect.
		s.EnableJetStream()
	}
	return e.startAccounts(s)
}

func limitText(n int64) string {
	if n <= 0 {
		return "unlimited"
	}
	return strconv.FormatInt(n, 10)
}

// recoverStreams opens every stream directory under e.dir.
func (e *Engine) recoverStreams() error {
	ents, err := os.ReadDir(e.dir)
	if err != nil {
		return fmt.Errorf("streaming: read %s: %w", e.dir, err)
	}
	for _, ent := range ents {
		name := ent.Name()
		if !ent.IsDir() {
			continue
		}
		if strings.HasPrefix(name, deletedPrefix) {
			// A delete interrupted by a crash: finish it.
			_ = os.RemoveAll(filepath.Join(e.dir, name))
			continue
		}
		st, err := e.openStream(name)
		if err != nil {
			return err
		}
		e.streams[st.name] = st
	}
	return nil
}

// closeAll releases streams and the lock after a failed Start.
func (e *Engine) closeAll() {
	if e.ic != nil {
		e.ic.Close()
	}
	for _, st := range e.streams {
		st.stop()
	}
	e.lock.Unlock()
}

// Shutdown implements server.Engine: stop taking requests, drain the
// publish queues, sync and close every store, release the directory.
func (e *Engine) Shutdown(ctx context.Context) error {
	// First, even when this engine never started: no account engine may
	// start after this (accounts.go).
	accErr := e.stopAccounts(ctx)
	e.mu.Lock()
	started := e.started
	e.started = false
	e.mu.Unlock()
	if !started || !e.stopped.CompareAndSwap(false, true) {
		return accErr
	}
	errs := []error{accErr}
	e.ic.Close()
	close(e.quit)
	e.wg.Wait()
	e.mu.Lock()
	streams := make([]*stream, 0, len(e.streams))
	for _, st := range e.streams {
		streams = append(streams, st)
	}
	e.mu.Unlock()
	for _, st := range streams {
		if err := st.stop(); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, e.lock.Unlock())
	return errors.Join(errs...)
}

// lookup returns the stream named name, or nil.
func (e *Engine) lookup(name string) *stream {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.streams[name]
}

// sortedStreams returns the streams by name.
func (e *Engine) sortedStreams() []*stream {
	e.mu.RLock()
	out := make([]*stream, 0, len(e.streams))
	for _, st := range e.streams {
		out = append(out, st)
	}
	e.mu.RUnlock()
	slices.SortFunc(out, func(a, b *stream) int { return strings.Compare(a.name, b.name) })
	return out
}

// usage sums the bytes held by streams of storage type t.
func (e *Engine) usage(t Storage) uint64 {
	var n uint64
	for _, st := range e.sortedStreams() {
		if st.config().Storage == t {
			n += st.st.State(false).Bytes
		}
	}
	return n
}

// limitFor is the configured maximum for storage type t (<= 0: none).
func (e *Engine) limitFor(t Storage) int64 {
	if t == MemoryStorage {
		return e.cfg.MaxMemory
	}
	return e.cfg.MaxStore
}

// writeJSONFile writes v to path atomically and durably (temp file, fsync,
// rename, fsync of the directory).
func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	if _, err = f.Write(b); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
