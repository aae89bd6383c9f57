package streaming

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// StreamConfig is a stream's configuration with nats-server's JSON names.
// Only what the engine implements is here; decodeStreamConfig refuses the
// other fields when they are set, so a client never sees a field it sent
// silently dropped.
type StreamConfig struct {
	Name                 string            `json:"name"`
	Description          string            `json:"description,omitempty"`
	Subjects             []string          `json:"subjects,omitempty"`
	Retention            Retention         `json:"retention"`
	MaxConsumers         int               `json:"max_consumers"`
	MaxMsgs              int64             `json:"max_msgs"`
	MaxBytes             int64             `json:"max_bytes"`
	MaxAge               time.Duration     `json:"max_age"`
	MaxMsgsPerSubject    int64             `json:"max_msgs_per_subject"`
	MaxMsgSize           int32             `json:"max_msg_size"`
	Discard              Discard           `json:"discard"`
	Storage              Storage           `json:"storage"`
	Replicas             int               `json:"num_replicas"`
	NoAck                bool              `json:"no_ack,omitempty"`
	Duplicates           time.Duration     `json:"duplicate_window,omitempty"`
	Sealed               bool              `json:"sealed"`
	DenyDelete           bool              `json:"deny_delete"`
	DenyPurge            bool              `json:"deny_purge"`
	AllowRollup          bool              `json:"allow_rollup_hdrs"`
	Compression          string            `json:"compression"`
	AllowDirect          bool              `json:"allow_direct"`
	MirrorDirect         bool              `json:"mirror_direct"`
	DiscardNewPerSubject bool              `json:"discard_new_per_subject,omitempty"`
	ConsumerLimits       ConsumerLimits    `json:"consumer_limits"`
	Metadata             map[string]string `json:"metadata,omitempty"`
}

// ConsumerLimits are defaults for the stream's consumers (kept for them).
type ConsumerLimits struct {
	InactiveThreshold time.Duration `json:"inactive_threshold,omitempty"`
	MaxAckPending     int           `json:"max_ack_pending,omitempty"`
}

// defaultDuplicateWindow is nats-server's.
const defaultDuplicateWindow = 2 * time.Minute

// implementedFields are the config keys StreamConfig carries.
var implementedFields = map[string]bool{
	"name": true, "description": true, "subjects": true, "retention": true,
	"max_consumers": true, "max_msgs": true, "max_bytes": true, "max_age": true,
	"max_msgs_per_subject": true, "max_msg_size": true, "discard": true,
	"storage": true, "num_replicas": true, "no_ack": true, "duplicate_window": true,
	"sealed": true, "deny_delete": true, "deny_purge": true, "allow_rollup_hdrs": true,
	"compression": true, "allow_direct": true, "mirror_direct": true,
	"discard_new_per_subject": true, "consumer_limits": true, "metadata": true,
}

// decodeStreamConfig decodes a STREAM.CREATE/UPDATE body. Any field we do
// not implement (sources, mirror, subject_transform, republish, placement,
// first_seq, allow_msg_ttl, ...) is refused with its name when it holds a
// value other than its zero value; clients send some of them zero-valued
// in every request. compression "s2" and mirror_direct true are refused the
// same way.
// decodeNamedStreamConfig decodes a config sent to an API subject naming the
// stream: an absent name takes the subject's, a different one is refused.
func decodeNamedStreamConfig(name string, body []byte) (*StreamConfig, *APIError) {
	cfg, aerr := decodeStreamConfig(body)
	if aerr != nil {
		return nil, aerr
	}
	if cfg.Name == "" {
		cfg.Name = name
	}
	if cfg.Name != name {
		return nil, errStreamMismatch
	}
	return cfg, nil
}

func decodeStreamConfig(body []byte) (*StreamConfig, *APIError) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, errInvalidJSON(err)
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !implementedFields[k] && !zeroJSON(raw[k]) {
			return nil, errInvalidConfig("stream configuration field %q is not supported by natsctl yet; remove it", k)
		}
	}
	var cfg StreamConfig
	if err := json.Unmarshal(body, &cfg); err != nil {
		return nil, errInvalidJSON(err)
	}
	switch cfg.Compression {
	case "", "none":
		cfg.Compression = "none"
	default:
		return nil, errInvalidConfig("stream configuration field %q: compression %q is not supported by natsctl yet; use \"none\"", "compression", cfg.Compression)
	}
	if cfg.MirrorDirect {
		return nil, errInvalidConfig("stream configuration field %q is not supported by natsctl yet (mirrors are not implemented)", "mirror_direct")
	}
	return &cfg, nil
}

// zeroJSON reports whether v is null, false, 0, "", {} or [] (what a
// client's omitempty-less field carries when unset).
func zeroJSON(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	switch string(v) {
	case "null", "false", "0", `""`, "{}", "[]", `"none"`, `"default"`,
		`"0001-01-01T00:00:00Z"`: // Go's zero time.Time, which omitempty keeps

		return true
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(v, &m) == nil {
		for _, e := range m {
			if !zeroJSON(e) {
				return false
			}
		}
		return true
	}
	return false
}

// setDefaults fills what nats-server fills on create, so the config sent
// back is the one in force.
func (c *StreamConfig) setDefaults() {
	if len(c.Subjects) == 0 {
		c.Subjects = []string{c.Name}
	}
	if c.MaxMsgs == 0 {
		c.MaxMsgs = -1
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = -1
	}
	if c.MaxMsgsPerSubject == 0 {
		c.MaxMsgsPerSubject = -1
	}
	if c.MaxMsgSize == 0 {
		c.MaxMsgSize = -1
	}
	if c.MaxConsumers == 0 {
		c.MaxConsumers = -1
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.Duplicates == 0 && !c.NoAck {
		c.Duplicates = defaultDuplicateWindow
		if c.MaxAge > 0 && c.MaxAge < c.Duplicates {
			c.Duplicates = c.MaxAge
		}
	}
	if c.Compression == "" {
		c.Compression = "none"
	}
}

// validate checks a config with defaults applied.
func (c *StreamConfig) validate() *APIError {
	if err := validateStreamName(c.Name); err != nil {
		return err
	}
	switch {
	case c.Replicas < 0:
		return apiErr(400, 10133, "replicas count cannot be negative")
	case c.Replicas > 1:
		return errReplicasNotSupp
	case c.MaxAge < 0:
		return errInvalidConfig("max age needs to be >= 0")
	case c.Duplicates < 0:
		return errInvalidConfig("duplicates window can not be negative")
	case c.MaxAge > 0 && c.Duplicates > c.MaxAge:
		return errInvalidConfig("duplicates window can not be larger then max age")
	case c.MaxMsgs < -1 || c.MaxBytes < -1 || c.MaxMsgsPerSubject < -1 || c.MaxMsgSize < -1 || c.MaxConsumers < -1:
		return errInvalidConfig("stream limits can not be below -1")
	case c.DiscardNewPerSubject && (c.Discard != DiscardNew || c.MaxMsgsPerSubject <= 0):
		return errInvalidConfig("discard new per subject requires discard new policy and max msgs per subject to be set")
	case c.Retention == WorkQueue && c.AllowRollup:
		// nats-server refuses rollups on work queues too.
		return errInvalidConfig("roll-ups are not allowed on work queue streams")
	}
	if len(c.Description) > 4096 {
		return errInvalidConfig("stream description is too long, maximum allowed is 4096")
	}
	seen := map[string]bool{}
	for _, s := range c.Subjects {
		if !validSubject(s) {
			return errInvalidConfig("invalid subject %q", s)
		}
		if seen[s] {
			return errInvalidConfig("duplicate subjects detected")
		}
		seen[s] = true
		if subjectsOverlap(s, "$JS.API.>") || subjectsOverlap(s, "$JSC.>") || subjectsOverlap(s, "$NRG.>") {
			return errInvalidConfig("subjects that overlap with jetstream api require special permissions")
		}
		if s == ">" {
			// ">" would capture every inbox, ack and request in the system.
			return errInvalidConfig("subject %q would capture all traffic; use more specific subjects", s)
		}
	}
	for i, a := range c.Subjects {
		for _, b := range c.Subjects[i+1:] {
			if subjectsOverlap(a, b) {
				return errInvalidConfig("subjects %q and %q overlap", a, b)
			}
		}
	}
	return nil
}

// checkUpdate refuses changes nats-server refuses on STREAM.UPDATE.
func checkUpdate(old, upd *StreamConfig) *APIError {
	switch {
	case old.Name != upd.Name:
		return errStreamMismatch
	case old.Storage != upd.Storage:
		return errUpdate("stream configuration update can not change storage type")
	case old.Retention != upd.Retention:
		return errUpdate("stream configuration update can not change retention policy")
	case old.MaxConsumers != upd.MaxConsumers && upd.MaxConsumers != -1 && old.MaxConsumers != -1 && upd.MaxConsumers < old.MaxConsumers:
		return errUpdate("stream configuration update can not lower max consumers")
	case old.Sealed && !upd.Sealed:
		return errUpdate("stream configuration update can not unseal a sealed stream")
	case old.DenyDelete && !upd.DenyDelete:
		return errUpdate("stream configuration update can not cancel deny message deletes")
	case old.DenyPurge && !upd.DenyPurge:
		return errUpdate("stream configuration update can not cancel deny purge")
	}
	return nil
}

// validateStreamName applies nats-server's rules: not empty, no
// whitespace, '.', '*', '>', and no path separators (the name is a
// directory name).
func validateStreamName(name string) *APIError {
	if name == "" {
		return errInvalidConfig("stream name is required")
	}
	if strings.ContainsAny(name, `/\`) {
		return errNameWithSeparator
	}
	if strings.ContainsAny(name, ".*> \t\r\n\f") || name == "." || name == ".." {
		return errInvalidConfig("stream name can not contain whitespace, '.', '*', '>'")
	}
	if len(name) > 255 {
		return errInvalidConfig("stream name is too long, maximum allowed is 255")
	}
	return nil
}

// Retention is the retention policy: limits, interest or workqueue.
type Retention int

const (
	LimitsPolicy Retention = iota
	InterestPolicy
	WorkQueue
)

var retentionNames = []string{"limits", "interest", "workqueue"}

func (r Retention) String() string { return enumName(retentionNames, int(r)) }

func (r Retention) MarshalJSON() ([]byte, error) { return json.Marshal(r.String()) }

func (r *Retention) UnmarshalJSON(b []byte) error {
	return enumParse(b, "retention", retentionNames, (*int)(r))
}

// Discard is the discard policy: old or new.
type Discard int

const (
	DiscardOld Discard = iota
	DiscardNew
)

var discardNames = []string{"old", "new"}

func (d Discard) String() string               { return enumName(discardNames, int(d)) }
func (d Discard) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }
func (d *Discard) UnmarshalJSON(b []byte) error {
	return enumParse(b, "discard", discardNames, (*int)(d))
}

// Storage is file or memory.
type Storage int

const (
	FileStorage Storage = iota
	MemoryStorage
)

var storageNames = []string{"file", "memory"}

func (s Storage) String() string               { return enumName(storageNames, int(s)) }
func (s Storage) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }
func (s *Storage) UnmarshalJSON(b []byte) error {
	return enumParse(b, "storage", storageNames, (*int)(s))
}

func enumName(names []string, i int) string {
	if i >= 0 && i < len(names) {
		return names[i]
	}
	return fmt.Sprintf("unknown(%d)", i)
}

func enumParse(b []byte, what string, names []string, out *int) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("%s: want a string", what)
	}
	s = strings.ToLower(s)
	// nats-server also accepts these spellings.
	switch s {
	case "work_queue", "work-queue", "wq":
		s = "workqueue"
	case "mem":
		s = "memory"
	}
	if i := slices.Index(names, s); i >= 0 {
		*out = i
		return nil
	}
	return fmt.Errorf("can not unmarshal %q as %s (want one of %s)", s, what, strings.Join(names, ", "))
}
