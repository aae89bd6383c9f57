package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/jsclient"
)

// streamSubOptions are `natsctl stream sub`'s.
type streamSubOptions struct {
	jsOptions
	Stream         string
	Subjects       []string
	Seq            uint64
	Since          string
	Last           bool
	LastPerSubject bool
	New            bool
	Follow         bool
	Count          int
	Raw            bool
	HeadersOnly    bool

	now func() time.Time
}

func newStreamSubCmd(d *deps, runF func(context.Context, *streamSubOptions) error) *cobra.Command {
	o := &streamSubOptions{now: time.Now}
	cmd := &cobra.Command{
		Use:   "sub STREAM",
		Short: "Replay a stream's messages in order, without creating a durable consumer",
		Long: `Replay a stream through an ephemeral ordered consumer: from the start, a
sequence (--seq), a time (--since 1h), the last message (--last) or the last
message of each subject (--last-per-subject). Messages print as with
natsctl sub. The replay ends once everything stored when it started is
printed; --follow keeps printing new messages until Ctrl-C.`,
		Example: `  natsctl stream sub ORDERS --since 1h
  natsctl stream sub ORDERS --seq 1000 --count 10 --json
  natsctl stream sub ORDERS --last-per-subject --subject 'orders.*'
  natsctl stream sub ORDERS --new --follow --raw`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Stream = args[0]
			return runF(cmd.Context(), o)
		},
	}
	o.bindJS(cmd, d, "print one JSON object per message")
	f := cmd.Flags()
	f.StringSliceVar(&o.Subjects, "subject", nil, "only messages on these subjects (wildcards allowed)")
	f.Uint64Var(&o.Seq, "seq", 0, "start at this stream sequence")
	f.StringVar(&o.Since, "since", "", "start at messages newer than a duration ago (1h) or a time (RFC 3339)")
	f.BoolVar(&o.Last, "last", false, "start with the last message")
	f.BoolVar(&o.LastPerSubject, "last-per-subject", false, "start with the last message of each subject")
	f.BoolVar(&o.New, "new", false, "only messages stored from now on (implies --follow)")
	f.BoolVarP(&o.Follow, "follow", "f", false, "keep printing new messages until Ctrl-C")
	f.IntVarP(&o.Count, "count", "n", 0, "exit after this many messages (0: no limit)")
	f.BoolVar(&o.Raw, "raw", false, "print only each body, followed by a newline")
	f.BoolVar(&o.HeadersOnly, "headers-only", false, "print only subjects and headers")
	cmd.MarkFlagsMutuallyExclusive("seq", "since", "last", "last-per-subject", "new")
	return cmd
}

func runStreamSub(ctx context.Context, o *streamSubOptions) error {
	ro := jsclient.ReplayOptions{Filters: o.Subjects, Follow: o.Follow || o.New, HeadersOnly: o.HeadersOnly}
	switch {
	case o.Seq > 0:
		ro.Deliver, ro.StartSeq = jsclient.DeliverByStartSequence, o.Seq
	case o.Since != "":
		t, err := parseSince(o.Since, o.now())
		if err != nil {
			return err
		}
		ro.Deliver, ro.StartTime = jsclient.DeliverByStartTime, t
	case o.Last:
		ro.Deliver = jsclient.DeliverLast
	case o.LastPerSubject:
		ro.Deliver = jsclient.DeliverLastPerSubject
	case o.New:
		ro.Deliver = jsclient.DeliverNew
	}
	for _, s := range o.Subjects {
		if err := checkSubject(s, true); err != nil {
			return err
		}
	}
	if o.Count < 0 {
		return errors.New("--count must not be negative")
	}
	return o.withJS(ctx, func(js *jsclient.JS) error {
		p := newMsgPrinter(o.IO, o.Raw, o.HeadersOnly, o.JSON)
		n := 0
		if ro.Follow {
			fmt.Fprintf(o.IO.ErrOut, "Replaying %s (Ctrl-C to stop)\n", o.Stream)
		}
		err := js.Replay(ctx, o.Stream, ro, func(m *jsclient.Msg) error {
			n++
			// The ack subject is an implementation detail of the replay.
			if err := p.print(int(m.Meta.StreamSeq), &client.Msg{Subject: m.Subject, Header: m.Header, Data: m.Data}, 0); err != nil {
				return err
			}
			if o.Count > 0 && n >= o.Count {
				return jsclient.ErrStop
			}
			return nil
		})
		if ctx.Err() != nil {
			return nil // Ctrl-C
		}
		if jsclient.IsAPIError(err, jsclient.ErrCodeStreamNotFound) {
			return fmt.Errorf("no stream %s: see `natsctl stream ls`", o.Stream)
		}
		return err
	})
}
