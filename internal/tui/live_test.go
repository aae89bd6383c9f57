package tui

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/nats-io/nats.go"

	"github.com/natsctl/natsctl/internal/monitorapi"
	"github.com/natsctl/natsctl/internal/natsservertest"
)

// traffic connects a named publisher and subscriber to url and moves n
// messages between them.
func traffic(t *testing.T, url string, n int) {
	t.Helper()
	sub, err := nats.Connect(url, nats.Name("e2e-sub"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sub.Close)
	pub, err := nats.Connect(url, nats.Name("e2e-pub"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Close)
	s, err := sub.SubscribeSync("e2e.orders")
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := pub.Publish("e2e.orders", []byte("payload")); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i++ {
		if _, err := s.NextMsg(5 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
}

// TestProgram_LiveNATSServer runs the real program against nats-server
// with monitoring and waits for the connection rows to appear.
func TestProgram_LiveNATSServer(t *testing.T) {
	p := natsservertest.Start(t, "-m", "-1")
	traffic(t, p.ClientURL, 10)
	src, err := NewHTTPSource(p.MonitorURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := New(Options{Source: src, Interval: 100 * time.Millisecond})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(160, 40))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		return bytes.Contains(b, []byte("e2e-pub")) && bytes.Contains(b, []byte("e2e-sub"))
	}, teatest.WithDuration(15*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
	tm.Send(press("q"))
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(Model)
	if fm.err != nil {
		t.Fatalf("final error: %v", fm.err)
	}
	byName := map[string]*monitorapi.ConnInfo{}
	for _, r := range fm.rows() {
		byName[r.c.Name] = r.c
	}
	if c := byName["e2e-pub"]; c == nil || c.InMsgs != 10 {
		t.Fatalf("e2e-pub row: %+v", c)
	}
	if c := byName["e2e-sub"]; c == nil || c.OutMsgs != 10 || len(c.Subs) != 1 || c.Subs[0] != "e2e.orders" {
		t.Fatalf("e2e-sub row: %+v", c)
	}
	if fm.last.Subjz != nil || fm.last.SubjzErr != ErrNoSubjz.Error() {
		t.Fatalf("nats-server /subjz: %+v %q", fm.last.Subjz, fm.last.SubjzErr)
	}
}

// TestProgram_ServerGoneKeepsRunning stops the server under a running
// program: it must show the error and keep polling, not exit.
func TestProgram_ServerGoneKeepsRunning(t *testing.T) {
	p := natsservertest.Start(t, "-m", "-1")
	src, err := NewHTTPSource(p.MonitorURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	tm := teatest.NewTestModel(t, New(Options{Source: src, Interval: 100 * time.Millisecond}), teatest.WithInitialTermSize(160, 40))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("version 2.")) },
		teatest.WithDuration(15*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
	p.Stop()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("failed polls")) },
		teatest.WithDuration(15*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
	tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(Model)
	if fm.err == nil || fm.failures < 1 || fm.last == nil {
		t.Fatalf("err %v failures %d last %v", fm.err, fm.failures, fm.last != nil)
	}
}

func TestHTTPSource_Fetch(t *testing.T) {
	p := natsservertest.Start(t, "-m", "-1")
	traffic(t, p.ClientURL, 3)
	src, err := NewHTTPSource(strings.TrimPrefix(p.MonitorURL, "http://")+"/", nil) // bare host:port, trailing slash
	if err != nil {
		t.Fatal(err)
	}
	snap, err := src.Fetch(context.Background(), Request{Sort: monitorapi.ByInMsgs, Limit: 1, Subs: true, Subjects: true})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Connz.Limit != 1 || len(snap.Connz.Conns) != 1 || snap.Connz.Total != 2 {
		t.Fatalf("limit not applied: %+v", snap.Connz)
	}
	if c := snap.Connz.Conns[0]; c.Name != "e2e-pub" { // sort=msgs_from, top 1
		t.Fatalf("sort not applied: top connection %q", c.Name)
	}
	if snap.Varz.InMsgs < 3 || snap.Subjz != nil || snap.SubjzErr != ErrNoSubjz.Error() {
		t.Fatalf("varz %d subjz %v %q", snap.Varz.InMsgs, snap.Subjz, snap.SubjzErr)
	}
	if _, err := src.Fetch(context.Background(), Request{Sort: "stop"}); err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("sort=stop on open connections: %v, want the server's 400", err)
	}
}

func TestHTTPSource_OurEndpoints(t *testing.T) {
	want := snap(0, 1, true)
	var gotQuery string
	mux := http.NewServeMux()
	mux.HandleFunc("/mon/varz", func(w http.ResponseWriter, r *http.Request) { writeJSON(t, w, want.Varz) })
	mux.HandleFunc("/mon/connz", func(w http.ResponseWriter, r *http.Request) {
		gotQuery = r.URL.RawQuery
		writeJSON(t, w, want.Connz)
	})
	mux.HandleFunc("/mon/subjz", func(w http.ResponseWriter, r *http.Request) { writeJSON(t, w, want.Subjz) })
	ts := httptest.NewServer(mux)
	defer ts.Close()
	src, err := NewHTTPSource(ts.URL+"/mon", ts.Client())
	if err != nil {
		t.Fatal(err)
	}
	got, err := src.Fetch(context.Background(), Request{Sort: monitorapi.ByOutBytes, Limit: 50, Subs: true, Subjects: true})
	if err != nil {
		t.Fatal(err)
	}
	if gotQuery != "limit=50&sort=bytes_to&subs=1" {
		t.Fatalf("connz query %q", gotQuery)
	}
	if got.Subjz == nil || len(got.Subjz.Subjects) != 3 || got.Subjz.Subjects[0].Subject != "orders.new" || len(got.Connz.Conns) != 3 {
		t.Fatalf("snapshot %+v", got)
	}
}

func TestHTTPSource_Errors(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "monitoring disabled for maintenance", http.StatusServiceUnavailable)
	}))
	src, err := NewHTTPSource(ts.URL, ts.Client())
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.Fetch(context.Background(), Request{})
	if err == nil || !strings.Contains(err.Error(), "GET /varz: 503 Service Unavailable: monitoring disabled") {
		t.Fatalf("503: %v", err)
	}
	ts.Close()
	_, err = src.Fetch(context.Background(), Request{})
	if err == nil || !strings.Contains(err.Error(), "GET /varz: ") {
		t.Fatalf("closed server: %v", err)
	}
	for _, bad := range []string{"nats://127.0.0.1:4222", "http://", "::"} {
		if _, err := NewHTTPSource(bad, nil); err == nil {
			t.Errorf("NewHTTPSource(%q) accepted", bad)
		}
	}
}
