package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/natsctl/natsctl/internal/iostreams"
	"github.com/natsctl/natsctl/internal/tui"
)

// runProgram runs a bubbletea program until the user quits or ctx ends.
func runProgram(ctx context.Context, m tea.Model, ios *iostreams.IOStreams) error {
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(ios.In), tea.WithOutput(ios.Out))
	_, err := p.Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	return err
}

// runTopCluster is `natsctl top` with several --server: the cluster view.
func runTopCluster(ctx context.Context, opts *topOptions) error {
	if opts.Interval <= 0 {
		return fmt.Errorf("--interval must be positive, got %s", opts.Interval)
	}
	var src tui.MultiSource
	for _, u := range opts.Servers {
		s, err := tui.NewHTTPSource(u, opts.HTTPClient)
		if err != nil {
			return fmt.Errorf("--server: %w", err)
		}
		src = append(src, s)
	}
	if !(opts.Once || opts.JSON || opts.Output != "") {
		if !opts.IO.OutTTY {
			return errors.New("top needs a terminal; use --once or --json for a snapshot")
		}
		run := opts.RunClusterUI
		if run == nil {
			run = runProgram
		}
		return run(ctx, tui.NewCluster(src, opts.Interval), opts.IO)
	}
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	snap := src.FetchCluster(fctx)
	up := 0
	for _, s := range snap.Servers {
		if s.Err == "" {
			up++
		}
	}
	if up == 0 {
		return fmt.Errorf("no monitoring endpoint answering at %v (point --server at each server's monitoring port)", opts.Servers)
	}
	return writeTopOutput(opts, snap, func(w io.Writer) error { return tui.WriteClusterReport(w, snap) })
}
