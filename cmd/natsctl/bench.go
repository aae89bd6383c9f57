package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/natsctl/natsctl/internal/bench"
	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/iostreams"
)

type benchOptions struct {
	IO      *iostreams.IOStreams
	Connect func(ctx context.Context, name string) (*client.Conn, error)
	// MonitorGuess is the monitoring URL tried when --monitor is not given.
	MonitorGuess func() string

	Config      bench.Config
	Clients     int
	Size        string
	PayloadFile string
	Headers     []string
	NoProgress  bool
	JSON        bool
	CSVFile     string
	HistFile    string
	CPUProfile  string // hidden: profile this process (is the client the bottleneck?)
}

// benchModeHelp is each core mode's one-line description and its meaning of
// --clients.
var benchModeHelp = map[string]struct{ short, clients, example string }{
	"pub": {"Publishers only", "publishers",
		"  natsctl bench pub --msgs 1000000 --size 16\n  natsctl bench pub --clients 4 --duration 10s --csv pub.csv"},
	"sub": {"Subscribers only, beside a `bench pub` in another shell", "subscribers",
		"  natsctl bench sub --msgs 1000000 &  natsctl bench pub --msgs 1000000\n  natsctl bench sub --duration 30s --recv-timeout 2s"},
	"pubsub": {"Publishers and subscribers, timed from first publish to last receipt", "publishers and subscribers",
		"  natsctl bench pubsub --size 1KiB --msgs 500000\n  natsctl bench pubsub --rate 50000 --duration 20s --histogram lat.hgrm"},
	"fanout": {"One publisher, N subscribers each receiving everything", "subscribers",
		"  natsctl bench fanout --sub 5 --size 16\n  natsctl bench fanout --clients 10 --rate 10000 --duration 10s"},
	"queue": {"N subscribers sharing the messages in one queue group", "subscribers",
		"  natsctl bench queue --sub 4 --size 16 --msgs 2000000"},
	"reqrep": {"M responders in a queue group, N requesters measuring round trips", "requesters",
		"  natsctl bench reqrep --msgs 20000\n  natsctl bench reqrep --pub 4 --sub 2 --rate 5000 --duration 30s --json"},
}

func newBenchCmd(d *deps, runF func(context.Context, *benchOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench MODE",
		Short: "Measure throughput and latency of a NATS server",
		Long: `Measure any NATS server (natsctl serve or nats-server) from a terminal.

Payloads are random (zeros would compress and flatter a server); when they
are 16 bytes or more their first 16 bytes carry a sequence and send time,
so subscribers count lost, duplicated and out-of-order messages and measure
latency (at full speed from one message in four, to spare the publisher a
clock read per message; with --rate from every message). Byte rates count
headers. With --rate, senders keep to a schedule
whatever the server does (open loop), and latency is measured from when each
message was due, so it includes queueing delay.`,
		Example: `  natsctl bench pub --msgs 1000000 --size 16
  natsctl bench pubsub --size 1KiB --duration 10s
  natsctl bench fanout --sub 5 --rate 100000 --histogram lat.hgrm
  natsctl bench reqrep --pub 4 --sub 2 --json
  natsctl bench compare --rounds 5 'nats-server -a 127.0.0.1 -p {port}' 'natsctl serve -a 127.0.0.1 -p {port}'`,
		Args: cobra.NoArgs,
	}
	for _, mode := range bench.Modes() {
		if h, ok := benchModeHelp[mode]; ok {
			c := newBenchModeCmd(d, mode, h.short, h.clients, runF)
			c.Example = h.example
			cmd.AddCommand(c)
		}
	}
	cmd.AddCommand(newBenchIdleCmd(d, runBenchIdle), newBenchCompareCmd(d, runBenchCompare))
	cmd.AddCommand(newBenchJSCmds(d, runF)...)
	return cmd
}

func newBenchModeCmd(d *deps, mode, short, clients string, runF func(context.Context, *benchOptions) error) *cobra.Command {
	cmd, _ := newBenchModeCmdOpts(d, mode, short, clients, runF)
	return cmd
}

// newBenchModeCmdOpts is newBenchModeCmd, also returning the options the
// flags fill (the streaming modes add their own flags).
func newBenchModeCmdOpts(d *deps, mode, short, clients string, runF func(context.Context, *benchOptions) error) (*cobra.Command, *benchOptions) {
	opts := &benchOptions{IO: d.IO}
	opts.Config.Mode = mode
	cmd := &cobra.Command{
		Use:   mode,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runF(cmd.Context(), opts)
		},
	}
	cf := addConnFlags(cmd, d)
	opts.Connect = func(ctx context.Context, name string) (*client.Conn, error) {
		o, err := cf.options()
		if err != nil {
			return nil, err
		}
		o.Name = "natsctl bench " + name
		nc, err := d.Connect(ctx, o)
		if err != nil {
			return nil, explainConnectError(o, err)
		}
		return nc, nil
	}
	opts.MonitorGuess = func() string {
		o, err := cf.options()
		if err != nil || len(o.Servers) == 0 {
			return ""
		}
		return guessMonitorURL(o.Servers[0])
	}
	c := &opts.Config
	f := cmd.Flags()
	f.IntVar(&c.Msgs, "msgs", 100_000, "messages to send in all, shared by the senders")
	f.StringVar(&opts.Size, "size", "128", "payload size in bytes (or with B, KB, KiB, MB, MiB)")
	f.IntVar(&c.Pubs, "pub", 0, "publishers (requesters in reqrep); 0: the mode's default")
	f.IntVar(&c.Subs, "sub", 0, "subscribers (responders in reqrep); 0: the mode's default")
	f.IntVar(&opts.Clients, "clients", 0, "number of "+clients+" (shorthand for --pub/--sub)")
	f.StringVar(&c.Subject, "subject", "bench", "subject to use")
	f.BoolVar(&c.MultiSubject, "multisubject", false, "publish each message on SUBJECT.<sequence> (subscribers use SUBJECT.>)")
	f.DurationVar(&c.Duration, "duration", 0, "run for this long instead of --msgs")
	f.Float64Var(&c.Rate, "rate", 0, "target messages per second in all, open loop (0: as fast as possible)")
	f.DurationVar(&c.Warmup, "warmup", 0, "send for this long before measuring, excluded from results")
	f.DurationVar(&c.RecvTimeout, "recv-timeout", 5*time.Second, "give up on missing messages after this long without one")
	f.StringVar(&c.Queue, "queue", "bench-group", "queue group name (queue, reqrep)")
	f.StringVar(&opts.PayloadFile, "payload", "", "read the payload from this file once (--size defaults to its length)")
	f.StringArrayVarP(&opts.Headers, "header", "H", nil, "header key:value on every message (repeatable)")
	f.StringVar(&c.MonitorURL, "monitor", "", "server monitoring URL to sample CPU, memory and slow consumers (default: the server's host, port 8222, when it answers; off: none)")
	f.BoolVar(&opts.NoProgress, "no-progress", false, "no progress bar")
	f.BoolVar(&opts.JSON, "json", false, "print the result as JSON")
	f.StringVar(&opts.CSVFile, "csv", "", "also write the result as CSV to this file")
	f.StringVar(&opts.HistFile, "histogram", "", "write the latency distribution (HdrHistogram .hgrm text) to this file")
	f.StringVar(&opts.CPUProfile, "cpuprofile", "", "write a CPU profile of the bench process to this file")
	_ = f.MarkHidden("cpuprofile")
	return cmd, opts
}

// guessMonitorURL is http://HOST:8222 for a server URL's host.
func guessMonitorURL(server string) string {
	if !strings.Contains(server, "://") {
		server = "nats://" + server
	}
	u, err := url.Parse(server)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	return "http://" + u.Hostname() + ":8222"
}

func runBench(ctx context.Context, o *benchOptions) error {
	c := o.Config
	if o.Clients < 0 {
		return errors.New("--clients must not be negative")
	}
	if o.Clients > 0 {
		switch c.Mode {
		case "pub", "reqrep":
			c.Pubs = orInt(c.Pubs, o.Clients)
		case "pubsub":
			c.Pubs, c.Subs = orInt(c.Pubs, o.Clients), orInt(c.Subs, o.Clients)
		default:
			c.Subs = orInt(c.Subs, o.Clients)
		}
	}
	if c.Duration > 0 {
		c.Msgs = 0
	}
	if o.PayloadFile != "" {
		b, err := os.ReadFile(o.PayloadFile)
		if err != nil {
			return fmt.Errorf("--payload: %w", err)
		}
		if len(b) == 0 {
			return fmt.Errorf("--payload %s is empty", o.PayloadFile)
		}
		c.Payload = b
	}
	size, err := parseSize(o.Size)
	if err != nil {
		return err
	}
	c.Size = size
	if o.PayloadFile != "" && !sizeGiven(o.Size) {
		c.Size = len(c.Payload)
	}
	if c.Header, err = parseHeaders(o.Headers); err != nil {
		return err
	}
	if err := checkSubject(c.Subject, false); err != nil {
		return err
	}
	if c.MonitorURL == "off" {
		c.MonitorURL = ""
	} else if c.MonitorURL == "" && o.MonitorGuess != nil {
		c.MonitorURL, c.MonitorQuiet = o.MonitorGuess(), true
	}
	env := &bench.Env{Config: c, Connect: o.Connect}
	if !o.NoProgress && !o.JSON && isTerminal(o.IO.ErrOut) {
		env.Progress = bench.NewProgressBar(o.IO.ErrOut)
	}
	if o.CPUProfile != "" {
		pf, err := os.Create(o.CPUProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	res, err := bench.Run(ctx, env)
	if err != nil {
		return err
	}
	if o.CSVFile != "" {
		if err := writeFileWith(o.CSVFile, func(w io.Writer) error { return bench.WriteCSV(w, res) }); err != nil {
			return fmt.Errorf("--csv: %w", err)
		}
	}
	if o.HistFile != "" {
		h := res.Histogram()
		if h == nil {
			return fmt.Errorf("--histogram: mode %s measured no latency (use pubsub, fanout or reqrep, or --rate)", c.Mode)
		}
		if err := writeFileWith(o.HistFile, h.WriteHgrm); err != nil {
			return fmt.Errorf("--histogram: %w", err)
		}
	}
	if o.JSON {
		return bench.WriteJSON(o.IO.Out, res)
	}
	return bench.WriteText(o.IO.Out, res, o.IO.OutTTY)
}

// isTerminal reports whether w is a terminal (progress bars only there).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func orInt(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func writeFileWith(name string, write func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// sizeGiven is false for the flag's default.
func sizeGiven(s string) bool { return s != "128" }

// parseSize reads 16, 1KiB, 1KB, 2MiB, 64B.
func parseSize(s string) (int, error) {
	t := strings.TrimSpace(s)
	mult := 1
	for _, u := range []struct {
		suf string
		m   int
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"KB", 1000}, {"MB", 1000 * 1000}, {"K", 1 << 10}, {"M", 1 << 20}, {"B", 1}} {
		if strings.HasSuffix(strings.ToUpper(t), strings.ToUpper(u.suf)) && (u.suf != "B" || !strings.HasSuffix(strings.ToUpper(t), "IB")) {
			t, mult = strings.TrimSpace(t[:len(t)-len(u.suf)]), u.m
			break
		}
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 || n > 64<<20/mult {
		return 0, fmt.Errorf("--size %q: want a number of bytes such as 16, 1KiB or 1MB", s)
	}
	return n * mult, nil
}
