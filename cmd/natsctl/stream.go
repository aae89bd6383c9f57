package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/iostreams"
	"github.com/natsctl/natsctl/internal/streaming"
)

// streamOptions serve every `natsctl stream` subcommand.
type streamOptions struct {
	IO      *iostreams.IOStreams
	Connect func(context.Context) (*client.Conn, error)
	JSON    bool

	Name       string
	Config     streaming.StreamConfig
	ConfigFile string
	File       string // backup file (stream_backup.go)
	Subject    string // purge filter, get last-by-subject
	Seq        uint64
	Keep       uint64
	NoErase    bool
}

func newStreamCmd(d *deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "stream",
		Aliases: []string{"str"},
		Short:   "Manage persistent streams (natsctl serve or nats-server with JetStream)",
	}
	cmd.AddCommand(
		newStreamSub(d, "add NAME", "Create a stream", `  natsctl stream add ORDERS --subjects 'orders.>' --max-msgs 1000000
  natsctl stream add --config orders.json`, cobra.MaximumNArgs(1), addStreamFlags, runStreamAdd),
		newStreamSub(d, "ls", "List streams", "  natsctl stream ls\n  natsctl stream ls --json", cobra.NoArgs, nil, runStreamLs),
		newStreamSub(d, "info NAME", "Show a stream's config and state", "  natsctl stream info ORDERS", cobra.ExactArgs(1), nil, runStreamInfo),
		newStreamSub(d, "rm NAME", "Delete a stream and its messages", "  natsctl stream rm ORDERS", cobra.ExactArgs(1), nil, runStreamRm),
		newStreamSub(d, "purge NAME", "Remove messages from a stream", `  natsctl stream purge ORDERS
  natsctl stream purge ORDERS --subject orders.old --keep 10`, cobra.ExactArgs(1), func(f *streamFlags) {
			f.cmd.Flags().StringVar(&f.o.Subject, "subject", "", "only messages on this subject (wildcards allowed)")
			f.cmd.Flags().Uint64Var(&f.o.Seq, "seq", 0, "only messages below this sequence")
			f.cmd.Flags().Uint64Var(&f.o.Keep, "keep", 0, "keep the newest N messages")
		}, runStreamPurge),
		newStreamSub(d, "get NAME", "Print one stored message", `  natsctl stream get ORDERS --seq 42
  natsctl stream get ORDERS --last orders.new`, cobra.ExactArgs(1), func(f *streamFlags) {
			f.cmd.Flags().Uint64Var(&f.o.Seq, "seq", 0, "sequence to get (with --last: the first at or after it)")
			f.cmd.Flags().StringVar(&f.o.Subject, "last", "", "the newest message on this subject")
		}, runStreamGet),
		newStreamSub(d, "rmm NAME SEQ", "Delete one message", "  natsctl stream rmm ORDERS 42\n  natsctl stream rmm ORDERS 42 --no-erase", cobra.ExactArgs(2), func(f *streamFlags) {
			f.cmd.Flags().BoolVar(&f.o.NoErase, "no-erase", false, "remove without overwriting the stored bytes")
		}, runStreamRmm),
		newStreamBackupCmd(d), newStreamRestoreCmd(d),
	)
	cmd.AddCommand(newStreamSubCmd(d, runStreamSub), newStreamEditCmd(d, runStreamEdit), newStreamViewCmd(d, runStreamView))
	return cmd
}

type streamFlags struct {
	cmd *cobra.Command
	o   *streamOptions
}

func newStreamSub(d *deps, use, short, example string, args cobra.PositionalArgs, flags func(*streamFlags),
	runF func(context.Context, *streamOptions) error) *cobra.Command {
	o := &streamOptions{IO: d.IO}
	cmd := &cobra.Command{Use: use, Short: short, Example: example, Args: args}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			o.Name = args[0]
		}
		if len(args) > 1 {
			if _, err := fmt.Sscan(args[1], &o.Seq); err != nil {
				return fmt.Errorf("sequence %q: want a positive number", args[1])
			}
		}
		return runF(cmd.Context(), o)
	}
	cf := addConnFlags(cmd, d)
	o.Connect = cf.connect
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print the API reply as JSON")
	if flags != nil {
		flags(&streamFlags{cmd: cmd, o: o})
	}
	return cmd
}

func addStreamFlags(f *streamFlags) {
	c, fl := &f.o.Config, f.cmd.Flags()
	fl.StringVar(&f.o.ConfigFile, "config", "", "stream config as JSON (nats-server's field names); flags override it")
	fl.StringSliceVar(&c.Subjects, "subjects", nil, "subjects the stream stores (default: the name)")
	fl.StringVar(&c.Description, "description", "", "description")
	fl.Int64Var(&c.MaxMsgs, "max-msgs", 0, "most messages kept (-1: unlimited)")
	fl.Int64Var(&c.MaxBytes, "max-bytes", 0, "most bytes kept (-1: unlimited)")
	fl.DurationVar(&c.MaxAge, "max-age", 0, "oldest message kept (0: unlimited)")
	fl.Int64Var(&c.MaxMsgsPerSubject, "max-msgs-per-subject", 0, "most messages kept per subject")
	fl.Int32Var(&c.MaxMsgSize, "max-msg-size", 0, "largest message accepted")
	fl.IntVar(&c.MaxConsumers, "max-consumers", 0, "most consumers")
	fl.DurationVar(&c.Duplicates, "dupe-window", 0, "Nats-Msg-Id de-duplication window (default 2m)")
	fl.BoolVar(&c.NoAck, "no-ack", false, "do not acknowledge publishes")
	fl.BoolVar(&c.DenyDelete, "deny-delete", false, "refuse message deletes")
	fl.BoolVar(&c.DenyPurge, "deny-purge", false, "refuse purges")
	fl.BoolVar(&c.AllowRollup, "allow-rollup", false, "allow Nats-Rollup headers")
	fl.BoolVar(&c.AllowDirect, "allow-direct", false, "allow direct gets")
	fl.BoolVar(&c.DiscardNewPerSubject, "discard-per-subject", false, "with --discard new, refuse per full subject")
	fl.IntVar(&c.Replicas, "replicas", 1, "replicas (1 on a single server)")
	fl.Var(enumFlag{func(s string) error { return c.Storage.UnmarshalJSON([]byte(`"` + s + `"`)) }, "file"}, "storage", "file or memory")
	fl.Var(enumFlag{func(s string) error { return c.Retention.UnmarshalJSON([]byte(`"` + s + `"`)) }, "limits"}, "retention", "limits, interest or workqueue")
	fl.Var(enumFlag{func(s string) error { return c.Discard.UnmarshalJSON([]byte(`"` + s + `"`)) }, "old"}, "discard", "old or new")
}

type enumFlag struct {
	set func(string) error
	def string
}

func (e enumFlag) String() string     { return e.def }
func (e enumFlag) Set(s string) error { return e.set(s) }
func (e enumFlag) Type() string       { return "string" }

// jsRequest sends a JetStream API request and decodes the reply into out,
// returning the API error when the reply carries one.
func jsRequest(ctx context.Context, nc *client.Conn, subj string, req, out any) ([]byte, error) {
	var body []byte
	if req != nil {
		var err error
		if body, err = json.Marshal(req); err != nil {
			return nil, err
		}
	}
	m, err := nc.Request(ctx, "$JS.API."+subj, body)
	if err != nil {
		if errors.Is(err, client.ErrNoResponders) {
			return nil, errors.New("no JetStream API at the server: run `natsctl serve` (streams are on by default) or nats-server -js")
		}
		return nil, err
	}
	var e struct {
		Error *streaming.APIError `json:"error"`
	}
	if err := json.Unmarshal(m.Data, &e); err != nil {
		return nil, fmt.Errorf("bad JetStream reply: %w", err)
	}
	if e.Error != nil {
		return m.Data, e.Error
	}
	if out != nil {
		if err := json.Unmarshal(m.Data, out); err != nil {
			return nil, fmt.Errorf("bad JetStream reply: %w", err)
		}
	}
	return m.Data, nil
}

func withConn(ctx context.Context, o *streamOptions, f func(*client.Conn) error) error {
	nc, err := o.Connect(ctx)
	if err != nil {
		return err
	}
	defer nc.Close()
	return f(nc)
}

func printJSON(o *streamOptions, raw []byte) error {
	var v any
	_ = json.Unmarshal(raw, &v)
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(o.IO.Out, string(b))
	return err
}

func runStreamAdd(ctx context.Context, o *streamOptions) error {
	cfg := o.Config
	if o.ConfigFile != "" {
		b, err := os.ReadFile(o.ConfigFile)
		if err != nil {
			return fmt.Errorf("--config: %w", err)
		}
		var fromFile streaming.StreamConfig
		if err := json.Unmarshal(b, &fromFile); err != nil {
			return fmt.Errorf("--config %s: %w", o.ConfigFile, err)
		}
		if len(cfg.Subjects) == 0 {
			cfg.Subjects = fromFile.Subjects
		}
		fromFile.Subjects = cfg.Subjects
		cfg = fromFile
	}
	if o.Name != "" {
		cfg.Name = o.Name
	}
	if cfg.Name == "" {
		return errors.New("a stream name is required: natsctl stream add NAME (or \"name\" in --config)")
	}
	if cfg.Compression == "" {
		cfg.Compression = "none"
	}
	return withConn(ctx, o, func(nc *client.Conn) error {
		var si streaming.StreamInfo
		raw, err := jsRequest(ctx, nc, "STREAM.CREATE."+cfg.Name, &cfg, &si)
		if err != nil {
			return err
		}
		if o.JSON {
			return printJSON(o, raw)
		}
		return printStreamInfo(o, &si)
	})
}

func runStreamLs(ctx context.Context, o *streamOptions) error {
	return withConn(ctx, o, func(nc *client.Conn) error {
		var all []*streaming.StreamInfo
		for offset := 0; ; {
			var page struct {
				Total   int                     `json:"total"`
				Streams []*streaming.StreamInfo `json:"streams"`
			}
			if _, err := jsRequest(ctx, nc, "STREAM.LIST", map[string]int{"offset": offset}, &page); err != nil {
				return err
			}
			all = append(all, page.Streams...)
			offset += len(page.Streams)
			if len(page.Streams) == 0 || offset >= page.Total {
				break
			}
		}
		if o.JSON {
			b, _ := json.Marshal(all)
			return printJSON(o, b)
		}
		tw := tabwriter.NewWriter(o.IO.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSUBJECTS\tSTORAGE\tMESSAGES\tBYTES\tLAST MESSAGE")
		for _, si := range all {
			last := "never"
			if si.State.Msgs > 0 {
				last = si.State.LastTime.Local().Format(time.DateTime)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", si.Config.Name, strings.Join(si.Config.Subjects, ","),
				si.Config.Storage, si.State.Msgs, si.State.Bytes, last)
		}
		return tw.Flush()
	})
}

func runStreamInfo(ctx context.Context, o *streamOptions) error {
	return withConn(ctx, o, func(nc *client.Conn) error {
		var si streaming.StreamInfo
		raw, err := jsRequest(ctx, nc, "STREAM.INFO."+o.Name, nil, &si)
		if err != nil {
			return err
		}
		if o.JSON {
			return printJSON(o, raw)
		}
		return printStreamInfo(o, &si)
	})
}

func limitText(n int64) string {
	if n <= 0 {
		return "unlimited"
	}
	return fmt.Sprint(n)
}

func printStreamInfo(o *streamOptions, si *streaming.StreamInfo) error {
	c, s := si.Config, si.State
	tw := tabwriter.NewWriter(o.IO.Out, 0, 4, 2, ' ', 0)
	rows := [][2]string{
		{"Name", c.Name}, {"Description", c.Description}, {"Subjects", strings.Join(c.Subjects, ", ")},
		{"Storage", c.Storage.String()}, {"Retention", c.Retention.String()}, {"Discard", c.Discard.String()},
		{"Max messages", limitText(c.MaxMsgs)}, {"Max bytes", limitText(c.MaxBytes)},
		{"Max age", fmt.Sprint(c.MaxAge)}, {"Max per subject", limitText(c.MaxMsgsPerSubject)},
		{"Max message size", limitText(int64(c.MaxMsgSize))}, {"Duplicate window", fmt.Sprint(c.Duplicates)},
		{"Replicas", fmt.Sprint(c.Replicas)}, {"Created", si.Created.Local().Format(time.DateTime)},
		{"Messages", fmt.Sprint(s.Msgs)}, {"Bytes", fmt.Sprint(s.Bytes)},
		{"First sequence", fmt.Sprint(s.FirstSeq)}, {"Last sequence", fmt.Sprint(s.LastSeq)},
		{"Deleted", fmt.Sprint(s.NumDeleted)}, {"Subjects stored", fmt.Sprint(s.NumSubjects)},
	}
	for _, r := range rows {
		if r[1] != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", r[0], r[1])
		}
	}
	return tw.Flush()
}

func runStreamRm(ctx context.Context, o *streamOptions) error {
	return withConn(ctx, o, func(nc *client.Conn) error {
		raw, err := jsRequest(ctx, nc, "STREAM.DELETE."+o.Name, nil, nil)
		if err != nil {
			return err
		}
		if o.JSON {
			return printJSON(o, raw)
		}
		fmt.Fprintf(o.IO.ErrOut, "stream %s deleted\n", o.Name)
		return nil
	})
}

func runStreamPurge(ctx context.Context, o *streamOptions) error {
	return withConn(ctx, o, func(nc *client.Conn) error {
		req := map[string]any{}
		if o.Subject != "" {
			req["filter"] = o.Subject
		}
		if o.Seq > 0 {
			req["seq"] = o.Seq
		}
		if o.Keep > 0 {
			req["keep"] = o.Keep
		}
		var resp struct {
			Purged uint64 `json:"purged"`
		}
		raw, err := jsRequest(ctx, nc, "STREAM.PURGE."+o.Name, req, &resp)
		if err != nil {
			return err
		}
		if o.JSON {
			return printJSON(o, raw)
		}
		fmt.Fprintf(o.IO.Out, "purged %d messages from %s\n", resp.Purged, o.Name)
		return nil
	})
}

func runStreamGet(ctx context.Context, o *streamOptions) error {
	req := map[string]any{}
	switch {
	case o.Subject != "":
		req["last_by_subj"] = o.Subject
	case o.Seq > 0:
		req["seq"] = o.Seq
	default:
		return errors.New("say which message: --seq N or --last SUBJECT")
	}
	return withConn(ctx, o, func(nc *client.Conn) error {
		var resp struct {
			Message streaming.StoredMsg `json:"message"`
		}
		raw, err := jsRequest(ctx, nc, "STREAM.MSG.GET."+o.Name, req, &resp)
		if err != nil {
			return err
		}
		if o.JSON {
			return printJSON(o, raw)
		}
		m := resp.Message
		fmt.Fprintf(o.IO.ErrOut, "[%d] %s %s\n", m.Sequence, m.Time.Local().Format(time.RFC3339Nano), m.Subject)
		if len(m.Header) > 0 {
			fmt.Fprint(o.IO.ErrOut, strings.TrimPrefix(string(m.Header), "NATS/1.0\r\n"))
		}
		_, err = fmt.Fprintln(o.IO.Out, string(m.Data))
		return err
	})
}

func runStreamRmm(ctx context.Context, o *streamOptions) error {
	return withConn(ctx, o, func(nc *client.Conn) error {
		req := map[string]any{"seq": o.Seq}
		if o.NoErase {
			req["no_erase"] = true
		}
		raw, err := jsRequest(ctx, nc, "STREAM.MSG.DELETE."+o.Name, req, nil)
		if err != nil {
			return err
		}
		if o.JSON {
			return printJSON(o, raw)
		}
		fmt.Fprintf(o.IO.ErrOut, "message %d deleted from %s\n", o.Seq, o.Name)
		return nil
	})
}
