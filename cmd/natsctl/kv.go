package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/natsctl/natsctl/internal/jsclient"
)

// kvOptions serve every `natsctl kv` subcommand.
type kvOptions struct {
	jsOptions
	Bucket, Key string
	Value       []byte
	HasValue    bool
	Args        []string // all positional arguments
	Revision    uint64

	Raw            bool
	Config         jsclient.KVConfig
	Storage        string
	UpdatesOnly    bool
	IncludeHistory bool
	Count          int
}

func newKVCmd(d *deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kv",
		Short: "Key-value buckets on streams (natsctl serve or nats-server with JetStream)",
		Long: `Key-value buckets as nats.go and natscli use them (ADR-8): bucket B is the
stream KV_B, each key a subject $KV.B.<key>, deletes and purges markers.`,
	}
	sub := func(use, short, example string, args cobra.PositionalArgs, flags func(*cobra.Command, *kvOptions),
		runF func(context.Context, *kvOptions) error) *cobra.Command {
		o := &kvOptions{}
		c := &cobra.Command{Use: use, Short: short, Example: example, Args: args}
		c.RunE = func(cmd *cobra.Command, args []string) error {
			o.Args = args
			if len(args) > 0 {
				o.Bucket = args[0]
			}
			if len(args) > 1 {
				o.Key = args[1]
			}
			if len(args) > 2 {
				o.Value, o.HasValue = []byte(args[2]), true
			}
			return runF(cmd.Context(), o)
		}
		o.bindJS(c, d, "print JSON")
		if flags != nil {
			flags(c, o)
		}
		return c
	}
	cmd.AddCommand(
		sub("add BUCKET", "Create a bucket", `  natsctl kv add config --history 5
  natsctl kv add sessions --ttl 1h --storage memory`, cobra.ExactArgs(1), func(c *cobra.Command, o *kvOptions) {
			f := c.Flags()
			f.Int64Var(&o.Config.History, "history", 1, "revisions kept per key (1-64)")
			f.DurationVar(&o.Config.TTL, "ttl", 0, "drop values older than this (0: never)")
			f.Int64Var(&o.Config.MaxBytes, "max-bytes", -1, "most bytes stored (-1: unlimited)")
			f.Int32Var(&o.Config.MaxValueSize, "max-value-size", -1, "largest value (-1: unlimited)")
			f.StringVar(&o.Storage, "storage", "file", "file or memory")
			f.IntVar(&o.Config.Replicas, "replicas", 1, "replicas")
			f.StringVar(&o.Config.Description, "description", "", "description")
		}, runKVAdd),
		sub("put BUCKET KEY [VALUE]", "Store a value (read from stdin without VALUE)", `  natsctl kv put config db.url postgres://db
  natsctl kv put config cert < cert.pem`, cobra.RangeArgs(2, 3), nil, runKVPut),
		sub("create BUCKET KEY [VALUE]", "Store a value only if the key has none (read from stdin without VALUE)", `  natsctl kv create locks job-7 worker-2 || echo "taken"
  natsctl kv create config cert < cert.pem`, cobra.RangeArgs(2, 3), nil, runKVCreate),
		sub("update BUCKET KEY [VALUE] REVISION", "Store a value only if the key is at REVISION (read from stdin without VALUE)", `  natsctl kv update config db.url postgres://c 7
  natsctl kv update config cert 7 < cert.pem`, cobra.RangeArgs(3, 4), nil, runKVUpdate),
		sub("get BUCKET KEY", "Print a key's value (or an older revision's)", `  natsctl kv get config db.url
  natsctl kv get config db.url --raw > url.txt
  natsctl kv get config db.url --revision 3`, cobra.ExactArgs(2), func(c *cobra.Command, o *kvOptions) {
			c.Flags().BoolVar(&o.Raw, "raw", false, "print only the value, byte for byte")
			c.Flags().Uint64Var(&o.Revision, "revision", 0, "print this revision of the key (0: the newest)")
		}, runKVGet),
		sub("del BUCKET KEY", "Delete a key (its history stays until purged)", "  natsctl kv del config db.url", cobra.ExactArgs(2), nil, runKVDel),
		sub("purge BUCKET KEY", "Delete a key and its history", "  natsctl kv purge config db.url", cobra.ExactArgs(2), nil, runKVPurge),
		sub("ls [BUCKET]", "List buckets, or the keys of BUCKET", "  natsctl kv ls\n  natsctl kv ls config", cobra.MaximumNArgs(1), nil, runKVLs),
		sub("history BUCKET [KEY]", "Show every stored revision of a key (all keys without KEY)", "  natsctl kv history config db.url", cobra.RangeArgs(1, 2), nil, runKVHistory),
		sub("watch BUCKET [KEY]", "Print current values and then every change (KEY may use * and >)", `  natsctl kv watch config
  natsctl kv watch config 'db.>' --updates-only`, cobra.RangeArgs(1, 2), func(c *cobra.Command, o *kvOptions) {
			c.Flags().BoolVar(&o.UpdatesOnly, "updates-only", false, "skip current values")
			c.Flags().BoolVar(&o.IncludeHistory, "include-history", false, "start from the oldest stored revision")
			c.Flags().IntVarP(&o.Count, "count", "n", 0, "exit after this many entries (0: until Ctrl-C)")
			c.Flags().BoolVar(&o.Raw, "raw", false, "print only values")
		}, runKVWatch),
		sub("status BUCKET", "Show a bucket's settings and size", "  natsctl kv status config", cobra.ExactArgs(1), nil, runKVStatus),
		sub("rm BUCKET", "Delete a bucket and all its keys", "  natsctl kv rm config", cobra.ExactArgs(1), nil, runKVRm),
	)
	return cmd
}

func runKVAdd(ctx context.Context, o *kvOptions) error {
	c := o.Config
	c.Bucket = o.Bucket
	if err := parseStorage(o.Storage, &c.Storage); err != nil {
		return err
	}
	return o.withJS(ctx, func(js *jsclient.JS) error {
		kv, err := js.CreateKV(ctx, c)
		if err != nil {
			return err
		}
		return printKVStatus(ctx, o, kv)
	})
}

func (o *kvOptions) bind(ctx context.Context, f func(*jsclient.KV) error) error {
	return o.withJS(ctx, func(js *jsclient.JS) error {
		kv, err := js.BindKV(ctx, o.Bucket)
		if err != nil {
			return err
		}
		return f(kv)
	})
}

func runKVPut(ctx context.Context, o *kvOptions) error {
	return kvWrite(ctx, o, (*jsclient.KV).Put)
}

func runKVCreate(ctx context.Context, o *kvOptions) error {
	return kvWrite(ctx, o, (*jsclient.KV).Create)
}

// runKVUpdate takes BUCKET KEY VALUE REVISION, or BUCKET KEY REVISION
// with the value on stdin.
func runKVUpdate(ctx context.Context, o *kvOptions) error {
	revArg := o.Args[len(o.Args)-1]
	rev, err := strconv.ParseUint(revArg, 10, 64)
	if err != nil {
		return fmt.Errorf("bad revision %q: give the key's current revision (see `natsctl kv get %s %s`)", revArg, o.Bucket, o.Key)
	}
	o.HasValue = len(o.Args) == 4
	return kvWrite(ctx, o, func(kv *jsclient.KV, ctx context.Context, key string, value []byte) (uint64, error) {
		return kv.Update(ctx, key, value, rev)
	})
}

// kvWrite reads the value (from stdin without VALUE), stores it with
// write and reports the revision.
func kvWrite(ctx context.Context, o *kvOptions, write func(*jsclient.KV, context.Context, string, []byte) (uint64, error)) error {
	if err := jsclient.CheckKey(o.Key, false); err != nil {
		return err
	}
	if !o.HasValue {
		if o.IO.InTTY {
			fmt.Fprintln(o.IO.ErrOut, "reading the value from stdin (Ctrl-D to end)")
		}
		b, err := io.ReadAll(o.IO.In)
		if err != nil {
			return fmt.Errorf("reading the value: %w", err)
		}
		o.Value = b
	}
	return o.bind(ctx, func(kv *jsclient.KV) error {
		rev, err := write(kv, ctx, o.Key, o.Value)
		if err != nil {
			return err
		}
		if o.JSON {
			return o.printValue(map[string]any{"bucket": o.Bucket, "key": o.Key, "revision": rev})
		}
		fmt.Fprintf(o.IO.ErrOut, "%s > %s: revision %d\n", o.Bucket, o.Key, rev)
		return nil
	})
}

// jsonEntry is the --json form of a KV entry.
type jsonEntry struct {
	Bucket      string    `json:"bucket"`
	Key         string    `json:"key"`
	Value       *string   `json:"value,omitempty"`
	ValueBase64 []byte    `json:"value_base64,omitempty"`
	Revision    uint64    `json:"revision"`
	Created     time.Time `json:"created"`
	Operation   string    `json:"operation"`
}

func entryJSON(e *jsclient.KVEntry) jsonEntry {
	j := jsonEntry{Bucket: e.Bucket, Key: e.Key, Revision: e.Revision, Created: e.Created, Operation: string(e.Op)}
	if e.Op == jsclient.KVPut {
		j.Value, j.ValueBase64 = textOrBase64(e.Value)
	}
	return j
}

func runKVGet(ctx context.Context, o *kvOptions) error {
	return o.bind(ctx, func(kv *jsclient.KV) error {
		var e *jsclient.KVEntry
		var err error
		if o.Revision > 0 {
			e, err = kv.GetRevision(ctx, o.Key, o.Revision)
		} else {
			e, err = kv.Get(ctx, o.Key)
		}
		if err != nil {
			return err
		}
		switch {
		case o.JSON:
			return o.printValue(entryJSON(e))
		case o.Raw:
			_, err := o.IO.Out.Write(e.Value)
			return err
		}
		fmt.Fprintf(o.IO.ErrOut, "%s > %s revision %d created %s\n", e.Bucket, e.Key, e.Revision, timeText(e.Created))
		_, err = fmt.Fprintln(o.IO.Out, string(e.Value))
		return err
	})
}

func runKVDel(ctx context.Context, o *kvOptions) error   { return kvMarker(ctx, o, false) }
func runKVPurge(ctx context.Context, o *kvOptions) error { return kvMarker(ctx, o, true) }

func kvMarker(ctx context.Context, o *kvOptions, purge bool) error {
	return o.bind(ctx, func(kv *jsclient.KV) error {
		do, what := kv.Delete, "deleted"
		if purge {
			do, what = kv.Purge, "purged"
		}
		rev, err := do(ctx, o.Key)
		if err != nil {
			return err
		}
		if o.JSON {
			return o.printValue(map[string]any{"bucket": o.Bucket, "key": o.Key, "revision": rev, "operation": what})
		}
		fmt.Fprintf(o.IO.ErrOut, "%s > %s %s (revision %d)\n", o.Bucket, o.Key, what, rev)
		return nil
	})
}

func runKVLs(ctx context.Context, o *kvOptions) error {
	if o.Bucket != "" {
		return o.bind(ctx, func(kv *jsclient.KV) error {
			keys, err := kv.Keys(ctx)
			if err != nil {
				return err
			}
			if o.JSON {
				return o.printValue(append([]string{}, keys...))
			}
			for _, k := range keys {
				fmt.Fprintln(o.IO.Out, k)
			}
			return nil
		})
	}
	return o.withJS(ctx, func(js *jsclient.JS) error {
		names, err := js.KVBuckets(ctx)
		if err != nil {
			return err
		}
		var out []map[string]any
		var rows [][]string
		for _, b := range names {
			si, err := js.StreamInfo(ctx, "KV_"+b)
			if err != nil {
				continue // removed meanwhile
			}
			out = append(out, kvStatusJSON(b, si))
			rows = append(rows, []string{b, si.Config.Description, fmt.Sprint(si.State.Msgs), sizeText(si.State.Bytes),
				fmt.Sprint(si.Config.MaxMsgsPerSubject), ttlText(si.Config.MaxAge), timeText(si.State.LastTime)})
		}
		if o.JSON {
			return o.printValue(append([]map[string]any{}, out...))
		}
		if len(rows) == 0 {
			fmt.Fprintln(o.IO.ErrOut, "no buckets: create one with `natsctl kv add NAME`")
			return nil
		}
		return writeTable(o.IO, []string{"BUCKET", "DESCRIPTION", "VALUES", "SIZE", "HISTORY", "TTL", "LAST UPDATE"}, rows)
	})
}

func ttlText(d time.Duration) string {
	if d == 0 {
		return "forever"
	}
	return d.String()
}

func runKVHistory(ctx context.Context, o *kvOptions) error {
	key := o.Key
	if key == "" {
		key = ">"
	}
	return o.bind(ctx, func(kv *jsclient.KV) error {
		var rows [][]string
		err := kv.History(ctx, key, func(e *jsclient.KVEntry) error {
			if o.JSON {
				return o.printLine(entryJSON(e))
			}
			rows = append(rows, []string{e.Key, fmt.Sprint(e.Revision), string(e.Op), timeText(e.Created), string(e.Value)})
			return nil
		})
		if err != nil || o.JSON {
			return err
		}
		return writeTable(o.IO, []string{"KEY", "REVISION", "OP", "CREATED", "VALUE"}, rows)
	})
}

func runKVWatch(ctx context.Context, o *kvOptions) error {
	if o.Count < 0 {
		return errors.New("--count must not be negative")
	}
	return o.bind(ctx, func(kv *jsclient.KV) error {
		fmt.Fprintf(o.IO.ErrOut, "Watching %s %s\n", o.Bucket, orAll(o.Key))
		n := 0
		err := kv.Watch(ctx, o.Key, jsclient.WatchOptions{UpdatesOnly: o.UpdatesOnly, IncludeHistory: o.IncludeHistory, Follow: true},
			func(e *jsclient.KVEntry) error {
				var err error
				switch {
				case o.JSON:
					err = o.printLine(entryJSON(e))
				case o.Raw:
					_, err = fmt.Fprintln(o.IO.Out, string(e.Value))
				default:
					_, err = fmt.Fprintf(o.IO.Out, "[%s] %s %s > %s (revision %d): %s\n", timeText(e.Created), e.Op, e.Bucket, e.Key, e.Revision, e.Value)
				}
				if err != nil {
					return err
				}
				if n++; o.Count > 0 && n >= o.Count {
					return jsclient.ErrStop
				}
				return nil
			})
		if ctx.Err() != nil {
			return nil // Ctrl-C
		}
		return err
	})
}

func orAll(k string) string {
	if k == "" {
		return ">"
	}
	return k
}

func kvStatusJSON(bucket string, si *jsclient.StreamInfo) map[string]any {
	return map[string]any{
		"bucket": bucket, "description": si.Config.Description, "values": si.State.Msgs, "bytes": si.State.Bytes,
		"history": si.Config.MaxMsgsPerSubject, "ttl": si.Config.MaxAge, "storage": si.Config.Storage.String(),
		"max_bytes": si.Config.MaxBytes, "max_value_size": si.Config.MaxMsgSize, "replicas": si.Config.Replicas,
		"stream": si.Config.Name,
	}
}

func printKVStatus(ctx context.Context, o *kvOptions, kv *jsclient.KV) error {
	si, err := kv.Status(ctx)
	if err != nil {
		return err
	}
	if o.JSON {
		return o.printValue(kvStatusJSON(kv.Bucket, si))
	}
	c, s := si.Config, si.State
	return writeFields(o.IO.Out, [][2]string{
		{"Bucket", kv.Bucket}, {"Description", c.Description}, {"Values", fmt.Sprint(s.Msgs)},
		{"Size", sizeText(s.Bytes)}, {"History", fmt.Sprint(c.MaxMsgsPerSubject)}, {"TTL", ttlText(c.MaxAge)},
		{"Max bytes", limitText(c.MaxBytes)}, {"Max value size", limitText(int64(c.MaxMsgSize))},
		{"Storage", c.Storage.String()}, {"Replicas", fmt.Sprint(c.Replicas)}, {"Stream", c.Name},
		{"Last update", timeText(s.LastTime)},
	})
}

func runKVStatus(ctx context.Context, o *kvOptions) error {
	return o.bind(ctx, func(kv *jsclient.KV) error { return printKVStatus(ctx, o, kv) })
}

func runKVRm(ctx context.Context, o *kvOptions) error {
	return o.withJS(ctx, func(js *jsclient.JS) error {
		if err := js.DeleteKV(ctx, o.Bucket); err != nil {
			return err
		}
		if o.JSON {
			return o.printValue(map[string]any{"bucket": o.Bucket, "deleted": true})
		}
		fmt.Fprintf(o.IO.ErrOut, "bucket %s deleted\n", o.Bucket)
		return nil
	})
}
