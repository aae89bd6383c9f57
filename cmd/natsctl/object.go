package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/natsctl/natsctl/internal/jsclient"
)

// objectOptions serve every `natsctl object` subcommand.
type objectOptions struct {
	jsOptions
	Bucket, Name string
	PutName      string // put --name (the second argument, in Name, is the file)
	Output       string // get: where to write ("" or "-": stdout)
	Description  string
	ChunkSize    uint32
	Config       jsclient.ObjectConfig
	Storage      string
	UpdatesOnly  bool
	Count        int
}

func newObjectCmd(d *deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "object",
		Aliases: []string{"obj"},
		Short:   "Object stores on streams: files of any size in chunks (ADR-20)",
	}
	sub := func(use, short, example string, args cobra.PositionalArgs, flags func(*cobra.Command, *objectOptions),
		runF func(context.Context, *objectOptions) error) *cobra.Command {
		o := &objectOptions{}
		c := &cobra.Command{Use: use, Short: short, Example: example, Args: args}
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				o.Bucket = args[0]
			}
			if len(args) > 1 {
				o.Name = args[1]
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
		sub("add BUCKET", "Create an object store", "  natsctl object add files\n  natsctl object add cache --ttl 24h --storage memory", cobra.ExactArgs(1),
			func(c *cobra.Command, o *objectOptions) {
				f := c.Flags()
				f.DurationVar(&o.Config.TTL, "ttl", 0, "drop objects older than this (0: never)")
				f.Int64Var(&o.Config.MaxBytes, "max-bytes", -1, "most bytes stored (-1: unlimited)")
				f.StringVar(&o.Storage, "storage", "file", "file or memory")
				f.IntVar(&o.Config.Replicas, "replicas", 1, "replicas")
				f.StringVar(&o.Config.Description, "description", "", "description")
			}, runObjectAdd),
		sub("put BUCKET FILE", "Store a file (- for stdin; --name to name it)", `  natsctl object put files ./report.pdf
  tar cz dir | natsctl object put files - --name dir.tgz`, cobra.ExactArgs(2), func(c *cobra.Command, o *objectOptions) {
			c.Flags().StringVar(&o.PutName, "name", "", "object name (default: the file's base name)")
			c.Flags().StringVar(&o.Description, "description", "", "description")
			c.Flags().Uint32Var(&o.ChunkSize, "chunk-size", 128*1024, "bytes per chunk")
		}, runObjectPut),
		sub("get BUCKET NAME", "Write an object to stdout or --output, checking its digest", `  natsctl object get files report.pdf -o report.pdf
  natsctl object get files dir.tgz | tar xz`, cobra.ExactArgs(2), func(c *cobra.Command, o *objectOptions) {
			c.Flags().StringVarP(&o.Output, "output", "o", "", "write to this file (default: stdout)")
		}, runObjectGet),
		sub("ls [BUCKET]", "List object stores, or the objects in BUCKET", "  natsctl object ls\n  natsctl object ls files", cobra.MaximumNArgs(1), nil, runObjectLs),
		sub("info BUCKET [NAME]", "Show an object's meta, or the bucket's status", "  natsctl object info files report.pdf\n  natsctl object info files", cobra.RangeArgs(1, 2), nil, runObjectInfo),
		sub("rm BUCKET [NAME]", "Delete an object, or without NAME the whole bucket", "  natsctl object rm files report.pdf\n  natsctl object rm files", cobra.RangeArgs(1, 2), nil, runObjectRm),
		sub("watch BUCKET", "Print objects as they are added, changed and deleted", "  natsctl object watch files", cobra.ExactArgs(1), func(c *cobra.Command, o *objectOptions) {
			c.Flags().BoolVar(&o.UpdatesOnly, "updates-only", false, "skip the objects already there")
			c.Flags().IntVarP(&o.Count, "count", "n", 0, "exit after this many changes (0: until Ctrl-C)")
		}, runObjectWatch),
	)
	return cmd
}

func (o *objectOptions) bind(ctx context.Context, f func(*jsclient.JS, *jsclient.ObjectStore) error) error {
	return o.withJS(ctx, func(js *jsclient.JS) error {
		ob, err := js.BindObjectStore(ctx, o.Bucket)
		if err != nil {
			return err
		}
		return f(js, ob)
	})
}

func runObjectAdd(ctx context.Context, o *objectOptions) error {
	c := o.Config
	c.Bucket = o.Bucket
	if err := parseStorage(o.Storage, &c.Storage); err != nil {
		return err
	}
	return o.withJS(ctx, func(js *jsclient.JS) error {
		ob, err := js.CreateObjectStore(ctx, c)
		if err != nil {
			return err
		}
		return printObjectStatus(ctx, o, ob)
	})
}

func runObjectPut(ctx context.Context, o *objectOptions) error {
	file, name := o.Name, o.PutName
	var r io.Reader
	if file == "-" {
		if name == "" {
			return errors.New("reading stdin: name the object with --name")
		}
		r = o.IO.In
	} else {
		f, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("put: %w", err)
		}
		defer f.Close()
		r = f
		if name == "" {
			name = filepath.Base(file)
		}
	}
	return o.bind(ctx, func(_ *jsclient.JS, ob *jsclient.ObjectStore) error {
		info, err := ob.Put(ctx, jsclient.ObjectMeta{Name: name, Description: o.Description,
			Opts: &jsclient.ObjectMetaOptions{ChunkSize: o.ChunkSize}}, r)
		if err != nil {
			return err
		}
		if o.JSON {
			return o.printValue(info)
		}
		fmt.Fprintf(o.IO.ErrOut, "stored %s in %s: %s in %d chunks\n", name, o.Bucket, sizeText(info.Size), info.Chunks)
		return nil
	})
}

func runObjectGet(ctx context.Context, o *objectOptions) error {
	return o.bind(ctx, func(_ *jsclient.JS, ob *jsclient.ObjectStore) error {
		if o.Output == "" || o.Output == "-" {
			if o.IO.OutTTY {
				fmt.Fprintf(o.IO.ErrOut, "writing %s to the terminal; use -o FILE to save it\n", o.Name)
			}
			_, err := ob.Get(ctx, o.Name, o.IO.Out)
			return err
		}
		// Write beside the target and rename, so a failed or corrupt
		// download never leaves a partial file under the name.
		tmp, err := os.CreateTemp(filepath.Dir(o.Output), ".natsctl-get-*")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		info, err := ob.Get(ctx, o.Name, tmp)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		if err := os.Rename(tmp.Name(), o.Output); err != nil {
			return err
		}
		fmt.Fprintf(o.IO.ErrOut, "wrote %s (%s) to %s\n", o.Name, sizeText(info.Size), o.Output)
		return nil
	})
}

func objectRow(info *jsclient.ObjectInfo) []string {
	return []string{info.Name, sizeText(info.Size), fmt.Sprint(info.Chunks), timeText(info.ModTime), info.Description}
}

func runObjectLs(ctx context.Context, o *objectOptions) error {
	if o.Bucket == "" {
		return o.withJS(ctx, func(js *jsclient.JS) error {
			names, err := js.ObjectBuckets(ctx)
			if err != nil {
				return err
			}
			var out []map[string]any
			var rows [][]string
			for _, b := range names {
				si, err := js.StreamInfo(ctx, "OBJ_"+b)
				if err != nil {
					continue
				}
				out = append(out, objectStatusJSON(b, si))
				rows = append(rows, []string{b, si.Config.Description, sizeText(si.State.Bytes), ttlText(si.Config.MaxAge), timeText(si.State.LastTime)})
			}
			if o.JSON {
				return o.printValue(append([]map[string]any{}, out...))
			}
			if len(rows) == 0 {
				fmt.Fprintln(o.IO.ErrOut, "no object stores: create one with `natsctl object add NAME`")
				return nil
			}
			return writeTable(o.IO, []string{"BUCKET", "DESCRIPTION", "SIZE", "TTL", "LAST UPDATE"}, rows)
		})
	}
	return o.bind(ctx, func(_ *jsclient.JS, ob *jsclient.ObjectStore) error {
		list, err := ob.List(ctx)
		if err != nil {
			return err
		}
		if o.JSON {
			return o.printValue(append([]*jsclient.ObjectInfo{}, list...))
		}
		rows := make([][]string, 0, len(list))
		for _, info := range list {
			rows = append(rows, objectRow(info))
		}
		return writeTable(o.IO, []string{"NAME", "SIZE", "CHUNKS", "MODIFIED", "DESCRIPTION"}, rows)
	})
}

func objectStatusJSON(bucket string, si *jsclient.StreamInfo) map[string]any {
	return map[string]any{"bucket": bucket, "description": si.Config.Description, "bytes": si.State.Bytes,
		"ttl": si.Config.MaxAge, "storage": si.Config.Storage.String(), "max_bytes": si.Config.MaxBytes,
		"replicas": si.Config.Replicas, "stream": si.Config.Name}
}

func printObjectStatus(ctx context.Context, o *objectOptions, ob *jsclient.ObjectStore) error {
	si, err := ob.Status(ctx)
	if err != nil {
		return err
	}
	if o.JSON {
		return o.printValue(objectStatusJSON(ob.Bucket, si))
	}
	c := si.Config
	return writeFields(o.IO.Out, [][2]string{
		{"Bucket", ob.Bucket}, {"Description", c.Description}, {"Size", sizeText(si.State.Bytes)},
		{"TTL", ttlText(c.MaxAge)}, {"Max bytes", limitText(c.MaxBytes)}, {"Storage", c.Storage.String()},
		{"Replicas", fmt.Sprint(c.Replicas)}, {"Stream", c.Name},
	})
}

func runObjectInfo(ctx context.Context, o *objectOptions) error {
	return o.bind(ctx, func(_ *jsclient.JS, ob *jsclient.ObjectStore) error {
		if o.Name == "" {
			return printObjectStatus(ctx, o, ob)
		}
		info, err := ob.GetInfo(ctx, o.Name, false)
		if err != nil {
			return err
		}
		if o.JSON {
			return o.printValue(info)
		}
		return writeFields(o.IO.Out, [][2]string{
			{"Bucket", info.Bucket}, {"Name", info.Name}, {"Description", info.Description},
			{"Size", fmt.Sprintf("%s (%d bytes)", sizeText(info.Size), info.Size)}, {"Chunks", fmt.Sprint(info.Chunks)},
			{"Modified", timeText(info.ModTime)}, {"Digest", info.Digest}, {"NUID", info.NUID},
		})
	})
}

func runObjectRm(ctx context.Context, o *objectOptions) error {
	if o.Name == "" {
		return o.withJS(ctx, func(js *jsclient.JS) error {
			if err := js.DeleteObjectStore(ctx, o.Bucket); err != nil {
				return err
			}
			if o.JSON {
				return o.printValue(map[string]any{"bucket": o.Bucket, "deleted": true})
			}
			fmt.Fprintf(o.IO.ErrOut, "object store %s deleted\n", o.Bucket)
			return nil
		})
	}
	return o.bind(ctx, func(_ *jsclient.JS, ob *jsclient.ObjectStore) error {
		if err := ob.Delete(ctx, o.Name); err != nil {
			return err
		}
		if o.JSON {
			return o.printValue(map[string]any{"bucket": o.Bucket, "name": o.Name, "deleted": true})
		}
		fmt.Fprintf(o.IO.ErrOut, "%s deleted from %s\n", o.Name, o.Bucket)
		return nil
	})
}

func runObjectWatch(ctx context.Context, o *objectOptions) error {
	if o.Count < 0 {
		return errors.New("--count must not be negative")
	}
	return o.bind(ctx, func(_ *jsclient.JS, ob *jsclient.ObjectStore) error {
		fmt.Fprintf(o.IO.ErrOut, "Watching %s\n", o.Bucket)
		n := 0
		err := ob.Watch(ctx, o.UpdatesOnly, true, func(info *jsclient.ObjectInfo) error {
			var err error
			if o.JSON {
				err = o.printLine(info)
			} else {
				op := "PUT"
				if info.Deleted {
					op = "DEL"
				}
				_, err = fmt.Fprintf(o.IO.Out, "[%s] %s %s > %s (%s)\n", info.ModTime.Local().Format(time.DateTime), op, info.Bucket, info.Name, sizeText(info.Size))
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
			return nil
		}
		return err
	})
}
