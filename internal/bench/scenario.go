package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/natsctl/natsctl/internal/client"
)

// Config is one run's parameters, as the flags give them. Zero values take
// the defaults of Defaults and of the mode.
type Config struct {
	Mode     string
	Msgs     int           // messages (or requests) in all, shared by the senders
	Duration time.Duration // run for this long instead of a count
	Size     int           // payload bytes
	Payload  []byte        // fixed payload content (cut or repeated to Size)
	Header   client.Header // sent with every message, counted in byte rates
	Pubs     int           // publishers (requesters in reqrep)
	Subs     int           // subscribers (responders in reqrep)
	Subject  string
	// MultiSubject publishes each message on Subject.<sequence>, and
	// subscribers listen on Subject.>, to exercise subject matching.
	MultiSubject bool
	Queue        string  // queue group of the queue and reqrep modes
	Rate         float64 // target messages per second in all; 0: as fast as possible
	Warmup       time.Duration
	// RecvTimeout is how long receivers wait for a missing message before
	// they give up and count the rest as lost.
	RecvTimeout time.Duration
	// MonitorURL is the server's HTTP monitoring base URL, sampled during
	// the run when reachable.
	MonitorURL string
	// MonitorQuiet suppresses the warning when MonitorURL does not answer
	// (for a guessed URL).
	MonitorQuiet bool
	// JS holds the streaming modes' parameters (js.go).
	JS JSConfig
}

// Defaults fills zero fields.
func (c *Config) Defaults() {
	if c.Msgs == 0 && c.Duration == 0 {
		c.Msgs = 100_000
	}
	if c.Size == 0 {
		c.Size = len(c.Payload) // 0 without one: empty messages
	}
	if c.Subject == "" {
		c.Subject = "bench"
	}
	if c.Queue == "" {
		c.Queue = "bench-group"
	}
	if c.RecvTimeout == 0 {
		c.RecvTimeout = 5 * time.Second
	}
}

// check validates the fields every scenario shares.
func (c *Config) check() error {
	switch {
	case c.Msgs < 0:
		return errors.New("--msgs must not be negative")
	case c.Duration < 0:
		return errors.New("--duration must not be negative")
	case c.Size < 0:
		return errors.New("--size must not be negative")
	case c.Pubs < 0 || c.Subs < 0:
		return errors.New("--pub and --sub must not be negative")
	case c.Pubs > MaxClients || c.Subs > MaxClients:
		return fmt.Errorf("at most %d publishers or subscribers", MaxClients)
	case c.Rate < 0:
		return errors.New("--rate must not be negative")
	case c.Warmup < 0:
		return errors.New("--warmup must not be negative")
	case c.Warmup > 0 && c.Size < stampLen:
		return fmt.Errorf("--warmup needs --size of at least %d bytes to mark warm-up messages", stampLen)
	}
	return nil
}

// Env is what a scenario runs with.
type Env struct {
	Config
	// Connect opens one client connection named name.
	Connect func(ctx context.Context, name string) (*client.Conn, error)
	// Progress, when set, receives the fraction done (0 to 1) a few times a
	// second while the run lasts.
	Progress func(done float64)

	sent atomic.Int64 // progress: messages sent (or received, for sub)
}

// Scenario is one benchmark mode.
type Scenario interface {
	// Run runs the scenario once and returns its result. It stops early,
	// returning what it has, when ctx ends.
	Run(ctx context.Context, env *Env) (*Result, error)
}

// Factory builds a scenario for a configuration, after Defaults; it applies
// the mode's own defaults (such as its number of subscribers) and checks.
type Factory func(cfg *Config) (Scenario, error)

var (
	regMu    sync.Mutex
	registry = map[string]Factory{}
)

// Register makes a mode available to Run. Streaming modes ("js pub", "kv
// get", ...) register here like the core ones. It panics on a duplicate.
func Register(mode string, f Factory) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[mode]; dup {
		panic("bench: mode registered twice: " + mode)
	}
	registry[mode] = f
}

// Modes lists the registered modes, sorted.
func Modes() []string {
	regMu.Lock()
	defer regMu.Unlock()
	var out []string
	for m := range registry {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// Run runs env.Mode once: it builds the scenario, samples the server's
// monitoring endpoint and reports progress while it runs.
func Run(ctx context.Context, env *Env) (*Result, error) {
	env.Defaults()
	if err := env.check(); err != nil {
		return nil, err
	}
	regMu.Lock()
	f := registry[env.Mode]
	regMu.Unlock()
	if f == nil {
		return nil, fmt.Errorf("unknown bench mode %q: use one of %v", env.Mode, Modes())
	}
	sc, err := f(&env.Config)
	if err != nil {
		return nil, err
	}
	var mon *monitor
	if env.MonitorURL != "" {
		mon = startMonitor(ctx, env.MonitorURL)
	}
	stopProgress := env.runProgress()
	started := time.Now()
	res, err := sc.Run(ctx, env)
	stopProgress()
	if res != nil {
		res.Mode = env.Mode
		res.Started = started
		res.Config = summarize(env.Config)
		if mon != nil {
			res.Server = mon.stop()
			if res.Server == nil && !env.MonitorQuiet {
				res.Warnings = append(res.Warnings, "monitoring endpoint "+env.MonitorURL+" did not answer: no server CPU or memory figures")
			}
		}
		slices.Sort(res.Warnings)
	} else if mon != nil {
		mon.stop()
	}
	return res, err
}

// total is the number of messages the senders will send, or 0 for a timed
// run.
func (e *Env) total() int64 {
	if e.Duration > 0 {
		return 0
	}
	return int64(e.Msgs)
}

// runProgress reports progress until the returned function is called.
func (e *Env) runProgress() (stop func()) {
	if e.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	start := time.Now()
	go func() {
		defer wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				e.Progress(1)
				return
			case <-t.C:
				var f float64
				if n := e.total(); n > 0 {
					f = float64(e.sent.Load()) / float64(n)
				} else if e.Duration > 0 {
					f = float64(time.Since(start)) / float64(e.Duration+e.Warmup)
				}
				e.Progress(min(f, 1))
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
