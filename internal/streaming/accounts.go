package streaming

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/natsctl/natsctl/internal/server"
)

// Streams live per account: a stream created in account A is not visible
// in account B, and B may have a stream of the same name. The engine of
// the global account runs one engine per streaming account
// (server.StreamingAccounts: not the global or system account), each an
// in-process client of its own account with its own store directory
// StoreDir/accounts/<name>. It starts those of the accounts known at
// Start, and, as the server's AccountWatcher, starts one for an account
// that appears later (a reload adds it, operator mode resolves it or an
// account JWT update enables JetStream) and stops the one of an account
// that goes (files kept: the account's streams come back with it).

// accountEngines are the global engine's per-account engines.
type accountEngines struct {
	// opMu serialises starting and stopping engines; it is held while one
	// starts or stops, so Shutdown waits for a start under way and then
	// stops that engine too.
	opMu   sync.Mutex
	state  accountsState // opMu held
	byName map[string]*Engine

	// mu guards list, the running engines sorted by account, for readers
	// (/jsz) that must not wait for a start.
	mu   sync.RWMutex
	list []*Engine
}

type accountsState int

const (
	accountsIdle    accountsState = iota // before Start: changes are picked up by Start
	accountsRunning                      // start and stop engines as accounts come and go
	accountsClosed                       // Shutdown began: start nothing more
)

// startAccounts starts the engines of the streaming accounts known now;
// the global account's engine only. An engine that does not start fails
// Start, as a global account's store that cannot be opened does.
func (e *Engine) startAccounts(s *server.Server) error {
	if e.cfg.Account != "" {
		return nil
	}
	// Operator mode loads accounts on first use; look up those with
	// streams on disk now (nats-server does the same), so their streams
	// run before a client of the account comes. Not under opMu: a lookup
	// that loads an account calls AccountChanged.
	if ents, err := os.ReadDir(filepath.Join(e.cfg.StoreDir, "accounts")); err == nil {
		for _, ent := range ents {
			if ent.IsDir() {
				s.Account(ent.Name())
			}
		}
	}
	ae := &e.accs
	ae.opMu.Lock()
	defer ae.opMu.Unlock()
	if ae.state == accountsClosed {
		return nil
	}
	ae.state = accountsRunning
	for _, name := range s.StreamingAccounts() {
		if err := e.startAccountLocked(name); err != nil {
			ae.state = accountsClosed // the server does not start
			e.stopAccountsLocked(context.Background())
			return err
		}
	}
	return nil
}

// AccountChanged implements server.AccountWatcher: it starts or stops
// account name's engine as the server's current StreamingAccounts say,
// whatever change was announced (announcements of concurrent changes may
// arrive out of order, the state they lead to may not). A start recovers
// the account's streams; a failure is logged and the server and the other
// accounts go on. A stop keeps the files: the streams come back if the
// account does.
func (e *Engine) AccountChanged(name string) {
	if e.cfg.Account != "" {
		return
	}
	ae := &e.accs
	ae.opMu.Lock()
	defer ae.opMu.Unlock()
	if ae.state != accountsRunning {
		return
	}
	want := slices.Contains(e.srv.StreamingAccounts(), name)
	switch c := ae.byName[name]; {
	case want && c == nil:
		if err := e.startAccountLocked(name); err != nil {
			e.log.Error("streaming: account engine did not start; its clients get no JetStream API", "account", name, "err", err)
			return
		}
		e.log.Info("streaming started for a new account", "account", name)
	case !want && c != nil:
		ae.drop(name)
		if err := c.Shutdown(context.Background()); err != nil {
			e.log.Error("streaming: account engine shutdown", "account", name, "err", err)
		}
		e.log.Info("streaming stopped for a removed account; its streams stay on disk", "account", name)
	}
}

// startAccountLocked starts account name's engine. opMu held.
func (e *Engine) startAccountLocked(name string) error {
	cfg := e.cfg
	cfg.Account = name
	cfg.StoreDir = filepath.Join(e.cfg.StoreDir, "accounts", name)
	cfg.Logger = e.log.With("account", name)
	c := New(cfg)
	if err := c.Start(e.srv); err != nil {
		return fmt.Errorf("streaming: account %s: %w", name, err)
	}
	ae := &e.accs
	if ae.byName == nil {
		ae.byName = make(map[string]*Engine)
	}
	ae.byName[name] = c
	ae.mu.Lock()
	i, _ := slices.BinarySearchFunc(ae.list, name, func(x *Engine, n string) int { return strings.Compare(x.cfg.Account, n) })
	ae.list = slices.Insert(ae.list, i, c)
	ae.mu.Unlock()
	return nil
}

// drop forgets account name's engine. opMu held.
func (ae *accountEngines) drop(name string) {
	delete(ae.byName, name)
	ae.mu.Lock()
	ae.list = slices.DeleteFunc(ae.list, func(x *Engine) bool { return x.cfg.Account == name })
	ae.mu.Unlock()
}

// stopAccounts stops every account engine for good (Engine.Shutdown).
func (e *Engine) stopAccounts(ctx context.Context) error {
	ae := &e.accs
	ae.opMu.Lock()
	defer ae.opMu.Unlock()
	ae.state = accountsClosed
	return e.stopAccountsLocked(ctx)
}

// stopAccountsLocked stops every account engine. opMu held.
func (e *Engine) stopAccountsLocked(ctx context.Context) error {
	ae := &e.accs
	var errs []error
	for _, c := range e.accountEngines() {
		ae.drop(c.cfg.Account)
		if err := c.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// accountEngines returns the running account engines sorted by account.
func (e *Engine) accountEngines() []*Engine {
	e.accs.mu.RLock()
	defer e.accs.mu.RUnlock()
	return slices.Clone(e.accs.list)
}
