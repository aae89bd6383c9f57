package main

import (
	"context"
	"strings"

	"github.com/spf13/cobra"
)

// benchJSModeHelp describes the streaming bench modes; the key is the
// bench mode, its last word the subcommand.
var benchJSModeHelp = []struct {
	mode, short, clients, example string
	pubs                          bool // --clients sets --pub (else --sub)
}{
	{"js pub", "Publish to a stream with acks (sync, async or batch)", "publishers",
		"  natsctl bench js pub --msgs 100000 --size 128\n  natsctl bench js pub --mode async --max-pending 512 --pub 4 --storage memory --replace\n  natsctl bench js pub --mode batch --batch 500 --stream orders --subject orders.bench", true},
	{"js get", "Direct-get messages of a stream by sequence (random or --sequential)", "getters",
		"  natsctl bench js pub --msgs 10000 && natsctl bench js get --msgs 50000 --pub 4\n  natsctl bench js get --sequential --histogram get.hgrm", true},
	{"js consume", "Read --msgs messages through a durable pull consumer with a standing pull request, acking each", "consumers",
		"  natsctl bench js pub --msgs 100000 && natsctl bench js consume --msgs 100000\n  natsctl bench js consume --sub 4 --batch 500", false},
	{"js fetch", "Read --msgs messages through a durable pull consumer, --batch at a time, acking each", "consumers",
		"  natsctl bench js fetch --msgs 100000 --batch 100", false},
	{"js ordered", "Read the first --msgs messages of a stream through an ordered consumer (each client all of them)", "consumers",
		"  natsctl bench js ordered --msgs 100000 --batch 500", false},
	{"kv put", "Put values of --keys keys in a KV bucket, measuring each round trip", "writers",
		"  natsctl bench kv put --msgs 10000 --keys 1000 --size 256\n  natsctl bench kv put --bucket cache --storage memory --replace --pub 4", true},
	{"kv get", "Get values of --keys keys from a KV bucket filled by `bench kv put`", "readers",
		"  natsctl bench kv put --msgs 1000 --keys 1000 && natsctl bench kv get --msgs 100000 --keys 1000 --pub 4", true},
}

// newBenchJSCmds returns `bench js` (pub, get, consume, fetch, ordered) and
// `bench kv` (put, get): the core modes' flags plus the streaming ones.
func newBenchJSCmds(d *deps, runF func(context.Context, *benchOptions) error) []*cobra.Command {
	js := &cobra.Command{
		Use:   "js MODE",
		Short: "Measure JetStream: publish with acks, direct get, pull and ordered consumers",
		Long: `Measure a server's streams (natsctl serve, or nats-server -js).

js pub creates the stream (--stream, on --subject) unless it exists and
leaves its messages for js get, consume, fetch and ordered, which read an
existing stream. Round trips (js pub --mode sync, js get) are measured in
the latency histogram.`,
		Example: "  natsctl bench js pub --msgs 100000 --mode async\n  natsctl bench js consume --msgs 100000\n  natsctl bench js get --msgs 50000 --json",
		Args:    cobra.NoArgs,
	}
	kv := &cobra.Command{
		Use:     "kv MODE",
		Short:   "Measure key-value put and get round trips",
		Example: "  natsctl bench kv put --msgs 10000 --keys 1000\n  natsctl bench kv get --msgs 100000 --keys 1000",
		Args:    cobra.NoArgs,
	}
	for _, h := range benchJSModeHelp {
		pubs := h.pubs
		run := func(ctx context.Context, o *benchOptions) error {
			if pubs && o.Clients > 0 {
				o.Config.Pubs, o.Clients = orInt(o.Config.Pubs, o.Clients), 0
			}
			return runF(ctx, o)
		}
		c, opts := newBenchModeCmdOpts(d, h.mode, h.short, h.clients, run)
		group, verb, _ := strings.Cut(h.mode, " ")
		c.Use, c.Example = verb, h.example
		addBenchJSFlags(c, opts, h.mode)
		if group == "js" {
			js.AddCommand(c)
		} else {
			kv.AddCommand(c)
		}
	}
	return []*cobra.Command{js, kv}
}

func addBenchJSFlags(cmd *cobra.Command, o *benchOptions, mode string) {
	f := cmd.Flags()
	for _, name := range []string{"duration", "rate", "warmup", "queue"} {
		_ = f.MarkHidden(name) // closed-loop counted runs only
	}
	if pubs := strings.HasSuffix(mode, " pub") || strings.HasSuffix(mode, " put") || strings.HasSuffix(mode, " get"); pubs {
		_ = f.MarkHidden("sub")
	} else {
		_ = f.MarkHidden("pub")
		_ = f.MarkHidden("header")
	}
	if mode != "js pub" {
		_ = f.MarkHidden("multisubject")
		_ = f.MarkHidden("payload")
	}
	j := &o.Config.JS
	if strings.HasPrefix(mode, "kv ") {
		_ = f.MarkHidden("subject")
		f.StringVar(&j.Bucket, "bucket", "benchkv", "KV bucket")
		f.IntVar(&j.Keys, "keys", 100, "distinct keys (k0, k1, ...)")
	} else {
		f.StringVar(&j.Stream, "stream", "benchstream", "stream name")
	}
	switch mode {
	case "js pub", "kv put":
		f.StringVar(&j.Storage, "storage", "file", "storage of a stream or bucket the run creates: file or memory")
		f.BoolVar(&j.Replace, "replace", false, "delete and recreate the stream or bucket first")
	}
	switch mode {
	case "js pub":
		f.StringVar(&j.PubMode, "mode", "sync", "sync: wait for each ack; async: up to --max-pending acks outstanding; batch: publish --batch then wait for their acks")
		f.IntVar(&j.MaxPending, "max-pending", 256, "async: outstanding acks per publisher")
		f.IntVar(&j.Batch, "batch", 100, "batch: messages between waits for acks")
	case "js get", "kv get":
		f.BoolVar(&j.Sequential, "sequential", false, "read in order instead of at random")
	case "js consume", "js fetch":
		f.StringVar(&j.Consumer, "consumer", "benchconsumer", "durable consumer name (recreated at the start of each run)")
		f.IntVar(&j.Batch, "batch", 100, "messages per pull request")
	case "js ordered":
		f.IntVar(&j.Batch, "batch", 100, "messages per pull request")
	}
}
