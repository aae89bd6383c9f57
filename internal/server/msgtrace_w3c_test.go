package server_test

import (
	"testing"

	"github.com/nats-io/jwt/v2"
	nsrv "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/natsctl/natsctl/internal/server"
)

// traceDestAccount is account T with a trace destination for traceparent
// messages, sampling percent of them.
func traceDestAccount(sampling int) (string, func(*server.Options)) {
	conf := `accounts {
  T: { users: [{user: t, password: pt}], msg_trace: {dest: "acc.traces", sampling: ` + itoa(sampling) + `} }
}
`
	return conf, func(o *server.Options) {
		o.Accounts = []server.AccountOptions{{Name: "T", Users: []server.User{{Username: "t", Password: "pt"}},
			TraceDest: "acc.traces", TraceSampling: sampling}}
	}
}

const traceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-"

func TestMsgTrace_TraceParent(t *testing.T) {
	conf, opts := traceDestAccount(100)
	traceBoth(t, conf, opts, func(t *testing.T, url string) {
		nc := dial(t, url, nats.UserInfo("t", "pt"), nats.Name("w3c"))
		events, _ := nc.SubscribeSync("acc.traces")
		own, _ := nc.SubscribeSync("own.traces")
		sub, _ := nc.SubscribeSync("work")
		flush(t, nc)
		for _, tc := range []struct {
			name, key, flags, dest string
			traced                 bool
		}{
			{"sampled", "traceparent", "01", "", true},
			{"any case", "TraceParent", "03", "", true},
			{"not sampled", "traceparent", "00", "", false},
			{"bad flags", "traceparent", "1", "", false},
			{"dest wins", "traceparent", "01", "own.traces", true},
		} {
			m := nats.NewMsg("work")
			m.Data = []byte(tc.name)
			m.Header[tc.key] = []string{traceParent + tc.flags}
			if tc.dest != "" {
				m.Header[nsrv.MsgTraceDest] = []string{tc.dest}
			}
			if err := nc.PublishMsg(m); err != nil {
				t.Fatal(err)
			}
			got := nextMsg(t, sub)
			if string(got.Data) != tc.name || got.Header.Get(nsrv.MsgTraceDest) != tc.dest {
				t.Fatalf("%s: subscriber got %q %v", tc.name, got.Data, got.Header)
			}
			flush(t, nc)
			if !tc.traced {
				if n := pending(t, events) + pending(t, own); n != 0 {
					t.Fatalf("%s: %d events", tc.name, n)
				}
				continue
			}
			evSub := events
			if tc.dest != "" {
				evSub = own
			}
			ev := nextTrace(t, evSub)
			checkIngress(t, ev, nc, "T", "work", "")
			if got := ev.Request.Header[tc.key]; len(got) != 1 || got[0] != traceParent+tc.flags {
				t.Fatalf("%s: request headers %v", tc.name, ev.Request.Header)
			}
			if len(ev.Egresses()) != 1 {
				t.Fatalf("%s: egresses %+v", tc.name, ev.Egresses())
			}
		}
	})
}

func TestMsgTrace_TraceParentSampling(t *testing.T) {
	// At 1%, most messages lose the draw: they are delivered marked
	// "trace disabled" (so that no other server traces them); each one
	// picked sends its event.
	conf, opts := traceDestAccount(1)
	traceBoth(t, conf, opts, func(t *testing.T, url string) {
		nc := dial(t, url, nats.UserInfo("t", "pt"))
		events, _ := nc.SubscribeSync("acc.traces")
		sub, _ := nc.SubscribeSync("work")
		flush(t, nc)
		const n = 20
		for range n {
			m := nats.NewMsg("work")
			m.Header.Set("traceparent", traceParent+"01")
			if err := nc.PublishMsg(m); err != nil {
				t.Fatal(err)
			}
		}
		picked := 0
		for range n {
			switch d := nextMsg(t, sub).Header.Get(nsrv.MsgTraceDest); d {
			case "":
				picked++
			case "trace disabled":
			default:
				t.Fatalf("delivered with %s %q", nsrv.MsgTraceDest, d)
			}
		}
		if picked == n {
			t.Fatalf("all %d messages picked at 1%%", n)
		}
		for range picked {
			nextTrace(t, events)
		}
	})
}

func TestMsgTrace_TraceParentFromAccountJWT(t *testing.T) {
	// Operator mode: the account JWT's trace settings apply.
	w := newJWTWorld(t)
	accJWT := w.account(func(ac *jwt.AccountClaims) {
		ac.Trace = &jwt.MsgTrace{Destination: "acc.traces", Sampling: 100}
	})
	creds, _ := w.user(w.accKP, nil)
	conf := w.conf(accJWT)
	traceBoth(t, conf, w.options(accJWT), func(t *testing.T, url string) {
		nc := dial(t, url, nats.UserCredentials(creds))
		events, _ := nc.SubscribeSync("acc.traces")
		flush(t, nc)
		m := nats.NewMsg("work")
		m.Header.Set("traceparent", traceParent+"01")
		if err := nc.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
		checkIngress(t, nextTrace(t, events), nc, w.accPub, "work", "")
	})
}
