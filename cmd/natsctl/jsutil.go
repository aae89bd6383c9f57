package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/spf13/cobra"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/iostreams"
	"github.com/natsctl/natsctl/internal/jsclient"
	"github.com/natsctl/natsctl/internal/streaming"
)

// jsOptions are what every JetStream command (consumer, kv, object,
// stream sub/view/edit) shares: streams, a connection and --json.
type jsOptions struct {
	IO      *iostreams.IOStreams
	Connect func(context.Context) (*client.Conn, error)
	JSON    bool
}

// bindJS adds the connection flags and --json to cmd.
func (o *jsOptions) bindJS(cmd *cobra.Command, d *deps, jsonHelp string) {
	o.IO = d.IO
	o.Connect = addConnFlags(cmd, d).connect
	if jsonHelp != "" {
		cmd.Flags().BoolVar(&o.JSON, "json", false, jsonHelp)
	}
}

// withJS connects, runs f with a JetStream context and closes.
func (o *jsOptions) withJS(ctx context.Context, f func(*jsclient.JS) error) error {
	nc, err := o.Connect(ctx)
	if err != nil {
		return err
	}
	defer nc.Close()
	return f(jsclient.New(nc))
}

// printValue prints v as indented JSON.
func (o *jsOptions) printValue(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(o.IO.Out, string(b))
	return err
}

// printRaw prints an API reply as indented JSON.
func (o *jsOptions) printRaw(raw []byte) error {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	return o.printValue(v)
}

// printLine prints one compact JSON object per line (--json of streams of
// messages or entries).
func (o *jsOptions) printLine(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = o.IO.Out.Write(append(b, '\n'))
	return err
}

// writeTable prints rows under header: a table on a terminal, tab-separated
// lines (header first) in a pipe.
func writeTable(ios *iostreams.IOStreams, header []string, rows [][]string) error {
	if !ios.OutTTY {
		var b strings.Builder
		for _, r := range append([][]string{header}, rows...) {
			b.WriteString(strings.Join(r, "\t"))
			b.WriteByte('\n')
		}
		_, err := io.WriteString(ios.Out, b.String())
		return err
	}
	t := tablewriter.NewWriter(ios.Out)
	t.Header(header)
	for _, r := range rows {
		if err := t.Append(r); err != nil {
			return err
		}
	}
	return t.Render()
}

// writeFields prints "Name: value" rows (blank values skipped).
func writeFields(w io.Writer, rows [][2]string) error {
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	var b strings.Builder
	for _, r := range rows {
		if r[1] != "" {
			fmt.Fprintf(&b, "%*s: %s\n", width, r[0], r[1])
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// textOrBase64 is how --json shows payloads: text when valid UTF-8, else
// base64 in the *_base64 field.
func textOrBase64(b []byte) (text *string, b64 []byte) {
	if utf8.Valid(b) {
		s := string(b)
		return &s, nil
	}
	return nil, b
}

// sinceFlag parses --since: a duration ago (1h, 30m) or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("--since %s: give a positive duration (1h) or a time", s)
		}
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.DateTime, time.DateOnly} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q: want a duration such as 1h or 30m, or a time such as 2026-01-02T15:04:05Z", s)
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format(time.DateTime)
}

func sizeText(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// parseStorage reads a --storage flag (file or memory) for bucket commands.
func parseStorage(flag string, dst *streaming.Storage) error {
	if err := dst.UnmarshalJSON([]byte(strconv.Quote(flag))); err != nil {
		return fmt.Errorf("--storage %s: want file or memory", flag)
	}
	return nil
}
