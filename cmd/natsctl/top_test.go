package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natsctl/natsctl/internal/iostreams"
	"github.com/natsctl/natsctl/internal/natsservertest"
	"github.com/natsctl/natsctl/internal/tui"
)

func TestTopCmd_Flags(t *testing.T) {
	tests := []struct {
		args []string
		want topOptions
	}{
		{nil, topOptions{Servers: []string{defaultMonitorURL}, Interval: time.Second, Sort: "cid", Limit: 1024}},
		{[]string{"--server", "http://a:8222", "-s", "http://b:8222", "--interval", "250ms", "--sort", "msgs_to", "-n", "5"},
			topOptions{Servers: []string{"http://a:8222", "http://b:8222"}, Interval: 250 * time.Millisecond, Sort: "msgs_to", Limit: 5}},
		{[]string{"--once"}, topOptions{Servers: []string{defaultMonitorURL}, Interval: time.Second, Sort: "cid", Limit: 1024, Once: true}},
		{[]string{"-o", "-"}, topOptions{Servers: []string{defaultMonitorURL}, Interval: time.Second, Sort: "cid", Limit: 1024, Output: "-"}},
		{[]string{"--json"}, topOptions{Servers: []string{defaultMonitorURL}, Interval: time.Second, Sort: "cid", Limit: 1024, JSON: true}},
	}
	for _, tt := range tests {
		ios, _, _, _ := iostreams.Test()
		var got *topOptions
		cmd := newTopCmd(newDeps(ios), func(_ context.Context, o *topOptions) error { got = o; return nil })
		cmd.SetArgs(tt.args)
		if err := cmd.Execute(); err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		g := *got
		g.IO, g.RunUI, g.HTTPClient = nil, nil, nil
		if !reflect.DeepEqual(g, tt.want) {
			t.Errorf("%v:\n got %+v\nwant %+v", tt.args, g, tt.want)
		}
	}
}

// liveServer runs nats-server with monitoring and two named connections
// that exchanged 4 messages.
func liveServer(t *testing.T) *natsservertest.Proc {
	t.Helper()
	p := natsservertest.Start(t, "-m", "-1")
	sub, err := nats.Connect(p.ClientURL, nats.Name("top-sub"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sub.Close)
	pub, err := nats.Connect(p.ClientURL, nats.Name("top-pub"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Close)
	s, err := sub.SubscribeSync("top.test")
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if err := pub.Publish("top.test", []byte("12345")); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 4; i++ {
		if _, err := s.NextMsg(5 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func topOpts(ios *iostreams.IOStreams, server string) *topOptions {
	return &topOptions{IO: ios, Servers: []string{server}, Interval: time.Second, Sort: "cid", Limit: 1024,
		RunUI: func(context.Context, tui.Model, *iostreams.IOStreams) error {
			panic("interactive UI in a snapshot test")
		}}
}

func TestRunTop_OnceTable(t *testing.T) {
	p := liveServer(t)
	for _, mode := range []string{"--once", "-o -"} {
		ios, _, out, _ := iostreams.Test()
		o := topOpts(ios, p.MonitorURL)
		o.Sort = "msgs_from"
		if mode == "--once" {
			o.Once = true
		} else {
			o.Output = "-"
		}
		if err := runTop(context.Background(), o); err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		lines := strings.Split(out.String(), "\n")
		var header, first, second string
		for i, l := range lines {
			if strings.Contains(l, "CID") && strings.Contains(l, "MSGS_FROM") {
				header, first, second = l, lines[i+1], lines[i+2]
				break
			}
		}
		if header == "" || !strings.Contains(out.String(), "Connections polled: 2 of 2") {
			t.Fatalf("%s: no table:\n%s", mode, out)
		}
		// sort=msgs_from: the publisher first, with exact counts.
		if f := strings.Fields(first); !strings.Contains(first, "top-pub") || f[6] != "4" || f[8] != "20" {
			t.Fatalf("%s: first row %q (fields %q)", mode, first, f)
		}
		if f := strings.Fields(second); !strings.Contains(second, "top-sub") || f[5] != "4" || !strings.Contains(second, "top.test") {
			t.Fatalf("%s: second row %q", mode, second)
		}
	}
}

func TestRunTop_JSON(t *testing.T) {
	p := liveServer(t)
	ios, _, out, _ := iostreams.Test()
	o := topOpts(ios, p.MonitorURL)
	o.JSON = true
	if err := runTop(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	var snap struct {
		Varz struct {
			Version string `json:"version"`
			InMsgs  int64  `json:"in_msgs"`
		} `json:"varz"`
		Connz struct {
			Conns []struct {
				Cid     uint64   `json:"cid"`
				Name    string   `json:"name"`
				InMsgs  int64    `json:"in_msgs"`
				OutMsgs int64    `json:"out_msgs"`
				Subs    []string `json:"subscriptions_list"`
			} `json:"connections"`
		} `json:"connz"`
		Subjz *json.RawMessage `json:"subjz"`
	}
	if err := json.Unmarshal(out.Bytes(), &snap); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if snap.Varz.Version == "" || snap.Varz.InMsgs < 4 || len(snap.Connz.Conns) != 2 || snap.Subjz != nil {
		t.Fatalf("snapshot: %s", out)
	}
	got := map[string][2]int64{}
	for _, c := range snap.Connz.Conns {
		got[c.Name] = [2]int64{c.InMsgs, c.OutMsgs}
	}
	if got["top-pub"] != [2]int64{4, 0} || got["top-sub"] != [2]int64{0, 4} {
		t.Fatalf("connections: %v", got)
	}
}

func TestRunTop_OutputFile(t *testing.T) {
	p := liveServer(t)
	ios, _, out, _ := iostreams.Test()
	o := topOpts(ios, p.MonitorURL)
	o.Output = filepath.Join(t.TempDir(), "snap.txt")
	if err := runTop(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(o.Output)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "top-pub") || out.Len() != 0 {
		t.Fatalf("file:\n%s\nstdout:\n%s", b, out)
	}
}

func TestRunTop_Errors(t *testing.T) {
	gone := httptest.NewServer(nil)
	gone.Close()
	tests := []struct {
		name    string
		mod     func(*topOptions)
		wantErr string
	}{
		{"bad sort", func(o *topOptions) { o.Sort = "name"; o.Once = true }, "--sort: invalid sorting option: name"},
		{"closed-only sort", func(o *topOptions) { o.Sort = "stop"; o.Once = true }, "sort by stop only valid on closed connections"},
		{"bad interval", func(o *topOptions) { o.Interval = 0 }, "--interval must be positive"},
		{"client URL", func(o *topOptions) { o.Servers = []string{"nats://127.0.0.1:4222"}; o.Once = true }, "scheme must be http or https"},
		{"nobody there", func(o *topOptions) { o.Servers = []string{gone.URL}; o.Once = true }, "no monitoring endpoint answering at " + gone.URL},
		{"no terminal", func(o *topOptions) { o.Servers = []string{gone.URL} }, "top needs a terminal; use --once or --json"},
	}
	for _, tt := range tests {
		ios, _, _, _ := iostreams.Test()
		o := topOpts(ios, defaultMonitorURL)
		tt.mod(o)
		err := runTop(context.Background(), o)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestRunTop_Interactive(t *testing.T) {
	ios, _, _, errOut := iostreams.Test()
	ios.OutTTY = true
	o := topOpts(ios, "127.0.0.1:9")
	o.Sort, o.Interval = "bytes_to", 3*time.Second
	var ran bool
	o.RunUI = func(_ context.Context, m tui.Model, got *iostreams.IOStreams) error {
		ran = true
		if col, desc := m.SortColumn(); col != "BYTES_TO" || !desc || m.Interval() != 3*time.Second || got != ios {
			t.Errorf("model: sort %s desc=%v interval %v", col, desc, m.Interval())
		}
		return nil
	}
	if err := runTop(context.Background(), o); err != nil || !ran {
		t.Fatalf("err %v ran %v", err, ran)
	}
	if errOut.Len() != 0 {
		t.Fatalf("unexpected notice: %q", errOut)
	}
}
