package main

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/natsctl/natsctl/internal/server"
)

type serveOptions struct {
	deps *deps
	opts server.Options
}

func newServeCmd(d *deps, runF func(context.Context, *serveOptions) error) *cobra.Command {
	so := &serveOptions{deps: d, opts: server.DefaultOptions()}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the NATS-compatible server",
		Example: `  natsctl serve
  natsctl serve -p 4333 -m 8333`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runF(cmd.Context(), so)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&so.opts.Host, "addr", "a", server.DefaultHost, "host to listen on for clients")
	f.IntVarP(&so.opts.Port, "port", "p", server.DefaultPort, "port for clients (-1 or 0: random)")
	return cmd
}

func runServe(ctx context.Context, so *serveOptions) error {
	so.opts.Logger = slog.New(slog.NewTextHandler(so.deps.IO.ErrOut, nil))
	s, err := server.New(so.opts)
	if err != nil {
		return err
	}
	if err := s.Start(); err != nil {
		return err
	}
	so.opts.Logger.Info("listening for clients", "addr", s.Addr().String())
	<-ctx.Done()
	return s.Shutdown(context.Background())
}
