package server_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	nsrv "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/natsctl/natsctl/internal/server"
)

// traceAccounts is A exporting a stream and a service, B importing both;
// allowTrace sets allow_trace on the stream import and the service export.
func traceAccounts(allowTrace bool) (string, func(*server.Options)) {
	at := "false"
	if allowTrace {
		at = "true"
	}
	conf := `accounts {
  A: {
    users: [{user: a, password: pa}]
    exports: [{stream: "events.>"}, {service: "help.>", allow_trace: ` + at + `}]
  }
  B: {
    users: [{user: b, password: pb}]
    imports: [
      {stream: {account: A, subject: "events.>"}, prefix: fromA, allow_trace: ` + at + `}
      {service: {account: A, subject: "help.>"}, to: "ask.>"}
    ]
  }
}
`
	return conf, func(o *server.Options) {
		o.Accounts = []server.AccountOptions{
			{Name: "A", Users: []server.User{{Username: "a", Password: "pa"}}, Exports: []server.Export{
				{Stream: "events.>"}, {Service: "help.>", AllowTrace: allowTrace}}},
			{Name: "B", Users: []server.User{{Username: "b", Password: "pb"}}, Imports: []server.Import{
				{Account: "A", Subject: "events.>", Prefix: "fromA", AllowTrace: allowTrace},
				{Service: true, Account: "A", Subject: "help.>", To: "ask.>"}}},
		}
	}
}

func TestMsgTrace_StreamImport(t *testing.T) {
	eachAllowOnly(t, func(t *testing.T, allow, only bool) {
		conf, opts := traceAccounts(allow)
		traceBoth(t, conf, opts, func(t *testing.T, url string) {
			a := dial(t, url, nats.UserInfo("a", "pa"), nats.Name("pub-a"))
			b := dial(t, url, nats.UserInfo("b", "pb"), nats.Name("sub-b"))
			sub, _ := b.SubscribeSync("fromA.events.>")
			flush(t, b)
			dest, events := tracer(t, a)
			if err := a.PublishMsg(tracedMsg("events.x", dest, only)); err != nil {
				t.Fatal(err)
			}
			ev := nextTrace(t, events)
			checkIngress(t, ev, a, "A", "events.x", "")
			se := ev.StreamExports()
			if len(se) != 1 || se[0].Account != "B" || se[0].To != "fromA.events.x" {
				t.Fatalf("stream export events %+v", se)
			}
			var want []egressKey
			if allow {
				// Named as nats-server's copy of the subscription in
				// the exporter: on the import's subject.
				want = []egressKey{{Kind: nsrv.CLIENT, CID: cid(t, b), Acc: "B", Sub: "events.>"}}
			}
			if got := egresses(ev); !slices.Equal(got, want) {
				t.Fatalf("egresses %+v, want %+v", got, want)
			}
			flush(t, b)
			if n := pending(t, sub); n != map[bool]int{true: 0, false: 1}[only] {
				t.Fatalf("importer got %d messages", n)
			}
		})
	})
}

func TestMsgTrace_ServiceImport(t *testing.T) {
	eachAllowOnly(t, func(t *testing.T, allow, only bool) {
		conf, opts := traceAccounts(allow)
		traceBoth(t, conf, opts, func(t *testing.T, url string) {
			a := dial(t, url, nats.UserInfo("a", "pa"), nats.Name("service-a"))
			b := dial(t, url, nats.UserInfo("b", "pb"), nats.Name("client-b"))
			svc, _ := a.SubscribeSync("help.>")
			flush(t, a)
			dest, events := tracer(t, b)
			if err := b.PublishMsg(tracedMsg("ask.me", dest, only)); err != nil {
				t.Fatal(err)
			}
			ev := nextTrace(t, events)
			checkIngress(t, ev, b, "B", "ask.me", "")
			si := ev.ServiceImports()
			if len(si) != 1 || si[0].Account != "A" || si[0].From != "ask.me" || si[0].To != "help.me" {
				t.Fatalf("service import events %+v", si)
			}
			var want []egressKey
			if allow {
				want = []egressKey{{Kind: nsrv.CLIENT, CID: cid(t, a), Acc: "A", Sub: "help.>"}}
			}
			if got := egresses(ev); !slices.Equal(got, want) {
				t.Fatalf("egresses %+v, want %+v", got, want)
			}
			flush(t, a)
			if only {
				if n := pending(t, svc); n != 0 {
					t.Fatalf("service got %d messages", n)
				}
				return
			}
			m := nextMsg(t, svc)
			// Traced on, the exporter's copy names a response subject
			// leading back to the destination; not, it says so.
			got := m.Header.Get(nsrv.MsgTraceDest)
			if allow && !strings.HasPrefix(got, "_R_.") || !allow && got != "trace disabled" {
				t.Fatalf("exporter's %s: %q", nsrv.MsgTraceDest, got)
			}
		})
	})
}

// tracePermsConf: user u may publish on "allowed" and to inboxes only.
const tracePermsConf = `authorization {
  users: [
    {user: u, password: pu, permissions: {publish: {allow: ["allowed", "_INBOX.>"]}}}
    {user: admin, password: pa}
  ]
}
`

func tracePermsOpts(o *server.Options) {
	o.Auth.Users = []server.User{
		{Username: "u", Password: "pu", Permissions: &server.Permissions{Publish: &server.SubjectPermission{Allow: []string{"allowed", "_INBOX.>"}}}},
		{Username: "admin", Password: "pa"},
	}
}

func TestMsgTrace_PublishDenied(t *testing.T) {
	traceBoth(t, tracePermsConf, tracePermsOpts, func(t *testing.T, url string) {
		errs := make(chan error, 4)
		u := dial(t, url, nats.UserInfo("u", "pu"), nats.Name("limited"), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
		admin := dial(t, url, nats.UserInfo("admin", "pa"))
		sub, _ := admin.SubscribeSync("denied")
		flush(t, admin)
		dest, events := tracer(t, u)
		if err := u.PublishMsg(tracedMsg("denied", dest, false)); err != nil {
			t.Fatal(err)
		}
		ev := nextTrace(t, events)
		checkIngress(t, ev, u, "$G", "denied", `Permissions Violation for Publish to "denied"`)
		if len(ev.Events) != 1 {
			t.Fatalf("%d events, want the ingress alone", len(ev.Events))
		}
		expectPermErr(t, errs, `"denied"`)
		flush(t, admin)
		if n := pending(t, sub); n != 0 {
			t.Fatalf("denied subject got %d messages", n)
		}
	})
}

func TestMsgTrace_DestinationDenied(t *testing.T) {
	// A destination the publisher may not publish to refuses the message:
	// no event, no delivery, a permissions error for the destination.
	traceBoth(t, tracePermsConf, tracePermsOpts, func(t *testing.T, url string) {
		errs := make(chan error, 4)
		u := dial(t, url, nats.UserInfo("u", "pu"), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
		admin := dial(t, url, nats.UserInfo("admin", "pa"))
		sub, _ := admin.SubscribeSync("allowed")
		events, _ := admin.SubscribeSync("traces")
		flush(t, admin)
		if err := u.PublishMsg(tracedMsg("allowed", "traces", false)); err != nil {
			t.Fatal(err)
		}
		expectPermErr(t, errs, `"traces"`)
		flush(t, u, admin)
		if n := pending(t, sub) + pending(t, events); n != 0 {
			t.Fatalf("%d messages after a refused trace", n)
		}
	})
}

func expectPermErr(t *testing.T, errs chan error, subj string) {
	t.Helper()
	select {
	case err := <-errs:
		if !errors.Is(err, nats.ErrPermissionViolation) || !strings.Contains(err.Error(), subj) {
			t.Fatalf("async error %v, want a publish permission violation for %s", err, subj)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no permission violation reported")
	}
}

func TestMsgTrace_SubscriptionDenies(t *testing.T) {
	// A wildcard subscription of a user denied part of it is listed with
	// nats-server's error, and does not get the message.
	conf := `authorization {
  users: [
    {user: s, password: ps, permissions: {subscribe: {allow: ">", deny: "orders.secret"}}}
    {user: p, password: pp}
  ]
}
`
	opts := func(o *server.Options) {
		o.Auth.Users = []server.User{
			{Username: "s", Password: "ps", Permissions: &server.Permissions{Subscribe: &server.SubjectPermission{Allow: []string{">"}, Deny: []string{"orders.secret"}}}},
			{Username: "p", Password: "pp"},
		}
	}
	traceBoth(t, conf, opts, func(t *testing.T, url string) {
		s := dial(t, url, nats.UserInfo("s", "ps"))
		sub, _ := s.SubscribeSync("orders.*")
		flush(t, s)
		p := dial(t, url, nats.UserInfo("p", "pp"))
		dest, events := tracer(t, p)
		if err := p.PublishMsg(tracedMsg("orders.secret", dest, false)); err != nil {
			t.Fatal(err)
		}
		want := []egressKey{{Kind: nsrv.CLIENT, CID: cid(t, s), Sub: "orders.*", Error: "Not delivered because subscription denies this subject"}}
		if got := egresses(nextTrace(t, events)); !slices.Equal(got, want) {
			t.Fatalf("egresses %+v, want %+v", got, want)
		}
		flush(t, s)
		if n := pending(t, sub); n != 0 {
			t.Fatalf("denied subscriber got %d messages", n)
		}
	})
}

// eachAllowOnly runs f as a subtest for each combination of allow_trace on
// the import and Nats-Trace-Only on the message.
func eachAllowOnly(t *testing.T, f func(t *testing.T, allow, only bool)) {
	for _, allow := range []bool{true, false} {
		for _, only := range []bool{false, true} {
			name := map[bool]string{true: "allow_trace", false: "no_allow_trace"}[allow] + map[bool]string{true: "/only", false: ""}[only]
			t.Run(name, func(t *testing.T) { f(t, allow, only) })
		}
	}
}
