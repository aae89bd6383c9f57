package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/bench"
	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/iostreams"
	"github.com/natsctl/natsctl/internal/natsservertest"
)

func TestBenchFlags(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	var got *benchOptions
	cmd := newBenchCmd(&deps{IO: ios}, func(_ context.Context, o *benchOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"fanout", "--msgs", "10", "--size", "1KiB", "--pub", "2", "--clients", "7", "--subject", "s.x",
		"--multisubject", "--duration", "2s", "--rate", "500", "--warmup", "1s", "--no-progress", "--csv", "f.csv",
		"--json", "--histogram", "h.hgrm", "--payload", "p.bin", "-H", "a:b", "--recv-timeout", "3s", "--monitor", "off"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	c := got.Config
	if c.Mode != "fanout" || c.Msgs != 10 || got.Size != "1KiB" || c.Pubs != 2 || got.Clients != 7 || c.Subject != "s.x" ||
		!c.MultiSubject || c.Duration != 2*time.Second || c.Rate != 500 || c.Warmup != time.Second || !got.NoProgress ||
		got.CSVFile != "f.csv" || !got.JSON || got.HistFile != "h.hgrm" || got.PayloadFile != "p.bin" ||
		len(got.Headers) != 1 || c.RecvTimeout != 3*time.Second || c.MonitorURL != "off" {
		t.Fatalf("%+v", got)
	}
	for _, mode := range []string{"pub", "sub", "pubsub", "fanout", "queue", "reqrep", "idle", "compare"} {
		if sub, _, err := cmd.Find([]string{mode}); err != nil || sub.Name() != mode {
			t.Errorf("no bench %s command", mode)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int{"16": 16, "1KiB": 1024, "1kib": 1024, "2KB": 2000, "1MiB": 1 << 20, "64B": 64, "0": 0, " 8 ": 8, "1K": 1024} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "x", "1GB", "1.5KB"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q): no error", in)
		}
	}
}

func TestGuessMonitorURL(t *testing.T) {
	for in, want := range map[string]string{
		"nats://127.0.0.1:4222":  "http://127.0.0.1:8222",
		"localhost:4222":         "http://localhost:8222",
		"tls://u:p@host.example": "http://host.example:8222",
	} {
		if got := guessMonitorURL(in); got != want {
			t.Errorf("guessMonitorURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func benchConnect(url string) func(context.Context, string) (*client.Conn, error) {
	return func(ctx context.Context, name string) (*client.Conn, error) {
		return client.Connect(ctx, client.Options{Servers: []string{url}, Name: name})
	}
}

func TestRunBench_OutputsAgainstBothServers(t *testing.T) {
	eachServer(t, func(t *testing.T, url string) {
		dir := t.TempDir()
		payload := filepath.Join(dir, "payload")
		if err := os.WriteFile(payload, []byte(strings.Repeat("x", 40)), 0o644); err != nil {
			t.Fatal(err)
		}
		ios, _, out, _ := iostreams.Test()
		o := &benchOptions{IO: ios, Connect: benchConnect(url), Size: "128", PayloadFile: payload, JSON: true,
			CSVFile: filepath.Join(dir, "r.csv"), HistFile: filepath.Join(dir, "h.hgrm"), Headers: []string{"k:v"}}
		o.Config = bench.Config{Mode: "pubsub", Msgs: 500, Subject: "bench", Queue: "q", MonitorURL: "off", RecvTimeout: 10 * time.Second}
		if err := runBench(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		var res bench.Result
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if res.Config.Size != 40 || res.Group("sub").Msgs != 500 || res.Delivery.Lost != 0 || res.Latency == nil {
			t.Errorf("result %+v", res)
		}
		// Byte rates count headers: "NATS/1.0\r\n" + "k: v\r\n" + "\r\n".
		if want := int64(500 * (40 + 18)); res.Group("sub").Bytes != want {
			t.Errorf("received %d bytes, want %d", res.Group("sub").Bytes, want)
		}
		for _, f := range []string{"r.csv", "h.hgrm"} {
			if b, err := os.ReadFile(filepath.Join(dir, f)); err != nil || len(b) == 0 {
				t.Errorf("%s: %v, %d bytes", f, err, len(b))
			}
		}
	})
}

func TestRunBench_TextAndErrors(t *testing.T) {
	url := natsservertest.Start(t).ClientURL
	ios, _, out, _ := iostreams.Test()
	o := &benchOptions{IO: ios, Connect: benchConnect(url), Size: "16", Clients: 3}
	o.Config = bench.Config{Mode: "queue", Msgs: 300, Subject: "bench", Queue: "q", MonitorURL: "off"}
	if err := runBench(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"queue: 1 pub, 3 sub", "Subscribers:", "300 received of 300 expected, 0 lost", "stddev"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	o.Config.Mode, o.HistFile = "pub", filepath.Join(t.TempDir(), "h")
	if err := runBench(context.Background(), o); err == nil || !strings.Contains(err.Error(), "no latency") {
		t.Errorf("--histogram with pub: %v", err)
	}
	o.HistFile, o.Size = "", "huge"
	if err := runBench(context.Background(), o); err == nil || !strings.Contains(err.Error(), "--size") {
		t.Errorf("bad --size: %v", err)
	}
}

// TestE2EBenchCompare runs a small comparison of natsctl serve against
// nats-server with the built binary: servers started and stopped by it,
// idle memory read from /proc.
func TestE2EBenchCompare(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	ns := natsservertest.Binary(t)
	bin := natsctlBin(t)
	scen := filepath.Join(t.TempDir(), "scenarios.txt")
	if err := os.WriteFile(scen, []byte(`
# tiny
pubsub | sub msgs/s,sub MB/s | pubsub --size 16 --msgs 2000
req    | p50,p99             | reqrep --msgs 50
idle   | rss/conn            | idle --clients 20
`), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "bench", "compare", "--rounds", "2", "--scenarios", scen, "--json", "-q",
		ns+" -a 127.0.0.1 -p {port}", bin+" serve -a 127.0.0.1 -p {port}")
	outb, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %s", err, outb)
	}
	var cmp bench.Comparison
	if err := json.Unmarshal(outb, &cmp); err != nil {
		t.Fatalf("%v: %s", err, outb)
	}
	if len(cmp.Rows) != 5 || cmp.Targets[0] != "nats-server" || cmp.Targets[1] != "natsctl serve" {
		t.Fatalf("comparison %+v", cmp)
	}
	for _, r := range cmp.Rows {
		for i := range 2 {
			if len(r.Values[i]) != 2 || r.Median[i] <= 0 {
				t.Errorf("%s %s: values %v median %v", r.Scenario, r.Figure, r.Values[i], r.Median[i])
			}
		}
	}
}
