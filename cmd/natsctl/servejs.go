package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/natsctl/natsctl/internal/streaming"
)

// jetStreamBlockKeys are the keys nats-server accepts inside its
// `jetstream { ... }` config block, mapped to our top-level keys.
var jetStreamBlockKeys = map[string]string{
	"store_dir": "store_dir", "storedir": "store_dir",
	"max_memory_store": "max_memory_store", "max_mem_store": "max_memory_store", "max_mem": "max_memory_store",
	"max_file_store": "max_file_store", "max_file": "max_file_store",
	"sync_interval": "sync_interval",
}

// flattenJetStreamBlock accepts nats-server's forms of the jetstream
// option: `jetstream: true|false|enabled|disabled` and a block
// `jetstream { store_dir: ..., max_file_store: ..., sync_interval: ... }`
// (which also enables it unless it holds `enabled: false`). Its keys
// become top-level options; one we do not know is an error.
func flattenJetStreamBlock(m map[string]any, file string) (map[string]any, error) {
	var key string
	var v any
	for k, val := range m {
		if strings.EqualFold(k, "jetstream") {
			key, v = k, val
		}
	}
	if key == "" {
		return m, nil
	}
	switch val := v.(type) {
	case string:
		switch strings.ToLower(val) {
		case "enabled", "enable", "true", "on":
			m[key] = true
		case "disabled", "disable", "false", "off":
			m[key] = false
		}
		return m, nil
	case map[string]any:
		enabled := true
		for k, bv := range val {
			lk := strings.ToLower(k)
			if lk == "enabled" || lk == "enable" {
				b, ok := bv.(bool)
				if !ok {
					return nil, fmt.Errorf("config %s: jetstream.%s: want true or false", file, k)
				}
				enabled = b
				continue
			}
			top, ok := jetStreamBlockKeys[lk]
			if !ok {
				return nil, fmt.Errorf("config %s: jetstream option %q is not supported by natsctl serve (yet); remove it or see docs/configuration.md", file, k)
			}
			m[top] = bv
		}
		m[key] = enabled
	}
	return m, nil
}

// parseSyncInterval reads sync_interval: "always" (0) or a duration.
func parseSyncInterval(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "always") {
		return 0, nil
	}
	d, err := toDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("sync_interval %q: want \"always\" or a positive duration such as 2m", s)
	}
	return time.Duration(d), nil
}

// newStreamingEngine builds the engine from the serve config, or nil when
// streaming is off.
func newStreamingEngine(cfg *serveConfig) (*streaming.Engine, error) {
	if !cfg.JetStream {
		return nil, nil
	}
	si, err := parseSyncInterval(cfg.SyncInterval)
	if err != nil {
		return nil, err
	}
	return streaming.New(streaming.Config{
		StoreDir: cfg.StoreDir, MaxMemory: cfg.MaxMemStore, MaxStore: cfg.MaxFileStore,
		SyncInterval: si, Logger: cfg.Logger,
	}), nil
}
