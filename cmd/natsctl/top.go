package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/natsctl/natsctl/internal/iostreams"
	"github.com/natsctl/natsctl/internal/monitorapi"
	"github.com/natsctl/natsctl/internal/tui"
)

const defaultMonitorURL = "http://127.0.0.1:8222"

type topOptions struct {
	IO       *iostreams.IOStreams
	Servers  []string // monitoring URLs; several: the cluster view (topcluster.go)
	Interval time.Duration
	Sort     string
	Limit    int
	Once     bool
	Output   string // with a value: one snapshot to this file, "-" = stdout
	JSON     bool
	// HTTPClient polls the endpoint; nil means a 5 s timeout client.
	HTTPClient *http.Client
	// RunUI runs the interactive program; tests replace it.
	RunUI func(ctx context.Context, m tui.Model, ios *iostreams.IOStreams) error
	// RunClusterUI runs the cluster view (several --server); nil: runProgram.
	RunClusterUI func(ctx context.Context, m tea.Model, ios *iostreams.IOStreams) error
}

func newTopCmd(d *deps, runF func(context.Context, *topOptions) error) *cobra.Command {
	opts := &topOptions{IO: d.IO, RunUI: runTUI}
	cmd := &cobra.Command{
		Use:   "top",
		Short: "Live view of a server's load, rates, subjects and connections",
		Long: `top polls a monitoring endpoint (natsctl serve's or nats-server's, the
HTTP port: 8222 by default) and shows the server's load, message and byte
rates, the busiest subjects (natsctl servers only) and a sortable,
filterable table of connections. It keeps retrying when the server goes
away. Press ? inside for keys.

--once (or -o -) prints one snapshot as a table and exits; --json prints it
as JSON, for scripts. Sort keys are nats-server's /connz keys: cid, start,
subs, pending, msgs_to, msgs_from, bytes_to, bytes_from, last, idle, uptime,
rtt (cid and uptime ascending, the others descending).

With --server given more than once, top shows the cluster: one row per
server with its rates, every route with its message rates, pending bytes
and RTT, and whether the routes form a full mesh (which pairs of servers
have no route).`,
		Example: `  natsctl top
  natsctl top --server http://10.0.0.5:8222 --sort msgs_from --interval 2s
  natsctl top --once --sort bytes_to --limit 20
  natsctl top --json | jq '.connz.connections[] | {cid, name, in_msgs}'
  natsctl top -o snapshot.txt
  natsctl top -s http://a:8222 -s http://b:8222 -s http://c:8222   # the whole cluster`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runF(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringSliceVarP(&opts.Servers, "server", "s", []string{defaultMonitorURL}, "monitoring URL (the HTTP port, not 4222); repeat it to watch every server of a cluster")
	f.DurationVarP(&opts.Interval, "interval", "i", tui.DefaultInterval, "time between polls")
	f.StringVar(&opts.Sort, "sort", string(monitorapi.ByCid), "connection sort key (see above)")
	f.IntVarP(&opts.Limit, "limit", "n", tui.DefaultLimit, "connections to request per poll")
	f.BoolVar(&opts.Once, "once", false, "print one snapshot as a table and exit")
	f.StringVarP(&opts.Output, "output", "o", "", `print one snapshot to this file and exit ("-" for stdout)`)
	f.BoolVar(&opts.JSON, "json", false, "print one snapshot as JSON and exit")
	return cmd
}

func runTop(ctx context.Context, opts *topOptions) error {
	if len(opts.Servers) == 0 {
		opts.Servers = []string{defaultMonitorURL}
	}
	if len(opts.Servers) > 1 {
		return runTopCluster(ctx, opts)
	}
	sort, err := monitorapi.ParseSortOpt(opts.Sort, false)
	if err != nil {
		return fmt.Errorf("--sort: %w", err)
	}
	if opts.Interval <= 0 {
		return fmt.Errorf("--interval must be positive, got %s", opts.Interval)
	}
	src, err := tui.NewHTTPSource(opts.Servers[0], opts.HTTPClient)
	if err != nil {
		return fmt.Errorf("--server: %w", err)
	}
	if opts.Once || opts.JSON || opts.Output != "" {
		return topSnapshot(ctx, opts, src, tui.Request{Sort: sort, Limit: opts.Limit, Subs: true, Subjects: opts.JSON})
	}
	if !opts.IO.OutTTY {
		return errors.New("top needs a terminal; use --once or --json for a snapshot")
	}
	m := tui.New(tui.Options{Source: src, Interval: opts.Interval, Sort: sort, Limit: opts.Limit})
	return opts.RunUI(ctx, m, opts.IO)
}

// topSnapshot polls once and prints a table or JSON.
func topSnapshot(ctx context.Context, opts *topOptions, src *tui.HTTPSource, req tui.Request) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	snap, err := src.Fetch(ctx, req)
	if err != nil {
		return fmt.Errorf("no monitoring endpoint answering at %s: %w (start a server with `natsctl serve` or `nats-server -m 8222`, or point --server at its monitoring port)", src.Name(), err)
	}
	return writeTopOutput(opts, snap, func(w io.Writer) error { return tui.WriteReport(w, snap) })
}

// writeTopOutput writes a one-shot snapshot to --output (or standard
// output): as JSON with --json, else with table.
func writeTopOutput(opts *topOptions, snap any, table func(io.Writer) error) (err error) {
	var w io.Writer = opts.IO.Out
	if opts.Output != "" && opts.Output != "-" {
		f, err := os.Create(opts.Output)
		if err != nil {
			return fmt.Errorf("--output: %w", err)
		}
		defer func() {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}()
		w = f
	}
	if opts.JSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(snap)
	}
	return table(w)
}

// runTUI runs the interactive program until the user quits or ctx ends.
func runTUI(ctx context.Context, m tui.Model, ios *iostreams.IOStreams) error {
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(ios.In), tea.WithOutput(ios.Out))
	_, err := p.Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil // interrupted by a signal: a normal way to leave top
	}
	return err
}
