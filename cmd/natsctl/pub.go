package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"text/template"
	"time"

	"github.com/spf13/cobra"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/iostreams"
)

type pubOptions struct {
	IO      *iostreams.IOStreams
	Connect func(context.Context) (*client.Conn, error)

	Subject string
	Body    string
	HasBody bool // Body came from the command line
	Headers []string
	Reply   string
	Count   int
	Sleep   time.Duration
	Lines   bool
	Quiet   bool
}

func newPubCmd(d *deps, runF func(context.Context, *pubOptions) error) *cobra.Command {
	opts := &pubOptions{IO: d.IO}
	cmd := &cobra.Command{
		Use:   "pub SUBJECT [BODY]",
		Short: "Publish a message",
		Long: `Publish a message to SUBJECT. The body is BODY or, when absent, standard
input. Subject and body are Go templates:

  {{.Count}}          message number, from 1
  {{.Time}}           current time (RFC 3339)
  {{.Unix}}           current Unix time in seconds
  {{.ID}}             a unique id
  {{Random 10 100}}   random text of 10 to 100 characters`,
		Example: `  natsctl pub orders.new '{"id":1}'
  echo hello | natsctl pub greet
  natsctl pub -H trace:on --reply replies.here svc.ping ping
  natsctl pub sensors.temp --count 10 --sleep 1s 'reading {{.Count}} at {{.Time}}'
  tail -f app.log | natsctl pub logs.app --lines`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Subject = args[0]
			if len(args) == 2 {
				opts.Body, opts.HasBody = args[1], true
			}
			return runF(cmd.Context(), opts)
		},
	}
	cf := addConnFlags(cmd, d)
	opts.Connect = cf.connect
	f := cmd.Flags()
	f.StringArrayVarP(&opts.Headers, "header", "H", nil, "header key:value (repeatable)")
	f.StringVar(&opts.Reply, "reply", "", "reply subject")
	f.IntVarP(&opts.Count, "count", "n", 1, "number of messages to publish")
	f.DurationVar(&opts.Sleep, "sleep", 0, "pause between messages")
	f.BoolVar(&opts.Lines, "lines", false, "publish each line of standard input as a message")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "no confirmation on standard error")
	return cmd
}

// tmplData is what templates see.
type tmplData struct {
	Count   int
	Time    string
	Unix    int64
	ID      string
	Request string // reply only: the request body
}

func newTmplData(n int) tmplData {
	now := time.Now()
	return tmplData{Count: n, Time: now.Format(time.RFC3339), Unix: now.Unix(), ID: client.NewInbox()[len("_INBOX."):]}
}

var tmplFuncs = template.FuncMap{
	// Random returns random letters and digits, between lo and hi long.
	"Random": func(lo, hi int) string {
		if hi < lo {
			lo, hi = hi, lo
		}
		n := lo
		if hi > lo {
			n += rand.N(hi - lo + 1)
		}
		const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		b := make([]byte, max(n, 0))
		for i := range b {
			b[i] = chars[rand.N(len(chars))]
		}
		return string(b)
	},
}

// textTemplate is s compiled, or nil when s has no template actions (then it
// is used as it is, at no cost per message).
type textTemplate struct {
	raw string
	t   *template.Template
}

func compileTemplate(what, s string) (textTemplate, error) {
	if !strings.Contains(s, "{{") {
		return textTemplate{raw: s}, nil
	}
	t, err := template.New(what).Funcs(tmplFuncs).Option("missingkey=error").Parse(s)
	if err != nil {
		return textTemplate{}, fmt.Errorf("bad template in %s: %w", what, err)
	}
	return textTemplate{raw: s, t: t}, nil
}

func (tt textTemplate) render(d tmplData) (string, error) {
	if tt.t == nil {
		return tt.raw, nil
	}
	var b strings.Builder
	if err := tt.t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("template %s: %w", tt.t.Name(), err)
	}
	return b.String(), nil
}

func runPub(ctx context.Context, o *pubOptions) error {
	subjT, err := compileTemplate("subject", o.Subject)
	if err != nil {
		return err
	}
	if subjT.t == nil {
		if err := checkSubject(o.Subject, false); err != nil {
			return err
		}
	}
	if o.Reply != "" {
		if err := checkSubject(o.Reply, false); err != nil {
			return fmt.Errorf("--reply: %w", err)
		}
	}
	hdr, err := parseHeaders(o.Headers)
	if err != nil {
		return err
	}
	if o.Count < 1 {
		return fmt.Errorf("--count must be at least 1")
	}
	var body textTemplate
	var stdinBody []byte
	switch {
	case o.Lines:
		if o.HasBody {
			return fmt.Errorf("--lines publishes standard input: give no BODY argument")
		}
	case o.HasBody:
		if body, err = compileTemplate("body", o.Body); err != nil {
			return err
		}
	default:
		if stdinBody, err = io.ReadAll(o.IO.In); err != nil {
			return fmt.Errorf("read body from standard input: %w", err)
		}
		if body, err = compileTemplate("body", string(stdinBody)); err != nil {
			return err
		}
	}

	nc, err := o.Connect(ctx)
	if err != nil {
		return err
	}
	defer nc.Close()

	published, bytesOut := 0, 0
	send := func(n int, data []byte) error {
		d := newTmplData(n)
		subj, err := subjT.render(d)
		if err != nil {
			return err
		}
		if subjT.t != nil {
			if err := checkSubject(subj, false); err != nil {
				return err
			}
		}
		m := &client.Msg{Subject: subj, Reply: o.Reply, Header: hdr, Data: data}
		if data == nil {
			s, err := body.render(d)
			if err != nil {
				return err
			}
			m.Data = []byte(s)
		}
		if err := nc.PublishMsg(m); err != nil {
			return fmt.Errorf("publish to %q: %w", subj, err)
		}
		published++
		bytesOut += len(m.Data)
		if !o.Quiet && o.Count == 1 && !o.Lines {
			fmt.Fprintf(o.IO.ErrOut, "Published %d bytes to %q\n", len(m.Data), subj)
		}
		return nil
	}

	if o.Lines {
		sc := bufio.NewScanner(o.IO.In)
		sc.Buffer(make([]byte, 64<<10), 8<<20)
		for n := 1; sc.Scan(); n++ {
			if err := send(n, bytes.Clone(sc.Bytes())); err != nil {
				return err
			}
			if err := pause(ctx, o.Sleep); err != nil {
				break
			}
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("read standard input: %w", err)
		}
	} else {
		for n := 1; n <= o.Count; n++ {
			if n > 1 {
				if err := pause(ctx, o.Sleep); err != nil {
					break // Ctrl-C: stop and flush what was published
				}
			}
			if err := send(n, nil); err != nil {
				return err
			}
		}
	}
	if err := nc.FlushBeforeExit(ctx, defaultTimeout); err != nil {
		if errors.Is(err, client.ErrInterruptedDisconnected) {
			return fmt.Errorf("%w: %d messages published, the last not confirmed", err, published)
		}
		return fmt.Errorf("flush: %w", err)
	}
	if !o.Quiet && (o.Count > 1 || o.Lines) {
		fmt.Fprintf(o.IO.ErrOut, "Published %d messages (%d bytes)\n", published, bytesOut)
	}
	return nil
}

// pause waits d, or returns ctx's error if it ends first.
func pause(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
