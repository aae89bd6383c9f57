package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/natsctl/natsctl/internal/iostreams"
	"github.com/natsctl/natsctl/internal/natsservertest"
	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
	"github.com/natsctl/natsctl/internal/streaming"
)

// natsctlRun runs the root command in-process with args; it returns
// stdout, stderr and the error.
func natsctlRun(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	root := newRootCmd(newDeps(ios))
	root.SetArgs(args)
	root.SetOut(out)
	root.SetErr(errOut)
	err := root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func TestStreamCommands(t *testing.T) {
	ours := servertest.Run(t, func(o *server.Options) { o.Engine = streaming.New(streaming.Config{StoreDir: t.TempDir()}) })
	targets := map[string]string{"natsctl": ours.ClientURL()}
	if testing.Short() {
		t.Log("-short: against natsctl only")
	} else {
		dir := t.TempDir()
		targets["nats-server"] = natsservertest.Start(t, "-js", "-sd", filepath.Join(dir, "js")).ClientURL
	}
	for name, url := range targets {
		t.Run(name, func(t *testing.T) {
			run := func(args ...string) string {
				t.Helper()
				out, errOut, err := natsctlRun(t, append(args, "-s", url)...)
				if err != nil {
					t.Fatalf("%v: %v\n%s", args, err, errOut)
				}
				return out
			}
			out := run("stream", "add", "ORDERS", "--subjects", "orders.>", "--max-msgs", "100", "--storage", "memory")
			if !strings.Contains(out, "ORDERS") || !strings.Contains(out, "memory") {
				t.Fatalf("add: %s", out)
			}
			for _, body := range []string{"one", "two", "three"} {
				if _, errOut, err := natsctlRun(t, "req", "orders.new", body, "-s", url); err != nil {
					t.Fatalf("publish: %v %s", err, errOut)
				}
			}
			if out := run("stream", "ls"); !strings.Contains(out, "ORDERS") || !strings.Contains(out, "orders.>") {
				t.Fatalf("ls: %s", out)
			}
			var si streaming.StreamInfo
			if err := json.Unmarshal([]byte(run("stream", "info", "ORDERS", "--json")), &si); err != nil || si.State.Msgs != 3 {
				t.Fatalf("info --json: %+v %v", si.State, err)
			}
			if out := run("stream", "get", "ORDERS", "--seq", "2"); strings.TrimSpace(out) != "two" {
				t.Fatalf("get --seq 2: %q", out)
			}
			if out := run("stream", "get", "ORDERS", "--last", "orders.new"); strings.TrimSpace(out) != "three" {
				t.Fatalf("get --last: %q", out)
			}
			run("stream", "rmm", "ORDERS", "1")
			if out := run("stream", "purge", "ORDERS", "--keep", "1"); !strings.Contains(out, "purged 1") {
				t.Fatalf("purge: %q", out)
			}
			run("stream", "rm", "ORDERS")
			_, _, err := natsctlRun(t, "stream", "info", "ORDERS", "-s", url)
			if err == nil || !strings.Contains(err.Error(), "stream not found") {
				t.Fatalf("info after rm: %v", err)
			}
		})
	}
}
