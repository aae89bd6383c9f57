package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/natsctl/natsctl/internal/jsclient"
)

// streamEditOptions are `natsctl stream edit`'s: Set holds the config
// fields given on the command line, by JSON name; everything else stays
// as the server has it.
type streamEditOptions struct {
	jsOptions
	Name       string
	ConfigFile string
	Set        map[string]any
}

// streamFlagKeys maps add/edit flags to StreamConfig JSON names.
var streamFlagKeys = map[string]string{
	"subjects": "subjects", "description": "description", "max-msgs": "max_msgs", "max-bytes": "max_bytes",
	"max-age": "max_age", "max-msgs-per-subject": "max_msgs_per_subject", "max-msg-size": "max_msg_size",
	"max-consumers": "max_consumers", "dupe-window": "duplicate_window", "no-ack": "no_ack",
	"deny-delete": "deny_delete", "deny-purge": "deny_purge", "allow-rollup": "allow_rollup_hdrs",
	"allow-direct": "allow_direct", "discard-per-subject": "discard_new_per_subject", "replicas": "num_replicas",
	"storage": "storage", "retention": "retention", "discard": "discard",
}

func newStreamEditCmd(d *deps, runF func(context.Context, *streamEditOptions) error) *cobra.Command {
	o := &streamEditOptions{}
	flags := &streamOptions{}
	cmd := &cobra.Command{
		Use:   "edit NAME",
		Short: "Change a stream's configuration",
		Long: `Change the settings given as flags (or in --config, nats-server's JSON
field names) and keep every other setting as the server has it.`,
		Example: `  natsctl stream edit ORDERS --max-age 72h --description 'last three days'
  natsctl stream edit ORDERS --subjects 'orders.>,returns.>'
  natsctl stream edit ORDERS --config changes.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name, o.ConfigFile = args[0], flags.ConfigFile
			// Take each flag given from the typed config, so values are
			// encoded exactly as stream add sends them.
			b, err := json.Marshal(flags.Config)
			if err != nil {
				return err
			}
			var all map[string]any
			if err := json.Unmarshal(b, &all); err != nil {
				return err
			}
			o.Set = map[string]any{}
			for flag, key := range streamFlagKeys {
				if cmd.Flags().Changed(flag) {
					o.Set[key] = all[key]
				}
			}
			return runF(cmd.Context(), o)
		},
	}
	o.bindJS(cmd, d, "print the API reply as JSON")
	addStreamFlags(&streamFlags{cmd: cmd, o: flags})
	return cmd
}

func runStreamEdit(ctx context.Context, o *streamEditOptions) error {
	set := map[string]any{}
	if o.ConfigFile != "" {
		b, err := os.ReadFile(o.ConfigFile)
		if err != nil {
			return fmt.Errorf("--config: %w", err)
		}
		if err := json.Unmarshal(b, &set); err != nil {
			return fmt.Errorf("--config %s: %w", o.ConfigFile, err)
		}
	}
	for k, v := range o.Set {
		set[k] = v
	}
	if len(set) == 0 {
		return errors.New("nothing to change: give settings as flags (see --help) or --config FILE")
	}
	if n, ok := set["name"]; ok && n != o.Name {
		return fmt.Errorf("--config names stream %v, not %s: a stream cannot be renamed", n, o.Name)
	}
	return o.withJS(ctx, func(js *jsclient.JS) error {
		cfg, err := js.StreamConfigRaw(ctx, o.Name)
		if err != nil {
			return err
		}
		for k, v := range set {
			cfg[k] = v
		}
		si, raw, err := js.UpdateStream(ctx, o.Name, cfg)
		if err != nil {
			return err
		}
		if o.JSON {
			return o.printRaw(raw)
		}
		fmt.Fprintf(o.IO.ErrOut, "stream %s updated\n", o.Name)
		return printStreamInfo(&streamOptions{IO: o.IO}, si)
	})
}
