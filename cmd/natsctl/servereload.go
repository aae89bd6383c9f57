package main

import (
	"log/slog"

	"github.com/natsctl/natsctl/internal/server"
)

// reloadServe re-reads the configuration (flags, environment and config
// file, as at start) and applies what can change while running: users,
// permissions and accounts (server.Reload). A configuration that does not
// load or validate is logged and changes nothing.
func reloadServe(s *server.Server, so *serveOptions, log *slog.Logger) {
	cfg, err := loadServeConfig(so.flags, so.configFile, so.getenv)
	if err == nil {
		err = s.Reload(cfg.Options)
	}
	if err != nil {
		log.Error("config reload failed; the running configuration is unchanged", "err", err)
		return
	}
	log.Info("config reloaded", "config", so.configFile)
}
