package monitorapi

import "time"

// JSInfo is the /jsz document without account details: the streaming
// engine's configuration and totals.
type JSInfo struct {
	JetStreamStats
	ID        string          `json:"server_id"`
	Now       time.Time       `json:"now"`
	Disabled  bool            `json:"disabled,omitempty"`
	Config    JetStreamConfig `json:"config"`
	Streams   int             `json:"streams"`
	Consumers int             `json:"consumers"`
	Messages  uint64          `json:"messages"`
	Bytes     uint64          `json:"bytes"`
	Total     int             `json:"total"` // accounts with streaming, before paging
	// AccountDetails is present with ?accounts, ?streams or ?consumers.
	AccountDetails []*JSAccountDetail `json:"account_details,omitempty"`
}

// JSAccountDetail is one account's streaming use and, with ?streams or
// ?consumers, its streams (the engine's stream_detail entries, in
// nats-server's StreamDetail shape).
type JSAccountDetail struct {
	Name string `json:"name"`
	ID   string `json:"id"`
	JetStreamStats
	Streams any `json:"stream_detail,omitempty"`
}

// JetStreamConfig is the streaming engine's configuration.
type JetStreamConfig struct {
	MaxMemory    int64         `json:"max_memory"`
	MaxStore     int64         `json:"max_storage"`
	StoreDir     string        `json:"store_dir,omitempty"`
	SyncInterval time.Duration `json:"sync_interval,omitempty"` // integer nanoseconds
	SyncAlways   bool          `json:"sync_always,omitempty"`
	Domain       string        `json:"domain,omitempty"`
	CompressOK   bool          `json:"compress_ok,omitempty"`
}

// JetStreamStats is the engine's resource use and API counters.
type JetStreamStats struct {
	Memory         uint64            `json:"memory"`
	Store          uint64            `json:"storage"`
	ReservedMemory uint64            `json:"reserved_memory"`
	ReservedStore  uint64            `json:"reserved_storage"`
	Accounts       int               `json:"accounts"`
	HAAssets       int               `json:"ha_assets"`
	API            JetStreamAPIStats `json:"api"`
}

// JetStreamAPIStats counts $JS.API requests.
type JetStreamAPIStats struct {
	Level    int    `json:"level"`
	Total    uint64 `json:"total"`
	Errors   uint64 `json:"errors"`
	Inflight uint64 `json:"inflight,omitempty"`
}
