package bench

import (
	"context"
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
			if g := res.Group("pub"); len(g.Clients) != pm.pubs {
				t.Errorf("%d publishers, want %d", len(g.Clients), pm.pubs)
			}
			if n := streamMsgs(t, js, "benchstream"); n != 1000 {
				t.Errorf("stream holds %d messages, want 1000", n)
			}
		})
	}
}

func TestJS_EngineModes(t *testing.T) {
	runJSModes(t, jsServer(t), "file")
}

func TestJS_NatsServerModes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nats-server -js")
	}
	p := natsservertest.Start(t, "-js", "-sd", t.TempDir())
	runJSModes(t, p.ClientURL, "memory")
}
