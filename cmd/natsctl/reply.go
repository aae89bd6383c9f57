package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/iostreams"
	"github.com/natsctl/natsctl/internal/subject"
)

// defaultReplyQueue makes several `natsctl reply` on one subject share the
// requests instead of all answering each one.
const defaultReplyQueue = "natsctl-reply"

type replyOptions struct {
	IO      *iostreams.IOStreams
	Connect func(context.Context) (*client.Conn, error)

	Subject string
	Body    string
	Echo    bool
	Command string
	Queue   string
	Count   int
	Quiet   bool
}

func newReplyCmd(d *deps, runF func(context.Context, *replyOptions) error) *cobra.Command {
	opts := &replyOptions{IO: d.IO}
	cmd := &cobra.Command{
		Use:   "reply SUBJECT [BODY]",
		Short: "Answer requests",
		Long: `Answer requests on SUBJECT with BODY, a template: {{.Count}} is the
request number, {{.Request}} its body (plus pub's {{.Time}}, {{.ID}}, ...).
--echo returns each request with headers describing it; --command runs a
shell command with the request on standard input and replies with its
output. Repliers join the queue group "natsctl-reply" unless --queue says
otherwise, so that several of them share the load.`,
		Example: `  natsctl reply svc.time '{{.Time}}'
  natsctl reply svc.echo --echo
  natsctl reply svc.upper --command 'tr a-z A-Z'
  natsctl reply --queue "" svc.all 'every replier answers'
  natsctl reply --count 1 svc.once 'only one answer'`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Subject = args[0]
			if len(args) == 2 {
				opts.Body = args[1]
			}
			return runF(cmd.Context(), opts)
		},
	}
	cf := addConnFlags(cmd, d)
	opts.Connect = cf.connect
	f := cmd.Flags()
	f.BoolVar(&opts.Echo, "echo", false, "reply with the request itself, plus headers describing it")
	f.StringVar(&opts.Command, "command", "", "shell command: request on its standard input, reply from its output")
	f.StringVar(&opts.Queue, "queue", defaultReplyQueue, `queue group ("" for none: every replier answers)`)
	f.IntVarP(&opts.Count, "count", "n", 0, "exit after this many requests (0: no limit)")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "do not log each request on standard error")
	return cmd
}

func runReply(ctx context.Context, o *replyOptions) error {
	if err := checkSubject(o.Subject, true); err != nil {
		return err
	}
	if o.Queue != "" && !subject.ValidQueue(o.Queue) {
		return fmt.Errorf("bad queue group %q: use a name without spaces", o.Queue)
	}
	modes := 0
	for _, on := range []bool{o.Echo, o.Command != "", o.Body != ""} {
		if on {
			modes++
		}
	}
	if modes > 1 {
		return fmt.Errorf("give one of BODY, --echo or --command")
	}
	body, err := compileTemplate("body", o.Body)
	if err != nil {
		return err
	}
	nc, err := o.Connect(ctx)
	if err != nil {
		return err
	}
	defer nc.Close()
	ch := make(chan *client.Msg, 64)
	if o.Queue != "" {
		_, err = nc.ChanQueueSubscribe(o.Subject, o.Queue, ch)
	} else {
		_, err = nc.ChanSubscribe(o.Subject, ch)
	}
	if err != nil {
		return fmt.Errorf("subscribe to %q: %w", o.Subject, err)
	}
	if err := flushTimeout(ctx, nc); err != nil {
		return err
	}
	fmt.Fprintf(o.IO.ErrOut, "Replying on %q\n", o.Subject)
	for n := 1; o.Count == 0 || n <= o.Count; n++ {
		var m *client.Msg
		select {
		case m = <-ch:
		case <-ctx.Done():
			return drainQuietly(nc)
		case <-nc.Closed():
			return fmt.Errorf("connection closed: %v", nc.LastError())
		}
		if !o.Quiet {
			fmt.Fprintf(o.IO.ErrOut, "[#%d] Received on %q\n", n, m.Subject)
		}
		if m.Reply == "" {
			continue // a plain publish: nobody to answer
		}
		r, err := o.answer(ctx, n, m, body)
		if err != nil {
			fmt.Fprintf(o.IO.ErrOut, "natsctl: request #%d: %v\n", n, err)
			continue
		}
		if err := m.RespondMsg(r); err != nil {
			fmt.Fprintf(o.IO.ErrOut, "natsctl: reply to #%d: %v\n", n, err)
		}
	}
	return drainQuietly(nc)
}

// answer builds the reply to request n.
func (o *replyOptions) answer(ctx context.Context, n int, m *client.Msg, body textTemplate) (*client.Msg, error) {
	switch {
	case o.Echo:
		h := client.Header{}
		for k, vs := range m.Header {
			if k != client.StatusHeader && k != client.DescriptionHeader {
				h[k] = vs
			}
		}
		h.Set("Natsctl-Subject", m.Subject)
		h.Set("Natsctl-Reply", m.Reply)
		h.Set("Natsctl-Received", time.Now().UTC().Format(time.RFC3339Nano))
		h.Set("Natsctl-Count", strconv.Itoa(n))
		return &client.Msg{Header: h, Data: m.Data}, nil
	case o.Command != "":
		cmd := exec.CommandContext(ctx, "sh", "-c", o.Command)
		cmd.Stdin = bytes.NewReader(m.Data)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, o.IO.ErrOut
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("--command %q: %w", o.Command, err)
		}
		return &client.Msg{Data: out.Bytes()}, nil
	}
	d := newTmplData(n)
	d.Request = string(m.Data)
	s, err := body.render(d)
	if err != nil {
		return nil, err
	}
	return &client.Msg{Data: []byte(s)}, nil
}
