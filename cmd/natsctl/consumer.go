package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/jsclient"
)

// consumerOptions serve every `natsctl consumer` subcommand.
type consumerOptions struct {
	jsOptions
	Stream, Name string

	// add/edit: Set holds the settings given, by JSON name.
	ConfigFile string
	Set        map[string]any

	// next/sub
	Count       int
	NoAck       bool
	Wait        time.Duration
	Raw         bool
	HeadersOnly bool
}

// consumerFlags are add/edit's settings, read back by JSON name.
type consumerFlags struct {
	Description, Ack, Deliver, Replay, DeliverSubject, DeliverGroup, Since string
	Filters                                                                []string
	StartSeq                                                               uint64
	AckWait, Heartbeat, InactiveThreshold                                  time.Duration
	MaxDeliver, MaxAckPending, MaxWaiting                                  int
	FlowControl, HeadersOnly, Memory                                       bool
}

func (f *consumerFlags) bind(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.Description, "description", "", "description")
	fl.StringSliceVar(&f.Filters, "filter", nil, "only messages on these subjects (wildcards allowed)")
	fl.StringVar(&f.Ack, "ack", "explicit", "ack policy: explicit, all or none")
	fl.StringVar(&f.Deliver, "deliver", "all", "start with: all, last, new or last_per_subject")
	fl.Uint64Var(&f.StartSeq, "start-seq", 0, "start at this stream sequence")
	fl.StringVar(&f.Since, "since", "", "start at messages newer than a duration ago (1h) or a time")
	fl.StringVar(&f.Replay, "replay", "instant", "replay: instant or original (at the pace they were stored)")
	fl.DurationVar(&f.AckWait, "ack-wait", 30*time.Second, "redeliver when not acked within this")
	fl.IntVar(&f.MaxDeliver, "max-deliver", -1, "deliveries per message (-1: unlimited)")
	fl.IntVar(&f.MaxAckPending, "max-ack-pending", 1000, "most messages delivered and not acked")
	fl.IntVar(&f.MaxWaiting, "max-waiting", 512, "most waiting pull requests (pull consumers)")
	fl.StringVar(&f.DeliverSubject, "deliver-subject", "", "make a push consumer delivering to this subject")
	fl.StringVar(&f.DeliverGroup, "deliver-group", "", "push: queue group the subscribers share")
	fl.DurationVar(&f.Heartbeat, "heartbeat", 0, "push: idle heartbeat interval")
	fl.BoolVar(&f.FlowControl, "flow-control", false, "push: flow control (needs --heartbeat)")
	fl.DurationVar(&f.InactiveThreshold, "inactive-threshold", 0, "delete the consumer after this long unused (0: never)")
	fl.BoolVar(&f.HeadersOnly, "headers-only", false, "deliver headers only")
	fl.BoolVar(&f.Memory, "memory", false, "keep consumer state in memory")
}

// settings returns the config keys of the flags given on the command line
// (all when defaults is true: consumer add), in nats-server's JSON form.
func (f *consumerFlags) settings(cmd *cobra.Command, now time.Time, defaults bool) (map[string]any, error) {
	set := map[string]any{}
	given := func(name string) bool { return defaults || cmd.Flags().Changed(name) }
	str := func(flag, key, v string) {
		if given(flag) && (v != "" || !defaults) {
			set[key] = v
		}
	}
	str("description", "description", f.Description)
	str("ack", "ack_policy", f.Ack)
	str("deliver", "deliver_policy", f.Deliver)
	str("replay", "replay_policy", f.Replay)
	str("deliver-subject", "deliver_subject", f.DeliverSubject)
	str("deliver-group", "deliver_group", f.DeliverGroup)
	if given("filter") {
		switch len(f.Filters) {
		case 0:
		case 1:
			set["filter_subject"] = f.Filters[0]
		default:
			set["filter_subjects"] = f.Filters
		}
	}
	if cmd.Flags().Changed("start-seq") {
		set["deliver_policy"], set["opt_start_seq"] = "by_start_sequence", f.StartSeq
	}
	if cmd.Flags().Changed("since") {
		t, err := parseSince(f.Since, now)
		if err != nil {
			return nil, err
		}
		set["deliver_policy"], set["opt_start_time"] = "by_start_time", t.UTC()
	}
	dur := func(flag, key string, d time.Duration) {
		if given(flag) && (d != 0 || !defaults) {
			set[key] = int64(d)
		}
	}
	dur("ack-wait", "ack_wait", f.AckWait)
	dur("heartbeat", "idle_heartbeat", f.Heartbeat)
	dur("inactive-threshold", "inactive_threshold", f.InactiveThreshold)
	num := func(flag, key string, n int) {
		if given(flag) {
			set[key] = n
		}
	}
	num("max-deliver", "max_deliver", f.MaxDeliver)
	num("max-ack-pending", "max_ack_pending", f.MaxAckPending)
	if f.DeliverSubject == "" {
		num("max-waiting", "max_waiting", f.MaxWaiting)
	}
	flag := func(name, key string, b bool) {
		if given(name) && (b || !defaults) {
			set[key] = b
		}
	}
	flag("flow-control", "flow_control", f.FlowControl)
	flag("headers-only", "headers_only", f.HeadersOnly)
	flag("memory", "mem_storage", f.Memory)
	return set, nil
}

func newConsumerCmd(d *deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "consumer",
		Aliases: []string{"con"},
		Short:   "Manage and read stream consumers (durable pull and push consumers)",
	}
	sub := func(use, short, example string, args cobra.PositionalArgs, prep func(*cobra.Command, *consumerOptions) func(*cobra.Command) error,
		runF func(context.Context, *consumerOptions) error) *cobra.Command {
		o := &consumerOptions{}
		c := &cobra.Command{Use: use, Short: short, Example: example, Args: args}
		var before func(*cobra.Command) error
		c.RunE = func(cmd *cobra.Command, args []string) error {
			o.Stream = args[0]
			if len(args) > 1 {
				o.Name = args[1]
			}
			if before != nil {
				if err := before(cmd); err != nil {
					return err
				}
			}
			return runF(cmd.Context(), o)
		}
		o.bindJS(c, d, "print JSON")
		if prep != nil {
			before = prep(c, o)
		}
		return c
	}
	settings := func(defaults bool) func(*cobra.Command, *consumerOptions) func(*cobra.Command) error {
		return func(c *cobra.Command, o *consumerOptions) func(*cobra.Command) error {
			f := &consumerFlags{}
			f.bind(c)
			c.Flags().StringVar(&o.ConfigFile, "config", "", "consumer config as JSON (nats-server's field names); flags override it")
			return func(cmd *cobra.Command) (err error) {
				o.Set, err = f.settings(cmd, time.Now(), defaults && o.ConfigFile == "")
				return err
			}
		}
	}
	reading := func(c *cobra.Command, o *consumerOptions) func(*cobra.Command) error {
		f := c.Flags()
		f.IntVarP(&o.Count, "count", "n", 1, "messages to read (sub: 0 for no limit)")
		f.BoolVar(&o.NoAck, "no-ack", false, "do not acknowledge (they will be redelivered)")
		f.DurationVar(&o.Wait, "wait", 5*time.Second, "next: how long to wait for the messages")
		f.BoolVar(&o.Raw, "raw", false, "print only each body, followed by a newline")
		f.BoolVar(&o.HeadersOnly, "headers-only", false, "print only subjects and headers")
		return nil
	}
	cmd.AddCommand(
		sub("add STREAM NAME", "Create a durable consumer", `  natsctl consumer add ORDERS workers --filter 'orders.new' --max-deliver 5
  natsctl consumer add ORDERS audit --deliver-subject audit.in --heartbeat 5s --flow-control
  natsctl consumer add ORDERS replay --since 24h --ack none`, cobra.ExactArgs(2), settings(true), runConsumerAdd),
		sub("edit STREAM NAME", "Change a consumer's settings (the others stay)", `  natsctl consumer edit ORDERS workers --max-ack-pending 50 --description 'slow down'`,
			cobra.ExactArgs(2), settings(false), runConsumerEdit),
		sub("ls STREAM", "List a stream's consumers", "  natsctl consumer ls ORDERS", cobra.ExactArgs(1), nil, runConsumerLs),
		sub("info STREAM NAME", "Show a consumer's config and state", "  natsctl consumer info ORDERS workers", cobra.ExactArgs(2), nil, runConsumerInfo),
		sub("rm STREAM NAME", "Delete a consumer", "  natsctl consumer rm ORDERS workers", cobra.ExactArgs(2), nil, runConsumerRm),
		sub("next STREAM NAME", "Fetch, print and ack messages from a pull consumer", `  natsctl consumer next ORDERS workers
  natsctl consumer next ORDERS workers --count 10 --raw
  natsctl consumer next ORDERS workers --no-ack --json`, cobra.ExactArgs(2), reading, runConsumerNext),
		sub("sub STREAM NAME", "Read a pull or push consumer, printing and acking as messages arrive", `  natsctl consumer sub ORDERS workers
  natsctl consumer sub ORDERS audit --count 100 --json`, cobra.ExactArgs(2), func(c *cobra.Command, o *consumerOptions) func(*cobra.Command) error {
			reading(c, o)
			return func(cmd *cobra.Command) error {
				if !cmd.Flags().Changed("count") {
					o.Count = 0
				}
				return nil
			}
		}, runConsumerSub),
	)
	return cmd
}

func (o *consumerOptions) fileSettings() (map[string]any, error) {
	cfg := map[string]any{}
	if o.ConfigFile != "" {
		b, err := os.ReadFile(o.ConfigFile)
		if err != nil {
			return nil, fmt.Errorf("--config: %w", err)
		}
		if err := json.Unmarshal(b, &cfg); err != nil {
			return nil, fmt.Errorf("--config %s: %w", o.ConfigFile, err)
		}
	}
	for k, v := range o.Set {
		cfg[k] = v
	}
	return cfg, nil
}

func runConsumerAdd(ctx context.Context, o *consumerOptions) error {
	cfg, err := o.fileSettings()
	if err != nil {
		return err
	}
	cfg["durable_name"], cfg["name"] = o.Name, o.Name
	return o.withJS(ctx, func(js *jsclient.JS) error {
		ci, raw, err := js.CreateConsumerRaw(ctx, o.Stream, o.Name, cfg, jsclient.ActionCreate)
		if err != nil {
			return o.explain(err)
		}
		if o.JSON {
			return o.printRaw(raw)
		}
		return printConsumerInfo(o, ci)
	})
}

func runConsumerEdit(ctx context.Context, o *consumerOptions) error {
	set, err := o.fileSettings()
	if err != nil {
		return err
	}
	if len(set) == 0 {
		return errors.New("nothing to change: give settings as flags (see --help) or --config FILE")
	}
	return o.withJS(ctx, func(js *jsclient.JS) error {
		cfg, err := js.ConsumerConfigRaw(ctx, o.Stream, o.Name)
		if err != nil {
			return o.explain(err)
		}
		for k, v := range set {
			cfg[k] = v
		}
		ci, raw, err := js.UpdateConsumerRaw(ctx, o.Stream, o.Name, cfg)
		if err != nil {
			return o.explain(err)
		}
		if o.JSON {
			return o.printRaw(raw)
		}
		fmt.Fprintf(o.IO.ErrOut, "consumer %s > %s updated\n", o.Stream, o.Name)
		return printConsumerInfo(o, ci)
	})
}

// explain adds what to do to the API errors people hit.
func (o *consumerOptions) explain(err error) error {
	switch {
	case jsclient.IsAPIError(err, jsclient.ErrCodeStreamNotFound):
		return fmt.Errorf("no stream %s: see `natsctl stream ls`", o.Stream)
	case jsclient.IsAPIError(err, jsclient.ErrCodeConsumerNotFound):
		return fmt.Errorf("no consumer %s on stream %s: see `natsctl consumer ls %s`", o.Name, o.Stream, o.Stream)
	}
	return err
}

func consumerKind(c *jsclient.ConsumerConfig) string {
	if c.DeliverSubject != "" {
		return "push"
	}
	return "pull"
}

func filterText(c *jsclient.ConsumerConfig) string {
	if c.FilterSubject != "" {
		return c.FilterSubject
	}
	return strings.Join(c.FilterSubjects, ",")
}

func printConsumerInfo(o *consumerOptions, ci *jsclient.ConsumerInfo) error {
	c := ci.Config
	start := c.DeliverPolicy.String()
	if c.OptStartSeq > 0 {
		start += fmt.Sprintf(" (%d)", c.OptStartSeq)
	}
	if c.OptStartTime != nil {
		start += " (" + timeText(*c.OptStartTime) + ")"
	}
	last := ""
	if ci.Delivered.Last != nil {
		last = timeText(*ci.Delivered.Last)
	}
	return writeFields(o.IO.Out, [][2]string{
		{"Stream", ci.Stream}, {"Name", ci.Name}, {"Description", c.Description}, {"Type", consumerKind(&c)},
		{"Filter", filterText(&c)}, {"Deliver", start}, {"Ack policy", c.AckPolicy.String()},
		{"Ack wait", c.AckWait.String()}, {"Max deliver", fmt.Sprint(c.MaxDeliver)},
		{"Max ack pending", fmt.Sprint(c.MaxAckPending)}, {"Replay", c.ReplayPolicy.String()},
		{"Deliver subject", c.DeliverSubject}, {"Deliver group", c.DeliverGroup},
		{"Created", timeText(ci.Created)},
		{"Delivered", fmt.Sprintf("consumer seq %d, stream seq %d", ci.Delivered.Consumer, ci.Delivered.Stream)},
		{"Last delivery", last},
		{"Ack floor", fmt.Sprintf("consumer seq %d, stream seq %d", ci.AckFloor.Consumer, ci.AckFloor.Stream)},
		{"Pending", fmt.Sprint(ci.NumPending)}, {"Ack pending", fmt.Sprint(ci.NumAckPending)},
		{"Redelivered", fmt.Sprint(ci.NumRedelivered)}, {"Waiting pulls", fmt.Sprint(ci.NumWaiting)},
	})
}

func runConsumerLs(ctx context.Context, o *consumerOptions) error {
	return o.withJS(ctx, func(js *jsclient.JS) error {
		cs, err := js.Consumers(ctx, o.Stream)
		if err != nil {
			return o.explain(err)
		}
		if o.JSON {
			return o.printValue(append([]*jsclient.ConsumerInfo{}, cs...))
		}
		if len(cs) == 0 {
			fmt.Fprintf(o.IO.ErrOut, "no consumers on %s: create one with `natsctl consumer add %s NAME`\n", o.Stream, o.Stream)
			return nil
		}
		rows := make([][]string, 0, len(cs))
		for _, ci := range cs {
			last := "never"
			if ci.Delivered.Last != nil {
				last = timeText(*ci.Delivered.Last)
			}
			rows = append(rows, []string{ci.Name, consumerKind(&ci.Config), filterText(&ci.Config), ci.Config.AckPolicy.String(),
				fmt.Sprint(ci.NumPending), fmt.Sprint(ci.NumAckPending), fmt.Sprint(ci.NumRedelivered), last})
		}
		return writeTable(o.IO, []string{"NAME", "TYPE", "FILTER", "ACK", "PENDING", "ACK PENDING", "REDELIVERED", "LAST DELIVERY"}, rows)
	})
}

func runConsumerInfo(ctx context.Context, o *consumerOptions) error {
	return o.withJS(ctx, func(js *jsclient.JS) error {
		ci, raw, err := js.ConsumerInfo(ctx, o.Stream, o.Name)
		if err != nil {
			return o.explain(err)
		}
		if o.JSON {
			return o.printRaw(raw)
		}
		return printConsumerInfo(o, ci)
	})
}

func runConsumerRm(ctx context.Context, o *consumerOptions) error {
	return o.withJS(ctx, func(js *jsclient.JS) error {
		if err := js.DeleteConsumer(ctx, o.Stream, o.Name); err != nil {
			return o.explain(err)
		}
		if o.JSON {
			return o.printValue(map[string]any{"stream": o.Stream, "consumer": o.Name, "deleted": true})
		}
		fmt.Fprintf(o.IO.ErrOut, "consumer %s > %s deleted\n", o.Stream, o.Name)
		return nil
	})
}

// handler prints each message and acks it unless --no-ack (or the
// consumer acks nothing), stopping after --count. With confirm, each ack
// waits for the server's confirmation (next: the command exits only once
// its acks are applied).
func (o *consumerOptions) handler(ctx context.Context, ack, confirm bool) (func(*jsclient.Msg) error, *int) {
	p := newMsgPrinter(o.IO, o.Raw, o.HeadersOnly, o.JSON)
	n := new(int)
	return func(m *jsclient.Msg) error {
		if err := p.print(int(m.Meta.StreamSeq), &client.Msg{Subject: m.Subject, Header: m.Header, Data: m.Data}, 0); err != nil {
			return err
		}
		if ack && !o.NoAck {
			ackf := m.Ack
			if confirm {
				ackf = func() error { return m.AckSync(ctx) }
			}
			if err := ackf(); err != nil {
				return err
			}
		}
		if *n++; o.Count > 0 && *n >= o.Count {
			return jsclient.ErrStop
		}
		return nil
	}, n
}

func runConsumerNext(ctx context.Context, o *consumerOptions) error {
	if o.Count < 1 || o.Wait <= 0 {
		return errors.New("--count must be at least 1 and --wait positive")
	}
	return o.withJS(ctx, func(js *jsclient.JS) error {
		ci, _, err := js.ConsumerInfo(ctx, o.Stream, o.Name)
		if err != nil {
			return o.explain(err)
		}
		if ci.Config.DeliverSubject != "" {
			return fmt.Errorf("%s is a push consumer: read it with `natsctl consumer sub %s %s`", o.Name, o.Stream, o.Name)
		}
		f, n := o.handler(ctx, ci.Config.AckPolicy != jsclient.AckNone, true)
		_, err = js.Fetch(ctx, o.Stream, o.Name, jsclient.PullRequest{Batch: o.Count, Expires: o.Wait}, f)
		if err != nil && !errors.Is(err, jsclient.ErrStop) {
			return o.explain(err)
		}
		if *n < o.Count {
			fmt.Fprintf(o.IO.ErrOut, "%d of %d messages within %s\n", *n, o.Count, o.Wait)
		}
		return nil
	})
}

func runConsumerSub(ctx context.Context, o *consumerOptions) error {
	if o.Count < 0 {
		return errors.New("--count must not be negative")
	}
	return o.withJS(ctx, func(js *jsclient.JS) error {
		ci, _, err := js.ConsumerInfo(ctx, o.Stream, o.Name)
		if err != nil {
			return o.explain(err)
		}
		f, _ := o.handler(ctx, ci.Config.AckPolicy != jsclient.AckNone, false)
		fmt.Fprintf(o.IO.ErrOut, "Reading %s consumer %s > %s (Ctrl-C to stop)\n", consumerKind(&ci.Config), o.Stream, o.Name)
		if ci.Config.DeliverSubject != "" {
			err = js.ConsumePush(ctx, ci, f)
		} else {
			err = js.Consume(ctx, o.Stream, o.Name, 100, f)
		}
		if ctx.Err() != nil {
			err = nil // Ctrl-C
		}
		if err != nil {
			return o.explain(err)
		}
		return drainQuietly(js.Conn())
	})
}
