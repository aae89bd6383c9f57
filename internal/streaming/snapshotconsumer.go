package streaming

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/natsctl/natsctl/internal/jsbackup"
)

// Consumers in stream snapshots, in nats-server 2.15's JSON
// (server/stream_backup.go SnapshotConsumerState; server/store.go
// ConsumerState, SequencePair, Pending). One archive entry
// "consumers/<name>" per consumer holds
//
//	{"config": {ConsumerConfig, nats-server's field names},
//	 "state":  {"delivered":   {"consumer_seq": N, "stream_seq": N},
//	            "ack_floor":   {"consumer_seq": N, "stream_seq": N},
//	            "pending":     {"<stream seq>": {"Sequence": <consumer seq>, "Timestamp": <Unix ns>}},
//	            "redelivered": {"<stream seq>": <redeliveries>}}}
//
// nats-server's Pending type has no JSON tags, so its fields go out under
// their Go names ("Sequence", "Timestamp"), and "redelivered" counts
// redeliveries (deliveries - 1), not deliveries. Stream sequences are
// capped at the snapshot's last sequence (a consumer may have moved on
// while the snapshot was taken); consumer sequences are left as they are,
// as nats-server does.

type snapshotConsumer struct {
	Config json.RawMessage        `json:"config"`
	State  *snapshotConsumerState `json:"state"`
}

type snapshotConsumerState struct {
	Delivered   sequencePair                `json:"delivered"`
	AckFloor    sequencePair                `json:"ack_floor"`
	Pending     map[uint64]*snapshotPending `json:"pending,omitempty"`
	Redelivered map[uint64]uint64           `json:"redelivered,omitempty"`
}

type sequencePair struct {
	Consumer uint64 `json:"consumer_seq"`
	Stream   uint64 `json:"stream_seq"`
}

// snapshotPending has nats-server's (untagged) field names on purpose.
type snapshotPending struct {
	Sequence  uint64
	Timestamp int64
}

// snapshotEntry renders c as a consumer entry, stream sequences capped at
// last.
func (c *consumer) snapshotEntry(last uint64) *jsbackup.Entry {
	c.mu.Lock()
	cfg := c.cfg
	s := &snapshotConsumerState{
		Delivered: sequencePair{Consumer: c.dseq, Stream: min(c.sseq-1, last)},
		AckFloor:  sequencePair{Consumer: c.adflr, Stream: min(c.asflr, last)},
	}
	for seq, p := range c.pending {
		if seq > last {
			continue
		}
		if s.Pending == nil {
			s.Pending = make(map[uint64]*snapshotPending)
		}
		s.Pending[seq] = &snapshotPending{Sequence: p.dseq, Timestamp: p.ts}
	}
	for seq, dc := range c.rdc {
		if seq > last || dc < 2 {
			continue
		}
		if s.Redelivered == nil {
			s.Redelivered = make(map[uint64]uint64)
		}
		s.Redelivered[seq] = dc - 1
	}
	c.mu.Unlock()
	return &jsbackup.Entry{
		Name:      "consumers/" + c.name,
		Timestamp: time.Now().UnixNano(),
		Payload:   mustJSON(snapshotConsumer{Config: mustJSON(cfg), State: s}),
	}
}

// restoredConsumer is a consumer read from a snapshot, its config
// validated against the stream's.
type restoredConsumer struct {
	cfg   *ConsumerConfig
	state *snapshotConsumerState
}

// decodeSnapshotConsumers decodes and validates the consumer entries of a
// snapshot for a stream with config sc. Any bad entry fails the restore,
// as in nats-server.
func decodeSnapshotConsumers(entries []jsbackup.ConsumerEntry, sc *StreamConfig) ([]restoredConsumer, error) {
	out := make([]restoredConsumer, 0, len(entries))
	seen := make(map[string]bool, len(entries))
	for _, ent := range entries {
		rc, err := decodeSnapshotConsumer(ent, sc)
		if err != nil {
			return nil, err
		}
		if seen[rc.cfg.Name] {
			return nil, fmt.Errorf("consumer %q appears twice in the snapshot", rc.cfg.Name)
		}
		seen[rc.cfg.Name] = true
		out = append(out, rc)
	}
	return out, nil
}

func decodeSnapshotConsumer(ent jsbackup.ConsumerEntry, sc *StreamConfig) (restoredConsumer, error) {
	var sc0 snapshotConsumer
	if err := json.Unmarshal(ent.JSON, &sc0); err != nil {
		return restoredConsumer{}, fmt.Errorf("failed to decode consumer %q state: %w", ent.Name, err)
	}
	if len(sc0.Config) == 0 || string(sc0.Config) == "null" {
		return restoredConsumer{}, fmt.Errorf("consumer %q is missing config", ent.Name)
	}
	if sc0.State == nil {
		return restoredConsumer{}, fmt.Errorf("consumer %q is missing state", ent.Name)
	}
	cfg, aerr := decodeConsumerConfig(sc0.Config)
	if aerr != nil {
		return restoredConsumer{}, fmt.Errorf("consumer %q: %s", ent.Name, aerr.Description)
	}
	if (cfg.Name != "" && cfg.Name != ent.Name) || (cfg.Durable != "" && cfg.Durable != ent.Name) {
		return restoredConsumer{}, fmt.Errorf("consumer %q: its config names it %q", ent.Name, cfg.Name+cfg.Durable)
	}
	if cfg.Durable == "" {
		cfg.Name = ent.Name
	}
	setConsumerDefaults(cfg, sc)
	if aerr := validateConsumer(cfg, sc); aerr != nil {
		return restoredConsumer{}, fmt.Errorf("consumer %q: %s", ent.Name, aerr.Description)
	}
	return restoredConsumer{cfg: cfg, state: sc0.State}, nil
}

// place sets c's cursor from the snapshot state (c.mu held). Pending
// messages keep their ack deadlines, as after a restart.
func (rc restoredConsumer) place(c *consumer) {
	s := rc.state
	c.dseq = s.Delivered.Consumer
	c.sseq = s.Delivered.Stream + 1
	c.asflr = min(s.AckFloor.Stream, s.Delivered.Stream)
	c.adflr = min(s.AckFloor.Consumer, s.Delivered.Consumer)
	if c.cfg.AckPolicy != AckNone {
		now := time.Now().UnixNano()
		for seq, p := range s.Pending {
			// Only what lies between the ack floor and the cursor can be
			// pending; anything else in a damaged snapshot is dropped.
			if p == nil || seq <= c.asflr || seq >= c.sseq {
				continue
			}
			dc := s.Redelivered[seq] + 1
			c.pending[seq] = &pendingMsg{dseq: p.Sequence, ts: p.Timestamp}
			if dc > 1 {
				c.rdc[seq] = dc
			}
		}
		c.armRecoveredLocked(now)
	}
	if first := c.st.st.State(false).FirstSeq; c.sseq < first {
		c.sseq = first
	}
	c.sseq = max(c.sseq, 1)
	c.recountPendingLocked()
}

// addRestoredConsumers creates the consumers of a restored stream (API
// goroutine, before the stream is visible). Ephemerals are created as
// ephemerals: their inactive_threshold starts counting when the restore
// ends, so one nobody uses again goes away like any idle ephemeral.
func (st *stream) addRestoredConsumers(rcs []restoredConsumer) error {
	max := st.config().MaxConsumers
	for i, rc := range rcs {
		// max_consumers holds as for a create (nats-server restores each
		// consumer as a create, and fails the restore on the one too many).
		if max > 0 && i >= max {
			return fmt.Errorf("consumer %q: %s", rc.cfg.Name, errMaxConsumers.Description)
		}
		if aerr := st.checkWorkQueue(rc.cfg, nil); aerr != nil {
			return fmt.Errorf("consumer %q: %s", rc.cfg.Name, aerr.Description)
		}
		if _, err := st.addConsumerAt(rc.cfg, rc.place); err != nil {
			return fmt.Errorf("consumer %q: %w", rc.cfg.Name, err)
		}
	}
	return nil
}
