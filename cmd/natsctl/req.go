package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/iostreams"
)

type reqOptions struct {
	IO      *iostreams.IOStreams
	Connect func(context.Context) (*client.Conn, error)

	Subject string
	Body    string
	HasBody bool
	Headers []string
	Timeout time.Duration
	Replies int
	Count   int
	Sleep   time.Duration
	Raw     bool
	JSON    bool
}

func newReqCmd(d *deps, runF func(context.Context, *reqOptions) error) *cobra.Command {
	opts := &reqOptions{IO: d.IO}
	var cf *connFlags
	cmd := &cobra.Command{
		Use:     "req SUBJECT [BODY]",
		Aliases: []string{"request"},
		Short:   "Send a request and print the reply",
		Long: `Send a request to SUBJECT and wait for the reply. The body is BODY or,
when absent, standard input; it is a template like pub's ({{.Count}},
{{.Time}}, ...). With --replies N it collects N replies (0: all that
arrive before the timeout). "No responders" (nobody subscribed) and a
timeout are distinct errors; both exit with status 1.`,
		Example: `  natsctl req svc.time ''
  natsctl req -H auth:xyz users.get '{"id":7}'
  natsctl req --replies 0 --timeout 1s discovery.ping ''
  natsctl req --count 5 --sleep 1s --raw svc.echo 'ping {{.Count}}'`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Subject = args[0]
			if len(args) == 2 {
				opts.Body, opts.HasBody = args[1], true
			}
			o, err := cf.options()
			if err != nil {
				return err
			}
			opts.Timeout = o.Timeout
			return runF(cmd.Context(), opts)
		},
	}
	cf = addConnFlags(cmd, d)
	opts.Connect = cf.connect
	f := cmd.Flags()
	f.StringArrayVarP(&opts.Headers, "header", "H", nil, "header key:value (repeatable)")
	f.IntVar(&opts.Replies, "replies", 1, "replies to wait for (0: all until the timeout)")
	f.IntVarP(&opts.Count, "count", "n", 1, "number of requests")
	f.DurationVar(&opts.Sleep, "sleep", 0, "pause between requests")
	f.BoolVar(&opts.Raw, "raw", false, "print only reply bodies, each followed by a newline")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON object per reply")
	return cmd
}

func runReq(ctx context.Context, o *reqOptions) error {
	if err := checkSubject(o.Subject, false); err != nil {
		return err
	}
	hdr, err := parseHeaders(o.Headers)
	if err != nil {
		return err
	}
	if o.Count < 1 || o.Replies < 0 {
		return fmt.Errorf("--count must be at least 1 and --replies not negative")
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	src := o.Body
	if !o.HasBody {
		b, err := io.ReadAll(o.IO.In)
		if err != nil {
			return fmt.Errorf("read body from standard input: %w", err)
		}
		src = string(b)
	}
	body, err := compileTemplate("body", src)
	if err != nil {
		return err
	}
	nc, err := o.Connect(ctx)
	if err != nil {
		return err
	}
	defer nc.Close()

	p := newMsgPrinter(o.IO, o.Raw, false, o.JSON)
	seq := 0
	for n := 1; n <= o.Count; n++ {
		if n > 1 {
			if err := pause(ctx, o.Sleep); err != nil {
				return nil // Ctrl-C between requests: a clean stop
			}
		}
		data, err := body.render(newTmplData(n))
		if err != nil {
			return err
		}
		m := &client.Msg{Subject: o.Subject, Header: hdr, Data: []byte(data)}
		if o.Replies == 1 {
			start := time.Now()
			rctx, cancel := context.WithTimeout(ctx, o.Timeout)
			r, err := nc.RequestMsg(rctx, m)
			cancel()
			if err != nil {
				return o.explain(err)
			}
			seq++
			if err := p.print(seq, r, time.Since(start)); err != nil {
				return err
			}
			continue
		}
		if seq, err = o.collect(ctx, nc, m, p, seq); err != nil {
			return err
		}
	}
	return nil
}

// collect sends one request on its own inbox and prints replies until
// o.Replies have come (0: until the timeout).
func (o *reqOptions) collect(ctx context.Context, nc *client.Conn, m *client.Msg, p *msgPrinter, seq int) (int, error) {
	inbox := client.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return seq, err
	}
	defer sub.Unsubscribe()
	if o.Replies > 0 {
		_ = sub.AutoUnsubscribe(o.Replies)
	}
	m.Reply = inbox
	start := time.Now()
	if err := nc.PublishMsg(m); err != nil {
		return seq, err
	}
	rctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	got := 0
	for o.Replies == 0 || got < o.Replies {
		r, err := sub.NextMsgContext(rctx)
		if err != nil {
			if got > 0 && (o.Replies == 0 || errors.Is(err, context.Canceled)) {
				return seq, nil // all that came before the timeout
			}
			return seq, o.explain(err)
		}
		if client.IsNoResponders(r) {
			return seq, o.explain(client.ErrNoResponders)
		}
		got++
		seq++
		if err := p.print(seq, r, time.Since(start)); err != nil {
			return seq, err
		}
	}
	return seq, nil
}

func (o *reqOptions) explain(err error) error {
	switch {
	case errors.Is(err, client.ErrNoResponders):
		return fmt.Errorf("no responders on %q: nothing is subscribed to it (start one with `natsctl reply %s`)", o.Subject, o.Subject)
	case errors.Is(err, client.ErrTimeout):
		return fmt.Errorf("no reply on %q within %s: the responder is slow or dropped it (raise --timeout)", o.Subject, o.Timeout)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("interrupted while waiting for a reply on %q", o.Subject)
	}
	return fmt.Errorf("request to %q: %w", o.Subject, err)
}
