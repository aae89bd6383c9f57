package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/jsclient"
	"github.com/natsctl/natsctl/internal/streaming"
)

// JSConfig holds the parameters of the streaming modes ("js ...", "kv
// ..."); the core modes ignore it. Zero values take jsDefaults.
type JSConfig struct {
	Stream     string `json:"stream,omitempty"`      // stream to publish to or read from
	Storage    string `json:"storage,omitempty"`     // "file" or "memory", for a stream or bucket the run creates
	Replace    bool   `json:"replace,omitempty"`     // delete and recreate the stream or bucket first
	PubMode    string `json:"pub_mode,omitempty"`    // js pub: "sync", "async" or "batch"
	MaxPending int    `json:"max_pending,omitempty"` // js pub --mode async: outstanding acks per publisher
	Batch      int    `json:"batch,omitempty"`       // js pub --mode batch, js fetch/consume/ordered: messages per batch or pull
	Consumer   string `json:"consumer,omitempty"`    // durable consumer of js consume and js fetch
	Sequential bool   `json:"sequential,omitempty"`  // js get, kv get: read in order instead of at random
	Bucket     string `json:"bucket,omitempty"`      // kv modes
	Keys       int    `json:"keys,omitempty"`        // kv modes: distinct keys
}

func (c *JSConfig) defaults() {
	if c.Stream == "" {
		c.Stream = "benchstream"
	}
	if c.Storage == "" {
		c.Storage = "file"
	}
	if c.PubMode == "" {
		c.PubMode = "sync"
	}
	if c.MaxPending == 0 {
		c.MaxPending = 256
	}
	if c.Batch == 0 {
		c.Batch = 100
	}
	if c.Consumer == "" {
		c.Consumer = "benchconsumer"
	}
	if c.Bucket == "" {
		c.Bucket = "benchkv"
	}
	if c.Keys == 0 {
		c.Keys = 100
	}
}

// summary is the streaming parameters a report repeats, nil for a core
// mode.
func (c *JSConfig) summary(mode string) *JSConfig {
	if !strings.HasPrefix(mode, "js ") && !strings.HasPrefix(mode, "kv ") {
		return nil
	}
	s := *c
	return &s
}

// describe says what a streaming run worked on, for the report's first
// line.
func (c *JSConfig) describe(mode string) string {
	order := "random"
	if c.Sequential {
		order = "sequential"
	}
	switch mode {
	case "js pub":
		s := fmt.Sprintf("stream %s (%s), %s acks", c.Stream, c.Storage, c.PubMode)
		switch c.PubMode {
		case "async":
			s += fmt.Sprintf(", at most %d pending", c.MaxPending)
		case "batch":
			s += fmt.Sprintf(", batches of %d", c.Batch)
		}
		return s
	case "js get":
		return fmt.Sprintf("stream %s, %s sequences", c.Stream, order)
	case "js consume", "js fetch":
		return fmt.Sprintf("stream %s, consumer %s, pulls of %d", c.Stream, c.Consumer, c.Batch)
	case "js ordered":
		return fmt.Sprintf("stream %s, pulls of %d", c.Stream, c.Batch)
	case "kv put":
		return fmt.Sprintf("bucket %s (%s), %d keys", c.Bucket, c.Storage, c.Keys)
	}
	return fmt.Sprintf("bucket %s, %d keys, %s order", c.Bucket, c.Keys, order)
}

func (c *JSConfig) check() error {
	switch {
	case c.Storage != "file" && c.Storage != "memory":
		return fmt.Errorf("--storage %q: use file or memory", c.Storage)
	case c.PubMode != "sync" && c.PubMode != "async" && c.PubMode != "batch":
		return fmt.Errorf("--mode %q: use sync, async or batch", c.PubMode)
	case c.MaxPending < 1:
		return errors.New("--max-pending must be at least 1")
	case c.Batch < 1:
		return errors.New("--batch must be at least 1")
	case c.Keys < 1:
		return errors.New("--keys must be at least 1")
	}
	return nil
}

func (c *JSConfig) storage() streaming.Storage {
	if c.Storage == "memory" {
		return streaming.MemoryStorage
	}
	return streaming.FileStorage
}

// jsFactory wraps a streaming mode's constructor with the shared defaults
// and checks; pubs and subs are the mode's default client counts.
func jsFactory(pubs, subs int, sc Scenario) Factory {
	return func(c *Config) (Scenario, error) {
		c.JS.defaults()
		if err := c.JS.check(); err != nil {
			return nil, err
		}
		if c.Duration > 0 {
			return nil, fmt.Errorf("%s counts messages: use --msgs instead of --duration", c.Mode)
		}
		if c.Rate > 0 || c.Warmup > 0 {
			return nil, fmt.Errorf("%s has no --rate or --warmup: it runs closed loop", c.Mode)
		}
		if c.Msgs <= 0 {
			return nil, errors.New("--msgs must be at least 1")
		}
		c.Pubs, c.Subs = orDefault(c.Pubs, pubs), orDefault(c.Subs, subs)
		if pubs == 0 {
			c.Pubs = 0
		}
		if subs == 0 {
			c.Subs = 0
		}
		return sc, nil
	}
}

// ensureStream creates the bench stream on subject unless it exists (or
// recreates it with Replace); for an existing stream it notes its storage
// in c.
func ensureStream(ctx context.Context, js *jsclient.JS, c *Config) error {
	name := c.JS.Stream
	si, err := js.StreamInfo(ctx, name)
	switch {
	case err == nil && !c.JS.Replace:
		c.JS.Storage = si.Config.Storage.String() // the report says what was measured
		return nil
	case err == nil:
		if err := js.DeleteStream(ctx, name); err != nil {
			return fmt.Errorf("--replace: delete stream %s: %w", name, err)
		}
	case !jsclient.IsAPIError(err, jsclient.ErrCodeStreamNotFound):
		return fmt.Errorf("stream %s: %w", name, err)
	}
	subj := c.Subject
	if c.MultiSubject {
		subj += ".>"
	}
	cfg := jsclient.StreamConfig{
		Name: name, Subjects: []string{subj}, Storage: c.JS.storage(), Replicas: 1,
		MaxConsumers: -1, MaxMsgs: -1, MaxBytes: -1, MaxMsgsPerSubject: -1, MaxMsgSize: -1,
		AllowDirect: true, Compression: "none", Duplicates: 2 * time.Minute,
	}
	if _, _, err := js.CreateStream(ctx, name, cfg); err != nil {
		return fmt.Errorf("create stream %s on %s: %w", name, subj, err)
	}
	return nil
}

// runClients runs f for each of n clients on its own connection and
// goroutine, and returns their stats; names are role #i.
func runClients(ctx context.Context, e *Env, cs *conns, role string, n int, f func(i int, nc *client.Conn, st *ClientStats, lat *Latency) error) ([]ClientStats, *Latency, error) {
	ncs := make([]*client.Conn, n)
	for i := range ncs {
		nc, err := cs.open(fmt.Sprintf("%s #%d", role, i+1))
		if err != nil {
			return nil, nil, err
		}
		ncs[i] = nc
	}
	stats := make([]ClientStats, n)
	lats := make([]*Latency, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, nc := range ncs {
		stats[i].Name = fmt.Sprintf("%s #%d", role, i+1)
		lats[i] = NewLatency()
		wg.Add(1)
		go func() {
			defer wg.Done()
			stats[i].Start = time.Now()
			errs[i] = f(i, nc, &stats[i], lats[i])
			stats[i].End = time.Now()
			if errs[i] != nil {
				errs[i] = fmt.Errorf("%s: %w", stats[i].Name, errs[i])
			}
		}()
	}
	wg.Wait()
	hist := NewLatency()
	for _, l := range lats {
		hist.Merge(l)
	}
	return stats, hist, errors.Join(errs...)
}

// finish fills res from one group of clients and their latencies (when
// measured).
func finish(res *Result, role string, stats []ClientStats, hist *Latency) *Result {
	res.Groups = append(res.Groups, NewGroup(role, stats))
	if hist != nil && hist.Count() > 0 {
		res.hist = hist
		res.Latency = hist.Summary(latencyBars)
	}
	return res
}
