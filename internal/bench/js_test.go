package bench

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/jsclient"
	"github.com/natsctl/natsctl/internal/natsservertest"
	natsserver "github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
	"github.com/natsctl/natsctl/internal/streaming"
)

// jsServer starts an in-process server with the streaming engine.
func jsServer(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	return servertest.Run(t, func(o *natsserver.Options) {
		o.Engine = streaming.New(streaming.Config{StoreDir: dir})
	}).ClientURL()
}

// jsAPI connects our JetStream client to url for checks.
func jsAPI(t *testing.T, url string) *jsclient.JS {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nc, err := client.Connect(ctx, client.Options{Servers: []string{url}, Name: "check"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return jsclient.New(nc)
}

func streamMsgs(t *testing.T, js *jsclient.JS, name string) uint64 {
	t.Helper()
	si, err := js.StreamInfo(context.Background(), name)
	if err != nil {
		t.Fatalf("stream info %s: %v", name, err)
	}
	return si.State.Msgs
}

func checkGroup(t *testing.T, res *Result, role string, msgs int64, latency bool) {
	t.Helper()
	g := res.Group(role)
	if g == nil {
		t.Fatalf("%s: no %s group in %+v", res.Mode, role, res.Groups)
	}
	if g.Msgs != msgs {
		t.Errorf("%s: %s counted %d messages, want %d", res.Mode, role, g.Msgs, msgs)
	}
	if g.Bytes <= 0 && msgs > 0 {
		t.Errorf("%s: %s counted no bytes", res.Mode, role)
	}
	if latency && (res.Latency == nil || res.Latency.Count != msgs) {
		t.Errorf("%s: latency %+v, want %d samples", res.Mode, res.Latency, msgs)
	}
	if !latency && res.Latency != nil {
		t.Errorf("%s: latency measured, want none", res.Mode)
	}
	if len(res.Warnings) > 0 {
		t.Errorf("%s: warnings %v", res.Mode, res.Warnings)
	}
}

// runJSModes runs every streaming mode against url and checks the counts.
func runJSModes(t *testing.T, url string, storage string) {
	js := jsAPI(t, url)
	cfg := func(mode string, msgs int, jc JSConfig) Config {
		jc.Storage = storage
		return Config{Mode: mode, Msgs: msgs, Size: 64, Subject: "bench.js", JS: jc}
	}
	for _, pm := range []struct {
		mode string
		pubs int
	}{{"sync", 1}, {"async", 2}, {"batch", 3}} {
		t.Run("js pub "+pm.mode, func(t *testing.T) {
			c := cfg("js pub", 1000, JSConfig{PubMode: pm.mode, Replace: true, MaxPending: 16, Batch: 64})
			c.Pubs = pm.pubs
			res := runEnv(t, testEnv(t, url, c))
			checkGroup(t, res, "pub", 1000, pm.mode == "sync")
			if res.Config.JS == nil || res.Config.JS.PubMode != pm.mode || res.Config.JS.Stream != "benchstream" {
				t.Errorf("config summary %+v", res.Config.JS)
			}
			if g := res.Group("pub"); len(g.Clients) != pm.pubs {
				t.Errorf("%d publishers, want %d", len(g.Clients), pm.pubs)
			}
			if n := streamMsgs(t, js, "benchstream"); n != 1000 {
				t.Errorf("stream holds %d messages, want 1000", n)
			}
		})
	}
	t.Run("js pub multisubject", func(t *testing.T) {
		c := cfg("js pub", 200, JSConfig{Stream: "multi", PubMode: "async"})
		c.Pubs, c.MultiSubject = 2, true
		checkGroup(t, runEnv(t, testEnv(t, url, c)), "pub", 200, false)
		si, err := js.StreamInfo(context.Background(), "multi")
		if err != nil {
			t.Fatal(err)
		}
		if si.State.Msgs != 200 || si.State.NumSubjects != 200 || si.Config.Subjects[0] != "bench.js.>" {
			t.Errorf("stream multi on %v: %d messages on %d subjects, want 200 on 200", si.Config.Subjects, si.State.Msgs, si.State.NumSubjects)
		}
	})
	// Without --replace a second run adds to the stream.
	t.Run("js pub again", func(t *testing.T) {
		runEnv(t, testEnv(t, url, cfg("js pub", 500, JSConfig{PubMode: "async"})))
		if n := streamMsgs(t, js, "benchstream"); n != 1500 {
			t.Errorf("stream holds %d messages, want 1500", n)
		}
	})
	for _, seq := range []bool{false, true} {
		t.Run("js get", func(t *testing.T) {
			c := cfg("js get", 400, JSConfig{Sequential: seq})
			c.Pubs = 2
			res := runEnv(t, testEnv(t, url, c))
			checkGroup(t, res, "get", 400, true)
			if g := res.Group("get"); g.Bytes < 400*64 {
				t.Errorf("get counted %d bytes, want at least %d", g.Bytes, 400*64)
			}
		})
	}
	t.Run("js get without direct", func(t *testing.T) {
		sc := jsclient.StreamConfig{Name: "nodirect", Subjects: []string{"nodirect"}, Replicas: 1, MaxMsgs: -1, MaxBytes: -1,
			MaxMsgsPerSubject: -1, MaxMsgSize: -1, MaxConsumers: -1, Compression: "none"}
		if _, _, err := js.CreateStream(context.Background(), "nodirect", sc); err != nil {
			t.Fatal(err)
		}
		c := cfg("js pub", 100, JSConfig{Stream: "nodirect", PubMode: "batch"})
		c.Subject = "nodirect"
		runEnv(t, testEnv(t, url, c))
		c = cfg("js get", 100, JSConfig{Stream: "nodirect"})
		res := runEnv(t, testEnv(t, url, c))
		if g := res.Group("get"); g.Msgs != 100 || g.Bytes < 100*64 {
			t.Errorf("get group %+v", g)
		}
		if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "STREAM.MSG.GET") {
			t.Errorf("warnings %q, want one about STREAM.MSG.GET", res.Warnings)
		}
	})
	for _, mode := range []string{"sync", "async"} {
		t.Run("js pub to another subject "+mode, func(t *testing.T) {
			c := cfg("js pub", 10, JSConfig{PubMode: mode})
			c.Subject = "elsewhere"
			_, err := Run(context.Background(), testEnv(t, url, c))
			if err == nil || !strings.Contains(err.Error(), "does not store elsewhere") {
				t.Errorf("err = %v, want does not store elsewhere", err)
			}
		})
	}
	for _, mode := range []string{"js consume", "js fetch"} {
		t.Run(mode, func(t *testing.T) {
			c := cfg(mode, 1200, JSConfig{Batch: 50})
			c.Subs = 2
			res := runEnv(t, testEnv(t, url, c))
			checkGroup(t, res, "sub", 1200, false)
			waitFor(t, func() (bool, string) {
				ci, _, err := js.ConsumerInfo(context.Background(), "benchstream", "benchconsumer")
				if err != nil {
					return false, err.Error()
				}
				return ci.Delivered.Stream == 1200 && ci.NumAckPending == 0 && ci.AckFloor.Stream == 1200,
					fmt.Sprintf("delivered %d, ack pending %d, ack floor %d", ci.Delivered.Stream, ci.NumAckPending, ci.AckFloor.Stream)
			})
		})
	}
	t.Run("js ordered", func(t *testing.T) {
		c := cfg("js ordered", 1500, JSConfig{Batch: 200})
		c.Subs = 2
		res := runEnv(t, testEnv(t, url, c))
		checkGroup(t, res, "sub", 3000, false) // each ordered consumer reads --msgs
	})
	t.Run("js consume too many", func(t *testing.T) {
		_, err := Run(context.Background(), testEnv(t, url, cfg("js consume", 1501, JSConfig{})))
		if err == nil || !strings.Contains(err.Error(), "fewer than --msgs") {
			t.Errorf("err = %v, want fewer than --msgs", err)
		}
	})
	t.Run("kv get empty", func(t *testing.T) {
		_, err := Run(context.Background(), testEnv(t, url, cfg("kv get", 10, JSConfig{})))
		if err == nil {
			t.Error("kv get on a missing bucket: no error")
		}
	})
	t.Run("kv put", func(t *testing.T) {
		c := cfg("kv put", 600, JSConfig{Keys: 50, Replace: true})
		c.Pubs = 2
		res := runEnv(t, testEnv(t, url, c))
		checkGroup(t, res, "put", 600, true)
		si, err := js.StreamInfo(context.Background(), "KV_benchkv")
		if err != nil {
			t.Fatal(err)
		}
		if si.State.Msgs != 50 || si.State.LastSeq != 600 {
			t.Errorf("bucket holds %d values (want 50, one per key), last revision %d (want 600)", si.State.Msgs, si.State.LastSeq)
		}
	})
	t.Run("kv get", func(t *testing.T) {
		c := cfg("kv get", 500, JSConfig{Keys: 50})
		c.Pubs = 3
		res := runEnv(t, testEnv(t, url, c))
		checkGroup(t, res, "get", 500, true)
		if g := res.Group("get"); g.Bytes != 500*64 {
			t.Errorf("get counted %d bytes, want %d", g.Bytes, 500*64)
		}
	})
}

// waitFor polls cond until it holds or 10 seconds pass.
func waitFor(t *testing.T, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met: %s", state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestBenchJSModes_Engine(t *testing.T) {
	runJSModes(t, jsServer(t), "file")
}

func TestBenchJSModes_NatsServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nats-server -js")
	}
	p := natsservertest.Start(t, "-js", "-sd", t.TempDir())
	runJSModes(t, p.ClientURL, "memory")
}

// TestBenchJSScenarios_Parse keeps bench/js-scenarios.txt readable by
// `bench compare` and its figures measured by the modes it names.
func TestBenchJSScenarios_Parse(t *testing.T) {
	b, err := os.ReadFile("../../bench/js-scenarios.txt")
	if err != nil {
		t.Fatal(err)
	}
	scs, err := ParseScenarios(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(scs) < 3 {
		t.Fatalf("%d scenarios", len(scs))
	}
	for _, sc := range scs {
		if len(sc.Args) < 2 || sc.Args[0]+" "+sc.Args[1] != "js pub" {
			t.Errorf("%s: args %q, want js pub", sc.Name, sc.Args)
		}
		for _, f := range sc.Figures {
			if f != "pub msgs/s" && f != "p50" && f != "p99" {
				t.Errorf("%s: figure %s is not measured by js pub", sc.Name, f)
			}
		}
	}
}
