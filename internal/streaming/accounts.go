package streaming

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/natsctl/natsctl/internal/server"
)

// Streams live per account: a stream created in account A is not visible
// in account B, and B may have a stream of the same name. The engine of
// the global account starts one engine per configured account (not the
// system account), each an in-process client of its own account with its
// own store directory StoreDir/accounts/<name>. Accounts that appear later
// (operator mode, reload) get no streams until a restart.

// startAccounts starts the other accounts' engines; the global account's
// engine only.
func (e *Engine) startAccounts(s *server.Server) error {
	if e.cfg.Account != "" {
		return nil
	}
	for _, name := range s.StreamingAccounts() {
		cfg := e.cfg
		cfg.Account = name
		cfg.StoreDir = filepath.Join(e.cfg.StoreDir, "accounts", name)
		c := New(cfg)
		if err := c.Start(s); err != nil {
			for _, done := range e.children {
				_ = done.Shutdown(context.Background())
			}
			e.children = nil
			return fmt.Errorf("streaming: account %s: %w", name, err)
		}
		e.children = append(e.children, c)
	}
	return nil
}
