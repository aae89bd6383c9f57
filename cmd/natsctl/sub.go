package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/iostreams"
	"github.com/natsctl/natsctl/internal/subject"
)

type subOptions struct {
	IO      *iostreams.IOStreams
	Connect func(context.Context) (*client.Conn, error)

	Subjects    []string
	Queue       string
	Count       int
	Raw         bool
	HeadersOnly bool
	JSON        bool
	Wait        time.Duration
}

func newSubCmd(d *deps, runF func(context.Context, *subOptions) error) *cobra.Command {
	opts := &subOptions{IO: d.IO}
	cmd := &cobra.Command{
		Use:   "sub SUBJECT...",
		Short: "Subscribe and print messages",
		Long: `Subscribe to one or more subjects (wildcards * and > allowed) and print
each message: number, subject, reply subject, headers and body. Ctrl-C
drains the subscription and exits.`,
		Example: `  natsctl sub 'orders.>'
  natsctl sub --queue workers jobs
  natsctl sub --count 3 --raw greet > out.txt
  natsctl sub --json 'sensors.*' | jq .data
  natsctl sub --wait 5s events`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Subjects = args
			return runF(cmd.Context(), opts)
		},
	}
	cf := addConnFlags(cmd, d)
	opts.Connect = cf.connect
	f := cmd.Flags()
	f.StringVar(&opts.Queue, "queue", "", "subscribe in this queue group")
	f.IntVarP(&opts.Count, "count", "n", 0, "exit after this many messages (0: no limit)")
	f.BoolVar(&opts.Raw, "raw", false, "print only each body, followed by a newline")
	f.BoolVar(&opts.HeadersOnly, "headers-only", false, "print only subjects and headers")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON object per message")
	f.DurationVar(&opts.Wait, "wait", 0, "exit when nothing arrives for this long")
	return cmd
}

func runSub(ctx context.Context, o *subOptions) error {
	for _, s := range o.Subjects {
		if err := checkSubject(s, true); err != nil {
			return err
		}
	}
	if o.Queue != "" && !subject.ValidQueue(o.Queue) {
		return fmt.Errorf("bad queue group %q: use a name without spaces", o.Queue)
	}
	if o.Count < 0 {
		return fmt.Errorf("--count must not be negative")
	}
	nc, err := o.Connect(ctx)
	if err != nil {
		return err
	}
	defer nc.Close()

	ch := make(chan *client.Msg, 1024)
	for _, s := range o.Subjects {
		var sub *client.Subscription
		if o.Queue != "" {
			sub, err = nc.ChanQueueSubscribe(s, o.Queue, ch)
		} else {
			sub, err = nc.ChanSubscribe(s, ch)
		}
		if err != nil {
			return fmt.Errorf("subscribe to %q: %w", s, err)
		}
		if o.Count > 0 && len(o.Subjects) == 1 {
			_ = sub.AutoUnsubscribe(o.Count)
		}
	}
	// Once the server has answered a PING, it has our subscriptions: say so,
	// so that scripts (and people) know when publishing will be seen.
	if err := flushTimeout(ctx, nc); err != nil {
		return err
	}
	fmt.Fprintf(o.IO.ErrOut, "Subscribed to %v\n", o.Subjects)

	p := newMsgPrinter(o.IO, o.Raw, o.HeadersOnly, o.JSON)
	var idle <-chan time.Time
	var idleT *time.Timer
	if o.Wait > 0 {
		idleT = time.NewTimer(o.Wait)
		defer idleT.Stop()
		idle = idleT.C
	}
	n := 0
	for o.Count == 0 || n < o.Count {
		select {
		case m := <-ch:
			n++
			if err := p.print(n, m, 0); err != nil {
				return err
			}
			if idleT != nil {
				idleT.Reset(o.Wait)
			}
		case <-idle:
			return drainPrinting(nc, ch, p, n, o.Count)
		case <-ctx.Done():
			return drainPrinting(nc, ch, p, n, o.Count)
		case <-nc.Closed():
			return fmt.Errorf("connection closed: %v", nc.LastError())
		}
	}
	return nil // the deferred Close ends the subscriptions
}

// drainPrinting drains the connection while still printing what was already
// on its way, up to count (0: no limit).
func drainPrinting(nc *client.Conn, ch <-chan *client.Msg, p *msgPrinter, n, count int) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = drainQuietly(nc)
	}()
	for {
		select {
		case m := <-ch:
			if count > 0 && n >= count {
				continue
			}
			n++
			if err := p.print(n, m, 0); err != nil {
				return err
			}
		case <-done:
			return nil
		}
	}
}

func flushTimeout(ctx context.Context, nc *client.Conn) error {
	ctx, cancel := context.WithTimeout(ctx, defaultTimeout)
	defer cancel()
	if err := nc.Flush(ctx); err != nil {
		return fmt.Errorf("no answer from the server: %w", err)
	}
	return nil
}

// drainQuietly ends a command: unsubscribe, process what arrived, close.
func drainQuietly(nc *client.Conn) error {
	ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
	defer cancel()
	_ = nc.Drain(ctx)
	return nil
}

// msgPrinter prints received messages in the chosen format.
type msgPrinter struct {
	w                      io.Writer
	raw, headersOnly, json bool
	st                     style
}

func newMsgPrinter(ios *iostreams.IOStreams, raw, headersOnly, asJSON bool) *msgPrinter {
	return &msgPrinter{w: ios.Out, raw: raw, headersOnly: headersOnly, json: asJSON, st: style{on: ios.OutTTY}}
}

// jsonMsg is the --json form of a message: data as UTF-8 text when it is
// valid UTF-8, else base64 in data_base64.
type jsonMsg struct {
	Seq        int                 `json:"seq"`
	Subject    string              `json:"subject"`
	Reply      string              `json:"reply,omitempty"`
	Headers    map[string][]string `json:"headers,omitempty"`
	Data       *string             `json:"data,omitempty"`
	DataBase64 string              `json:"data_base64,omitempty"`
	Received   time.Time           `json:"received"`
	RTT        string              `json:"rtt,omitempty"`
}

// print writes message n; rtt > 0 is shown for request replies.
func (p *msgPrinter) print(n int, m *client.Msg, rtt time.Duration) error {
	switch {
	case p.json:
		j := jsonMsg{Seq: n, Subject: m.Subject, Reply: m.Reply, Headers: m.Header, Received: time.Now().UTC()}
		if rtt > 0 {
			j.RTT = rtt.String()
		}
		if !p.headersOnly {
			if utf8.Valid(m.Data) {
				s := string(m.Data)
				j.Data = &s
			} else {
				j.DataBase64 = base64.StdEncoding.EncodeToString(m.Data)
			}
		}
		b, err := json.Marshal(j)
		if err != nil {
			return err
		}
		_, err = p.w.Write(append(b, '\n'))
		return err
	case p.raw && !p.headersOnly:
		if _, err := p.w.Write(m.Data); err != nil {
			return err
		}
		_, err := p.w.Write([]byte{'\n'})
		return err
	}
	var b []byte
	b = fmt.Appendf(b, "%s Received on %s", p.st.dim(fmt.Sprintf("[#%d]", n)), p.st.bold(fmt.Sprintf("%q", m.Subject)))
	if m.Reply != "" {
		b = fmt.Appendf(b, " with reply %q", m.Reply)
	}
	if rtt > 0 {
		b = fmt.Appendf(b, " rtt %s", rtt.Round(time.Microsecond))
	}
	b = append(b, '\n')
	keys := make([]string, 0, len(m.Header))
	for k := range m.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range m.Header[k] {
			b = fmt.Appendf(b, "%s: %s\n", p.st.cyan(k), v)
		}
	}
	if !p.headersOnly {
		if len(keys) > 0 {
			b = append(b, '\n')
		}
		b = append(b, m.Data...)
		b = append(b, '\n')
	}
	b = append(b, '\n')
	_, err := p.w.Write(b)
	return err
}

// style adds ANSI colour on a terminal and nothing in a pipe.
type style struct{ on bool }

func (s style) wrap(code, t string) string {
	if !s.on {
		return t
	}
	return "\x1b[" + code + "m" + t + "\x1b[0m"
}
func (s style) bold(t string) string { return s.wrap("1", t) }
func (s style) dim(t string) string  { return s.wrap("2", t) }
func (s style) cyan(t string) string { return s.wrap("36", t) }
