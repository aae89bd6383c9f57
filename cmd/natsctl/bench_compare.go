package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/natsctl/natsctl/internal/bench"
	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/iostreams"
)

type benchCompareOptions struct {
	IO        *iostreams.IOStreams
	Targets   [2]string
	Names     []string
	Rounds    int
	Scenarios string // file; empty: bench.DefaultScenarios
	Markdown  bool
	JSON      bool
	Quiet     bool
	// Self is the natsctl binary that runs each scenario.
	Self func() (string, error)
}

func newBenchCompareCmd(d *deps, runF func(context.Context, *benchCompareOptions) error) *cobra.Command {
	opts := &benchCompareOptions{IO: d.IO, Self: os.Executable}
	cmd := &cobra.Command{
		Use:   "compare A B",
		Short: "Run the same scenarios against two servers, alternately, and compare medians",
		Long: `Run a scenario list against two servers, A and B, alternating which goes
first, for several rounds, and print each figure's medians and the ratio B/A.

A and B are each a nats:// URL, or a server command to start (and stop) for
every run, in which {port} and {mport} stand for free client and monitoring
ports. Only started servers give the idle scenario's memory per connection
(read from /proc/PID/status).

Scenario file lines: name | figure[,figure] | bench arguments. Figures:
pub msgs/s, sub msgs/s, sub MB/s, p50, p99, rss/conn. The default list is:
` + bench.DefaultScenarios,
		Example: `  natsctl bench compare 'nats-server -a 127.0.0.1 -p {port}' 'natsctl serve -a 127.0.0.1 -p {port}'
  natsctl bench compare --rounds 3 --scenarios my.txt nats://host1:4222 nats://host2:4222`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Targets = [2]string{args[0], args[1]}
			return runF(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.Rounds, "rounds", 5, "rounds per server")
	f.StringVar(&opts.Scenarios, "scenarios", "", "scenario list file (default: the built-in list)")
	f.StringSliceVar(&opts.Names, "names", nil, "labels for A and B (default: from the commands or URLs)")
	f.BoolVar(&opts.Markdown, "markdown", false, "print the table as Markdown")
	f.BoolVar(&opts.JSON, "json", false, "print every round's values as JSON")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "no line per run on standard error")
	return cmd
}

func runBenchCompare(ctx context.Context, o *benchCompareOptions) error {
	text := bench.DefaultScenarios
	if o.Scenarios != "" {
		b, err := os.ReadFile(o.Scenarios)
		if err != nil {
			return fmt.Errorf("--scenarios: %w", err)
		}
		text = string(b)
	}
	scs, err := bench.ParseScenarios(text)
	if err != nil {
		return err
	}
	if len(o.Names) != 0 && len(o.Names) != 2 {
		return errors.New("--names takes two labels: --names nats-server,natsctl")
	}
	self, err := o.Self()
	if err != nil {
		return fmt.Errorf("find the natsctl binary: %w", err)
	}
	cfg := bench.CompareConfig{Scenarios: scs, Rounds: o.Rounds, Self: self}
	for i, t := range o.Targets {
		cfg.Targets[i] = bench.ParseTarget(t)
		if len(o.Names) == 2 {
			cfg.Targets[i].Name = o.Names[i]
		}
	}
	if cfg.Targets[0].Name == cfg.Targets[1].Name {
		cfg.Targets[0].Name += " (A)"
		cfg.Targets[1].Name += " (B)"
	}
	if !o.Quiet {
		cfg.Log = o.IO.ErrOut
	}
	cmp, err := bench.Compare(ctx, cfg)
	if err != nil {
		return err
	}
	switch {
	case o.JSON:
		enc := json.NewEncoder(o.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(cmp)
	case o.Markdown:
		return bench.WriteComparisonMarkdown(o.IO.Out, cmp)
	}
	return bench.WriteComparison(o.IO.Out, cmp, o.IO.OutTTY)
}

type benchIdleOptions struct {
	IO      *iostreams.IOStreams
	Clients int
	Servers func() (client.Options, error)
}

func newBenchIdleCmd(d *deps, runF func(context.Context, *benchIdleOptions) error) *cobra.Command {
	opts := &benchIdleOptions{IO: d.IO}
	cmd := &cobra.Command{
		Use:   "idle",
		Short: "Hold N idle client connections open (to measure server memory per connection)",
		Long: `Open --clients raw client connections (CONNECT, PING, then only PONGs to the
server's PINGs), print "connected N" once all are up, and hold them until
interrupted. Raise the open-files limit (ulimit -n) first for many
connections. No authentication or TLS.`,
		Example: `  ulimit -n 20000; natsctl bench idle --clients 10000`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runF(cmd.Context(), opts)
		},
	}
	cf := addConnFlags(cmd, d)
	opts.Servers = cf.options
	cmd.Flags().IntVar(&opts.Clients, "clients", 1000, "connections to hold")
	return cmd
}

func runBenchIdle(ctx context.Context, o *benchIdleOptions) error {
	co, err := o.Servers()
	if err != nil {
		return err
	}
	addr := co.Servers[0]
	if i := strings.Index(addr, "://"); i >= 0 {
		addr = addr[i+3:]
	}
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		addr = addr[i+1:]
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, "4222")
	}
	return bench.HoldIdle(ctx, addr, o.Clients, func(n int) {
		fmt.Fprintf(o.IO.Out, "connected %d\n", n)
	})
}
