package server_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/s2"
	nsrv "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/natsctl/natsctl/internal/natsservertest"
	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

// Message tracing (msgtrace.go) is checked against nats-server 2.15: each
// test runs the same exchange on natsctl and on nats-server configured
// alike, and decodes the events strictly into nats-server's own types.

// traceBoth runs fn on natsctl (opts) and on nats-server (conf, a config
// file body; empty for none).
func traceBoth(t *testing.T, conf string, opts func(*server.Options), fn func(t *testing.T, url string)) {
	t.Run("natsctl", func(t *testing.T) {
		var o []func(*server.Options)
		if opts != nil {
			o = append(o, opts)
		}
		s := servertest.Run(t, o...)
		fn(t, s.ClientURL())
	})
	t.Run("nats-server", func(t *testing.T) {
		args := []string{"-m", "-1"}
		if conf != "" {
			file := filepath.Join(t.TempDir(), "server.conf")
			if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			args = []string{"-c", file}
		}
		p := natsservertest.Start(t, args...)
		fn(t, p.ClientURL)
	})
}

func dial(t *testing.T, url string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func flush(t *testing.T, ncs ...*nats.Conn) {
	t.Helper()
	for _, nc := range ncs {
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
	}
}

// tracer subscribes nc to a fresh inbox for trace events.
func tracer(t *testing.T, nc *nats.Conn) (string, *nats.Subscription) {
	t.Helper()
	dest := nc.NewRespInbox()
	sub, err := nc.SubscribeSync(dest)
	if err != nil {
		t.Fatal(err)
	}
	flush(t, nc)
	return dest, sub
}

// tracedMsg is a message on subj asking for a trace to dest.
func tracedMsg(subj, dest string, only bool) *nats.Msg {
	m := nats.NewMsg(subj)
	m.Data = []byte("payload")
	m.Header.Set("Some-Header", "v1")
	m.Header[nsrv.MsgTraceDest] = []string{dest}
	if only {
		m.Header[nsrv.MsgTraceOnly] = []string{"true"}
	}
	return m
}

// strictTrace decodes a trace event with unknown fields refused at every
// level: the envelope, then each event as its nats-server type.
func strictTrace(t *testing.T, data []byte) *nsrv.MsgTraceEvent {
	t.Helper()
	strict := func(b []byte, v any) {
		t.Helper()
		d := json.NewDecoder(bytes.NewReader(b))
		d.DisallowUnknownFields()
		if err := d.Decode(v); err != nil {
			t.Fatalf("decode %T: %v\n%s", v, err, b)
		}
	}
	var env struct {
		Server  nsrv.ServerInfo      `json:"server"`
		Request nsrv.MsgTraceRequest `json:"request"`
		Hops    int                  `json:"hops,omitempty"`
		Events  []json.RawMessage    `json:"events"`
	}
	strict(data, &env)
	ev := &nsrv.MsgTraceEvent{Server: env.Server, Request: env.Request, Hops: env.Hops}
	for _, raw := range env.Events {
		var base nsrv.MsgTraceBase
		if err := json.Unmarshal(raw, &base); err != nil {
			t.Fatal(err)
		}
		var e nsrv.MsgTrace
		switch base.Type {
		case nsrv.MsgTraceIngressType:
			e = &nsrv.MsgTraceIngress{}
		case nsrv.MsgTraceStreamExportType:
			e = &nsrv.MsgTraceStreamExport{}
		case nsrv.MsgTraceServiceImportType:
			e = &nsrv.MsgTraceServiceImport{}
		case nsrv.MsgTraceJetStreamType:
			e = &nsrv.MsgTraceJetStream{}
		case nsrv.MsgTraceEgressType:
			e = &nsrv.MsgTraceEgress{}
		default:
			t.Fatalf("event type %q: %s", base.Type, raw)
		}
		strict(raw, e)
		if base.Timestamp.IsZero() {
			t.Fatalf("event without ts: %s", raw)
		}
		ev.Events = append(ev.Events, e)
	}
	// nats-server's own decoder agrees.
	var loose nsrv.MsgTraceEvent
	if err := json.Unmarshal(data, &loose); err != nil || len(loose.Events) != len(ev.Events) {
		t.Fatalf("nats-server decoder: %v, %d events", err, len(loose.Events))
	}
	if ev.Server.ID == "" || ev.Server.Name == "" || ev.Server.Time.IsZero() {
		t.Fatalf("server info missing: %+v", ev.Server)
	}
	return ev
}

func nextTrace(t *testing.T, sub *nats.Subscription) *nsrv.MsgTraceEvent {
	t.Helper()
	m := nextMsg(t, sub)
	t.Logf("trace event: %s", m.Data)
	return strictTrace(t, m.Data)
}

// egressKey is what a test checks of one egress.
type egressKey struct {
	Kind  int
	CID   uint64
	Acc   string
	Sub   string
	Queue string
	Error string
}

func egresses(ev *nsrv.MsgTraceEvent) []egressKey {
	var out []egressKey
	for _, e := range ev.Egresses() {
		out = append(out, egressKey{e.Kind, e.CID, e.Account, e.Subscription, e.Queue, e.Error})
	}
	slices.SortFunc(out, func(a, b egressKey) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	return out
}

func sortedEgress(keys ...egressKey) []egressKey {
	slices.SortFunc(keys, func(a, b egressKey) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	return keys
}

func cid(t *testing.T, nc *nats.Conn) uint64 {
	t.Helper()
	id, err := nc.GetClientID()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func checkIngress(t *testing.T, ev *nsrv.MsgTraceEvent, pub *nats.Conn, acc, subj, errText string) {
	t.Helper()
	in := ev.Ingress()
	if in == nil {
		t.Fatalf("first event is not the ingress: %+v", ev.Events)
	}
	if in.Kind != nsrv.CLIENT || in.CID != cid(t, pub) || in.Name != pub.Opts.Name || in.Account != acc || in.Subject != subj || in.Error != errText {
		t.Fatalf("ingress %+v, want client cid %d name %q acc %q subj %q error %q", in, cid(t, pub), pub.Opts.Name, acc, subj, errText)
	}
}

// fanOut is two plain subscribers and a queue group of two on "orders.new".
type fanOut struct {
	pub, a, b, q1, q2            *nats.Conn
	subA, subB, subQ1, subQ2     *nats.Subscription
	dest                         string
	events                       *nats.Subscription
	wantA, wantB, wantQ1, wantQ2 egressKey
}

func newFanOut(t *testing.T, url string) *fanOut {
	f := &fanOut{}
	f.pub = dial(t, url, nats.Name("publisher"))
	f.a, f.b = dial(t, url, nats.Name("sub-a")), dial(t, url, nats.Name("sub-b"))
	f.q1, f.q2 = dial(t, url, nats.Name("q-1")), dial(t, url, nats.Name("q-2"))
	var err error
	f.subA, err = f.a.SubscribeSync("orders.new")
	if err == nil {
		f.subB, err = f.b.SubscribeSync("orders.*")
	}
	if err == nil {
		f.subQ1, err = f.q1.QueueSubscribeSync("orders.new", "workers")
	}
	if err == nil {
		f.subQ2, err = f.q2.QueueSubscribeSync("orders.new", "workers")
	}
	if err != nil {
		t.Fatal(err)
	}
	flush(t, f.a, f.b, f.q1, f.q2)
	f.dest, f.events = tracer(t, f.pub)
	f.wantA = egressKey{Kind: nsrv.CLIENT, CID: cid(t, f.a), Sub: "orders.new"}
	f.wantB = egressKey{Kind: nsrv.CLIENT, CID: cid(t, f.b), Sub: "orders.*"}
	f.wantQ1 = egressKey{Kind: nsrv.CLIENT, CID: cid(t, f.q1), Sub: "orders.new", Queue: "workers"}
	f.wantQ2 = egressKey{Kind: nsrv.CLIENT, CID: cid(t, f.q2), Sub: "orders.new", Queue: "workers"}
	return f
}

func TestMsgTrace_FanOut(t *testing.T) {
	traceBoth(t, "", nil, func(t *testing.T, url string) {
		f := newFanOut(t, url)
		if err := f.pub.PublishMsg(tracedMsg("orders.new", f.dest, false)); err != nil {
			t.Fatal(err)
		}
		ev := nextTrace(t, f.events)
		checkIngress(t, ev, f.pub, "$G", "orders.new", "")
		if got := ev.Request.Header["Some-Header"]; len(got) != 1 || got[0] != "v1" {
			t.Fatalf("request header %v", ev.Request.Header)
		}
		if got := ev.Request.Header[nsrv.MsgTraceDest]; len(got) != 1 || got[0] != f.dest {
			t.Fatalf("request header %v", ev.Request.Header)
		}
		if ev.Request.MsgSize == 0 {
			t.Fatal("no msgsize")
		}
		for _, s := range []*nats.Subscription{f.subA, f.subB} {
			if m := nextMsg(t, s); string(m.Data) != "payload" || m.Header.Get(nsrv.MsgTraceDest) != f.dest {
				t.Fatalf("subscriber got %q %v", m.Data, m.Header)
			}
		}
		// One queue member got it; the egress names that one.
		flush(t, f.q1, f.q2)
		wantQ := f.wantQ1
		switch n1, n2 := pending(t, f.subQ1), pending(t, f.subQ2); {
		case n1 == 1 && n2 == 0:
		case n1 == 0 && n2 == 1:
			wantQ = f.wantQ2
		default:
			t.Fatalf("queue members got %d and %d messages", n1, n2)
		}
		if got, want := egresses(ev), sortedEgress(f.wantA, f.wantB, wantQ); !slices.Equal(got, want) {
			t.Fatalf("egresses\n got %+v\nwant %+v", got, want)
		}
		if len(ev.Events) != 4 {
			t.Fatalf("%d events, want ingress and 3 egresses", len(ev.Events))
		}
	})
}

func pending(t *testing.T, sub *nats.Subscription) int {
	t.Helper()
	n, _, err := sub.Pending()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMsgTrace_TraceOnly(t *testing.T) {
	for _, only := range []string{"true", "1", "on", "TRUE"} {
		t.Run(only, func(t *testing.T) {
			traceBoth(t, "", nil, func(t *testing.T, url string) {
				f := newFanOut(t, url)
				m := tracedMsg("orders.new", f.dest, false)
				m.Header[nsrv.MsgTraceOnly] = []string{only}
				if err := f.pub.PublishMsg(m); err != nil {
					t.Fatal(err)
				}
				ev := nextTrace(t, f.events)
				checkIngress(t, ev, f.pub, "$G", "orders.new", "")
				got := egresses(ev)
				if len(got) != 3 || got[0].Queue+got[1].Queue+got[2].Queue != "workers" {
					t.Fatalf("egresses %+v", got)
				}
				// The event went out after the processing: a round trip on
				// each subscriber's connection shows nothing was queued.
				flush(t, f.a, f.b, f.q1, f.q2)
				for _, s := range []*nats.Subscription{f.subA, f.subB, f.subQ1, f.subQ2} {
					if n := pending(t, s); n != 0 {
						t.Fatalf("%s got %d messages of a trace-only publish", s.Subject, n)
					}
				}
			})
		})
	}
}

func TestMsgTrace_NotTraced(t *testing.T) {
	// "false" is delivered and traced; an invalid destination or the
	// disabled marker is not traced, and with trace-only not delivered.
	for _, tc := range []struct {
		name, dest, only  string
		traced, delivered bool
	}{
		{"only false", "", "false", true, true},
		{"wildcard dest", "trace.*", "", false, true},
		{"wildcard dest only", "trace.>", "true", false, false},
		{"disabled", "trace disabled", "", false, true},
		{"disabled only", "trace disabled", "true", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			traceBoth(t, "", nil, func(t *testing.T, url string) {
				f := newFanOut(t, url)
				any, _ := f.pub.SubscribeSync("trace.>")
				flush(t, f.pub)
				dest := tc.dest
				if dest == "" {
					dest = f.dest
				}
				m := tracedMsg("orders.new", dest, false)
				if tc.only != "" {
					m.Header[nsrv.MsgTraceOnly] = []string{tc.only}
				}
				if err := f.pub.PublishMsg(m); err != nil {
					t.Fatal(err)
				}
				if tc.traced {
					nextTrace(t, f.events)
				}
				flush(t, f.pub, f.a)
				if n := pending(t, f.subA); (n == 1) != tc.delivered {
					t.Fatalf("subscriber got %d messages", n)
				}
				if n := pending(t, any) + pending(t, f.events); n != 0 {
					t.Fatalf("%d unexpected trace events", n)
				}
			})
		})
	}
}

func TestMsgTrace_NoEchoAndAutoUnsubscribe(t *testing.T) {
	traceBoth(t, "", nil, func(t *testing.T, url string) {
		pub := dial(t, url, nats.Name("publisher"), nats.NoEcho())
		if _, err := pub.SubscribeSync("echo"); err != nil {
			t.Fatal(err)
		}
		other := dial(t, url)
		sub, _ := other.SubscribeSync("echo")
		if err := sub.AutoUnsubscribe(1); err != nil {
			t.Fatal(err)
		}
		flush(t, other)
		ev := dial(t, url)
		dest, events := tracer(t, ev)
		noEcho := egressKey{Kind: nsrv.CLIENT, CID: cid(t, pub), Sub: "echo", Error: "Not delivered because of no echo"}
		for i, want := range [][]egressKey{
			sortedEgress(noEcho, egressKey{Kind: nsrv.CLIENT, CID: cid(t, other), Sub: "echo"}),
			{noEcho}, // the auto-unsubscribed subscription is gone
		} {
			if err := pub.PublishMsg(tracedMsg("echo", dest, false)); err != nil {
				t.Fatal(err)
			}
			if got := egresses(nextTrace(t, events)); !slices.Equal(got, want) {
				t.Fatalf("publish %d: egresses\n got %+v\nwant %+v", i, got, want)
			}
		}
	})
}

func TestMsgTrace_MaxPayload(t *testing.T) {
	// A message over max_payload is refused before its payload is read;
	// the start of its headers still asks for an event, with the error.
	traceBoth(t, "max_payload: 512\n", func(o *server.Options) { o.MaxPayload = 512 }, func(t *testing.T, url string) {
		nc := dial(t, url)
		dest, events := tracer(t, nc)
		raw, err := net.Dial("tcp", strings.TrimPrefix(url, "nats://"))
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		hdr := "NATS/1.0\r\n" + nsrv.MsgTraceDest + ": " + dest + "\r\n\r\n"
		msg := fmt.Sprintf("CONNECT {\"verbose\":false,\"headers\":true,\"protocol\":1,\"name\":\"raw\"}\r\nHPUB big %d 1000\r\n%s", len(hdr), hdr)
		if _, err := raw.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		ev := nextTrace(t, events)
		in := ev.Ingress()
		if in == nil || in.Kind != nsrv.CLIENT || in.Name != "raw" || in.Account != "$G" || in.Subject != "big" || in.Error != "maximum payload exceeded" {
			t.Fatalf("ingress %+v", in)
		}
		if ev.Request.MsgSize != 1000 || len(ev.Events) != 1 {
			t.Fatalf("event %+v", ev)
		}
	})
}

func TestMsgTrace_Compressed(t *testing.T) {
	// The event is compressed as the traced message's Accept-Encoding asks
	// (natscli asks for snappy).
	for _, tc := range []struct{ accept, enc string }{
		{"snappy", "snappy"}, {"gzip", "gzip"}, {"S2", "snappy"}, {"br", "identity"},
	} {
		t.Run(tc.accept, func(t *testing.T) {
			traceBoth(t, "", nil, func(t *testing.T, url string) {
				f := newFanOut(t, url)
				m := tracedMsg("orders.new", f.dest, true)
				m.Header.Set("Accept-Encoding", tc.accept)
				if err := f.pub.PublishMsg(m); err != nil {
					t.Fatal(err)
				}
				ev := nextMsg(t, f.events)
				if got := ev.Header.Get("Content-Encoding"); got != tc.enc {
					t.Fatalf("Content-Encoding %q, want %q", got, tc.enc)
				}
				var r io.Reader = bytes.NewReader(ev.Data)
				switch tc.enc {
				case "snappy":
					r = s2.NewReader(r)
				case "gzip":
					zr, err := gzip.NewReader(r)
					if err != nil {
						t.Fatal(err)
					}
					r = zr
				}
				data, err := io.ReadAll(r)
				if err != nil {
					t.Fatal(err)
				}
				if got := egresses(strictTrace(t, data)); len(got) != 3 {
					t.Fatalf("egresses %+v", got)
				}
			})
		})
	}
}
