package tui

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/jsclient"
	"github.com/natsctl/natsctl/internal/natsservertest"
	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
	"github.com/natsctl/natsctl/internal/streaming"
)

// jsz is a /jsz document at t0+sec whose counters grow with k.
func jsz(sec int, k uint64) *JSStreams {
	js := &JSStreams{Now: t0.Add(time.Duration(sec) * time.Second)}
	mk := func(name string, msgs, bytes uint64, cons ...ConsumerStat) StreamStat {
		s := StreamStat{Name: name, Created: started}
		s.State.Msgs, s.State.Bytes, s.State.FirstSeq, s.State.LastSeq, s.State.Consumers = msgs, bytes, 1, msgs, len(cons)
		s.Consumers = cons
		return s
	}
	con := func(name string, delivered, acked, pending uint64, ackPending, redelivered int) ConsumerStat {
		c := ConsumerStat{Name: name, Created: started, NumPending: pending, NumAckPending: ackPending, NumRedelivered: redelivered}
		c.Delivered.Consumer, c.AckFloor.Consumer = delivered, acked
		return c
	}
	js.Accounts = append(js.Accounts, struct {
		Name    string       `json:"name"`
		Streams []StreamStat `json:"stream_detail,omitempty"`
	}{Name: "$G", Streams: []StreamStat{
		mk("ORDERS", 1000*k, 64000*k, con("ship", 900*k, 890*k, 100*k, 10, 2), con("audit", 500*k, 500*k, 500*k, 0, 0)),
		mk("KV_config", 12, 1200),
		mk("EVENTS", 5000*k, 5000*k, con("replay", 0, 0, 5000*k, 0, 0)),
	}})
	return js
}

func withJsz(m statsMsg, js *JSStreams) statsMsg {
	s := *m.snap
	s.Jsz = js
	m.snap = &s
	return m
}

func TestComputeStreamRates(t *testing.T) {
	got := ComputeStreamRates(jsz(0, 1), jsz(2, 3)) // 2 s apart, counters tripled
	if len(got) != 3 || got[0].Stream.Name != "EVENTS" || got[1].Stream.Name != "ORDERS" || got[2].Stream.Name != "KV_config" {
		t.Fatalf("order: %+v", got)
	}
	o := got[1]
	if o.MsgRate != 1000 || o.ByteRate != 64000 {
		t.Fatalf("ORDERS rates %v %v", o.MsgRate, o.ByteRate)
	}
	if c := o.Consumers[1]; c.Consumer.Name != "ship" || c.DeliverRate != 900 || c.AckRate != 890 {
		t.Fatalf("ship %+v", c)
	}
	// No previous document: rates are 0. A recreated stream: 0, not a jump.
	if r := ComputeStreamRates(nil, jsz(2, 3)); r[0].MsgRate != 0 {
		t.Fatalf("first poll rate %v", r[0].MsgRate)
	}
	re := jsz(2, 3)
	re.Accounts[0].Streams[2].Created = t0
	if r := ComputeStreamRates(jsz(0, 1), re); r[0].Stream.Name != "ORDERS" || r[2].MsgRate != 0 {
		t.Fatalf("recreated stream: %+v", r)
	}
	if ComputeStreamRates(jsz(0, 1), nil) != nil {
		t.Fatal("no current document gives rows")
	}
}

func TestUpdate_StreamsTab(t *testing.T) {
	src := &fakeSource{snaps: []*Snapshot{snap(0, 1, true)}}
	m := newTestModel(src, 120, 30)
	if m.request().Streams {
		t.Fatal("/jsz asked for while the streams tab is hidden")
	}
	m, cmd := step(t, m, ok(0, 0, 1, true), press("3"))
	if m.tab != tabStreams || cmd == nil {
		t.Fatalf("3: tab %d, cmd %v", m.tab, cmd)
	}
	if msg := cmd(); msg.(statsMsg).gen != m.gen || !src.lastReq().Streams {
		t.Fatal("opening the streams tab does not poll /jsz at once")
	}
	m, _ = step(t, m, withJsz(ok(m.gen, 1, 1, true), jsz(1, 1)), withJsz(ok(m.gen, 3, 3, true), jsz(3, 3)))
	out := ansi.Strip(m.render())
	for _, want := range []string{"[3 Streams]", "ORDERS", "└ ship", "└ replay", "KV_config"} {
		if !strings.Contains(out, want) {
			t.Fatalf("streams tab lacks %q:\n%s", want, out)
		}
	}
	// A poll without /jsz (tab hidden meanwhile) keeps the stream rows.
	m, _ = step(t, m, press("1"), ok(m.gen, 4, 4, true), press("3"))
	if len(m.streams) != 3 {
		t.Fatalf("streams lost: %d", len(m.streams))
	}
	m, _ = step(t, m, press("/"), press("E"), press("V"), press("enter"))
	if out := ansi.Strip(m.render()); strings.Contains(out, "ORDERS") || !strings.Contains(out, "EVENTS") {
		t.Fatalf("filter:\n%s", out)
	}
}

func TestView_StreamsGolden(t *testing.T) {
	polled := func(w, h int, last *Snapshot) Model {
		m := newTestModel(&fakeSource{}, w, h)
		m, _ = step(t, m, press("3"))
		for i := 0; i < 3; i++ {
			m, _ = step(t, m, withJsz(ok(m.gen, i, int64(1+i*i), true), jsz(i, uint64(1+i*i))))
		}
		if last != nil {
			m, _ = step(t, m, statsMsg{gen: m.gen, at: t0.Add(10 * time.Second), snap: last})
		}
		return m
	}
	noJsz := snap(10, 20, true)
	noJsz.JszErr = "this server has no /jsz: start it with JetStream (natsctl serve, nats-server -js)"
	for _, tc := range []struct {
		name string
		m    Model
	}{
		{"streams_120x30", polled(120, 30, nil)},
		{"streams_80x16", polled(80, 16, nil)},
		{"streams_no_jsz_100x20", func() Model {
			m := newTestModel(&fakeSource{}, 100, 20)
			m, _ = step(t, m, press("3"), statsMsg{gen: 1, at: t0, snap: noJsz})
			return m
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			golden.RequireEqual(t, ansi.Strip(tc.m.View().Content))
		})
	}
}

// TestHTTPSource_Jsz reads streams and consumers from nats-server -js -m
// and from natsctl's server.
func TestHTTPSource_Jsz(t *testing.T) {
	ours := servertest.Run(t, func(o *server.Options) {
		o.Engine = streaming.New(streaming.Config{StoreDir: t.TempDir()})
	}, servertest.Monitoring)
	targets := map[string][2]string{"natsctl": {ours.ClientURL(), ours.MonitorURL()}}
	if !testing.Short() {
		p := natsservertest.Start(t, "-js", "-sd", filepath.Join(t.TempDir(), "js"), "-m", "-1")
		targets["nats-server"] = [2]string{p.ClientURL, p.MonitorURL}
	}
	for name, urls := range targets {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			nc, err := client.Connect(ctx, client.Options{Servers: []string{urls[0]}})
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			js := jsclient.New(nc)
			if _, _, err := js.CreateStream(ctx, "ORDERS", jsclient.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"},
				MaxMsgs: -1, MaxBytes: -1, MaxMsgsPerSubject: -1, MaxMsgSize: -1, MaxConsumers: -1, Replicas: 1, Compression: "none"}); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 3; i++ {
				if _, err := js.Publish(ctx, &client.Msg{Subject: "orders.new", Data: []byte("x")}); err != nil {
					t.Fatal(err)
				}
			}
			if _, _, err := js.CreateConsumer(ctx, "ORDERS", jsclient.ConsumerConfig{Durable: "ship", AckPolicy: jsclient.AckExplicit}, jsclient.ActionCreate); err != nil {
				t.Fatal(err)
			}
			src, err := NewHTTPSource(urls[1], nil)
			if err != nil {
				t.Fatal(err)
			}
			s, err := src.Fetch(ctx, Request{Streams: true})
			if err != nil {
				t.Fatal(err)
			}
			rows := ComputeStreamRates(nil, s.Jsz)
			if len(rows) != 1 || rows[0].Stream.State.Msgs != 3 || len(rows[0].Consumers) != 1 ||
				rows[0].Consumers[0].Consumer.Name != "ship" || rows[0].Consumers[0].Consumer.NumPending != 3 {
				t.Fatalf("jsz %q: %+v", s.JszErr, rows)
			}
		})
	}
}
