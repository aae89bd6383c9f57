package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/iostreams"
	"github.com/natsctl/natsctl/internal/jsclient"
	"github.com/natsctl/natsctl/internal/natsservertest"
	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
	"github.com/natsctl/natsctl/internal/streaming"
)

// jsTargets are client URLs of our server (in-process) and, without
// -short, of nats-server, both with JetStream.
func jsTargets(t *testing.T) map[string]string {
	t.Helper()
	ours := servertest.Run(t, func(o *server.Options) { o.Engine = streaming.New(streaming.Config{StoreDir: t.TempDir()}) })
	targets := map[string]string{"natsctl": ours.ClientURL()}
	if !testing.Short() {
		targets["nats-server"] = natsservertest.Start(t, "-js", "-sd", filepath.Join(t.TempDir(), "js")).ClientURL
	}
	return targets
}

// jsBinaryTargets are the built `natsctl serve` and nats-server, for end-to-end
// tests of the binary.
func jsBinaryTargets(t *testing.T) map[string]string {
	t.Helper()
	targets := map[string]string{"natsctl": startServe(t, "--store_dir", t.TempDir()).url}
	if !testing.Short() {
		targets["nats-server"] = natsservertest.Start(t, "-js", "-sd", filepath.Join(t.TempDir(), "js")).ClientURL
	}
	return targets
}

// runner runs natsctl in-process against url with stdin.
type runner struct {
	t   *testing.T
	url string
}

func (r runner) run(stdin string, args ...string) (string, string, error) {
	r.t.Helper()
	ios, in, out, errOut := iostreams.Test()
	in.WriteString(stdin)
	root := newRootCmd(newDeps(ios))
	root.SetArgs(append(args, "-s", r.url))
	root.SetOut(out)
	root.SetErr(errOut)
	err := root.ExecuteContext(ctxFor(r.t))
	return out.String(), errOut.String(), err
}

// ok runs and fails the test on error, returning stdout.
func (r runner) ok(args ...string) string {
	r.t.Helper()
	out, errOut, err := r.run("", args...)
	if err != nil {
		r.t.Fatalf("natsctl %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// fails runs and wants an error containing want.
func (r runner) fails(want string, args ...string) {
	r.t.Helper()
	_, _, err := r.run("", args...)
	if err == nil || !strings.Contains(err.Error(), want) {
		r.t.Fatalf("natsctl %s: error %v, want one containing %q", strings.Join(args, " "), err, want)
	}
}

// binary runs the built natsctl against url and returns stdout.
func binary(t *testing.T, url string, args ...string) string {
	t.Helper()
	cmd := cli(t, url, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("natsctl %s: exit %d: %s", strings.Join(args, " "), ee.ExitCode(), stderr.String())
		}
		t.Fatalf("natsctl %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

// jsFor connects a jsclient to url for checks.
func jsFor(t *testing.T, url string) *jsclient.JS {
	t.Helper()
	nc, err := client.Connect(context.Background(), client.Options{Servers: []string{url}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return jsclient.New(nc)
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
