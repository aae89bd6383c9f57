package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/natsctl/natsctl/internal/jsclient"
)

// streamViewOptions are `natsctl stream view`'s.
type streamViewOptions struct {
	jsOptions
	Stream   string
	Subject  string
	Seq      uint64
	PageSize int
	Count    int
	Raw      bool
}

func newStreamViewCmd(d *deps, runF func(context.Context, *streamViewOptions) error) *cobra.Command {
	o := &streamViewOptions{}
	cmd := &cobra.Command{
		Use:   "view STREAM",
		Short: "Page through a stream's stored messages",
		Long: `Print stored messages from --seq on (default: the first), --page-size at a
time. On a terminal it asks before each next page; in a pipe it prints
every message (or --count of them). Reads use STREAM.MSG.GET, so no
consumer is created.`,
		Example: `  natsctl stream view ORDERS
  natsctl stream view ORDERS --subject 'orders.eu.>' --seq 500 --page-size 20
  natsctl stream view ORDERS --json --count 100 > orders.jsonl`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Stream = args[0]
			return runF(cmd.Context(), o)
		},
	}
	o.bindJS(cmd, d, "print one JSON object per message")
	f := cmd.Flags()
	f.StringVar(&o.Subject, "subject", "", "only messages on this subject (wildcards allowed)")
	f.Uint64Var(&o.Seq, "seq", 1, "start at this sequence")
	f.IntVar(&o.PageSize, "page-size", 10, "messages per page")
	f.IntVarP(&o.Count, "count", "n", 0, "stop after this many messages (0: all)")
	f.BoolVar(&o.Raw, "raw", false, "print only bodies")
	return cmd
}

// viewedMsg is the --json form of a stored message.
type viewedMsg struct {
	Stream     string              `json:"stream"`
	Seq        uint64              `json:"seq"`
	Subject    string              `json:"subject"`
	Time       time.Time           `json:"time"`
	Headers    map[string][]string `json:"headers,omitempty"`
	Data       *string             `json:"data,omitempty"`
	DataBase64 []byte              `json:"data_base64,omitempty"`
}

func runStreamView(ctx context.Context, o *streamViewOptions) error {
	if o.PageSize <= 0 || o.Count < 0 {
		return errors.New("--page-size must be positive and --count not negative")
	}
	filter := o.Subject
	if filter == "" {
		filter = ">"
	} else if err := checkSubject(filter, true); err != nil {
		return err
	}
	interactive := o.IO.OutTTY && o.IO.InTTY && !o.JSON
	in := bufio.NewReader(o.IO.In)
	return o.withJS(ctx, func(js *jsclient.JS) error {
		seq, shown := max(o.Seq, 1), 0
		for {
			m, err := js.GetMsg(ctx, o.Stream, jsclient.MsgGetRequest{Seq: seq, NextBySubj: filter})
			if jsclient.IsAPIError(err, jsclient.ErrCodeNoMessageFound) {
				if shown == 0 {
					fmt.Fprintf(o.IO.ErrOut, "no messages in %s from sequence %d\n", o.Stream, seq)
				}
				return nil
			}
			if err != nil {
				return err
			}
			if err := o.print(m); err != nil {
				return err
			}
			shown++
			seq = m.Sequence + 1
			if o.Count > 0 && shown >= o.Count {
				return nil
			}
			if interactive && shown%o.PageSize == 0 {
				fmt.Fprint(o.IO.ErrOut, "Next page? [Y/n] ")
				line, err := in.ReadString('\n')
				if err != nil || strings.HasPrefix(strings.ToLower(strings.TrimSpace(line)), "n") {
					return nil
				}
			}
		}
	})
}

func (o *streamViewOptions) print(m *jsclient.StoredMsg) error {
	if o.JSON {
		v := viewedMsg{Stream: o.Stream, Seq: m.Sequence, Subject: m.Subject, Time: m.Time, Headers: m.Header}
		v.Data, v.DataBase64 = textOrBase64(m.Data)
		return o.printLine(v)
	}
	if o.Raw {
		_, err := fmt.Fprintln(o.IO.Out, string(m.Data))
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[%d] %s %s\n", m.Sequence, m.Time.Local().Format(time.RFC3339Nano), m.Subject)
	keys := make([]string, 0, len(m.Header))
	for k := range m.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range m.Header[k] {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	if len(keys) > 0 {
		b.WriteString("\n")
	}
	b.Write(m.Data)
	b.WriteString("\n\n")
	_, err := fmt.Fprint(o.IO.Out, b.String())
	return err
}
