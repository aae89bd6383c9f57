package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/natsctl/natsctl/internal/bench"
	"github.com/natsctl/natsctl/internal/iostreams"
)

// TestBenchJSCmd_EveryMode runs each streaming bench mode through the
// command line on our server and (without -short) nats-server -js.
func TestBenchJSCmd_EveryMode(t *testing.T) {
	for name, url := range jsTargets(t) {
		t.Run(name, func(t *testing.T) {
			r := runner{t: t, url: url}
			result := func(args ...string) *bench.Result {
				t.Helper()
				out := r.ok(append(args, "--json", "--monitor", "off", "--no-progress")...)
				var res bench.Result
				if err := json.Unmarshal([]byte(out), &res); err != nil {
					t.Fatalf("%v: %s", err, out)
				}
				return &res
			}
			check := func(res *bench.Result, role string, msgs int64, clients int, latency bool) {
				t.Helper()
				g := res.Group(role)
				if g == nil || g.Msgs != msgs || len(g.Clients) != clients || g.MsgsPerSec <= 0 {
					t.Fatalf("%s: %s group %+v, want %d msgs from %d clients", res.Mode, role, g, msgs, clients)
				}
				if (res.Latency != nil) != latency {
					t.Errorf("%s: latency %+v, want measured=%v", res.Mode, res.Latency, latency)
				}
			}
			check(result("bench", "js", "pub", "--msgs", "400", "--size", "32", "--mode", "async", "--clients", "2", "--replace", "--storage", "memory"), "pub", 400, 2, false)
			check(result("bench", "js", "pub", "--msgs", "100", "--size", "32"), "pub", 100, 1, true)
			check(result("bench", "js", "get", "--msgs", "200", "--pub", "2", "--sequential"), "get", 200, 2, true)
			check(result("bench", "js", "consume", "--msgs", "500", "--clients", "2", "--batch", "20"), "sub", 500, 2, false)
			check(result("bench", "js", "fetch", "--msgs", "500", "--batch", "20", "--consumer", "other"), "sub", 500, 1, false)
			check(result("bench", "js", "ordered", "--msgs", "500"), "sub", 500, 1, false)
			check(result("bench", "kv", "put", "--msgs", "100", "--keys", "10", "--size", "16", "--clients", "2"), "put", 100, 2, true)
			check(result("bench", "kv", "get", "--msgs", "100", "--keys", "10"), "get", 100, 1, true)

			text := r.ok("bench", "js", "pub", "--msgs", "50", "--mode", "batch", "--batch", "10", "--monitor", "off", "--no-progress")
			if !strings.Contains(text, "js pub: 1 pub") || !strings.Contains(text, "stream benchstream (memory), batch acks, batches of 10") || !strings.Contains(text, "Publishers:") {
				t.Errorf("text report:\n%s", text)
			}
			r.fails("--mode \"often\"", "bench", "js", "pub", "--mode", "often", "--monitor", "off")
			r.fails("fewer than --msgs", "bench", "js", "consume", "--msgs", "100000", "--monitor", "off")
			r.fails("no stream nostream", "bench", "js", "get", "--stream", "nostream", "--monitor", "off")
		})
	}
}

func TestBenchJSFlags(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	var got *benchOptions
	capture := func(_ context.Context, o *benchOptions) error { got = o; return nil }
	cmd := newBenchCmd(&deps{IO: ios}, capture)
	cmd.SetArgs([]string{"js", "pub", "--mode", "async", "--max-pending", "8", "--batch", "9", "--stream", "s1",
		"--storage", "memory", "--replace", "--clients", "3", "--msgs", "10"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	j := got.Config.JS
	if got.Config.Mode != "js pub" || j.PubMode != "async" || j.MaxPending != 8 || j.Batch != 9 || j.Stream != "s1" ||
		j.Storage != "memory" || !j.Replace || got.Config.Pubs != 3 || got.Clients != 0 || got.Config.Msgs != 10 {
		t.Fatalf("js pub options %+v", got)
	}
	cmd = newBenchCmd(&deps{IO: ios}, capture)
	cmd.SetArgs([]string{"kv", "get", "--bucket", "b1", "--keys", "7", "--sequential", "--clients", "2"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if j := got.Config.JS; got.Config.Mode != "kv get" || j.Bucket != "b1" || j.Keys != 7 || !j.Sequential || got.Config.Pubs != 2 {
		t.Fatalf("kv get options %+v", got)
	}
	cmd = newBenchCmd(&deps{IO: ios}, capture)
	cmd.SetArgs([]string{"js", "consume", "--consumer", "c1", "--clients", "4"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if j := got.Config.JS; got.Config.Mode != "js consume" || j.Consumer != "c1" || got.Clients != 4 || got.Config.Pubs != 0 {
		t.Fatalf("js consume options %+v", got)
	}
	for _, path := range [][]string{{"js", "pub"}, {"js", "get"}, {"js", "consume"}, {"js", "fetch"}, {"js", "ordered"}, {"kv", "put"}, {"kv", "get"}} {
		if sub, _, err := cmd.Find(path); err != nil || sub.Name() != path[1] || sub.Parent().Name() != path[0] {
			t.Errorf("no bench %s command", strings.Join(path, " "))
		}
	}
}
