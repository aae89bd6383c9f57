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
	o, err := reloadedOptions(so)
	if err == nil {
		err = s.Reload(o)
	}
	if err != nil {
		log.Error("config reload failed; the running configuration is unchanged", "err", err)
		return
	}
	log.Info("config reloaded", "config", so.configFile)
}

// reloadedOptions re-reads the configuration as at start, for SIGHUP and
// for the system account's RELOAD request (server.Options.ConfigReload).
func reloadedOptions(so *serveOptions) (server.Options, error) {
	cfg, err := loadServeConfig(so.flags, so.configFile, so.getenv)
	if err != nil {
		return server.Options{}, err
	}
	return cfg.Options, nil
}
