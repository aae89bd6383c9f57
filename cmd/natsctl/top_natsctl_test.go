package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natsctl/natsctl/internal/iostreams"
	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
	"github.com/natsctl/natsctl/internal/tui"
)

// natsctlServer runs our own server with monitoring and the same traffic as
// liveServer: two named connections, 4 messages of 5 bytes on top.test.
func natsctlServer(t *testing.T) *server.Server {
	t.Helper()
	s := servertest.Run(t, servertest.Monitoring)
	sub, err := nats.Connect(s.ClientURL(), nats.Name("top-sub"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sub.Close)
	pub, err := nats.Connect(s.ClientURL(), nats.Name("top-pub"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Close)
	ss, err := sub.SubscribeSync("top.test")
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
		if _, err := ss.NextMsg(5 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestRunTop_OnceAgainstNatsctlServe: natsctl top's --once path reads our
// own server's monitoring endpoint as it reads nats-server's.
func TestRunTop_OnceAgainstNatsctlServe(t *testing.T) {
	s := natsctlServer(t)
	ios, _, out, _ := iostreams.Test()
	o := topOpts(ios, s.MonitorURL())
	o.Sort, o.Once = "msgs_from", true
	if err := runTop(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	var first, second string
	for i, l := range lines {
		if strings.Contains(l, "CID") && strings.Contains(l, "MSGS_FROM") {
			first, second = lines[i+1], lines[i+2]
			break
		}
	}
	if !strings.Contains(out.String(), "Connections polled: 2 of 2") || !strings.Contains(out.String(), s.ID()) {
		t.Fatalf("no table for our server:\n%s", out)
	}
	if f := strings.Fields(first); !strings.Contains(first, "top-pub") || f[6] != "4" || f[8] != "20" {
		t.Fatalf("first row %q (fields %q)\n%s", first, f, out)
	}
	if f := strings.Fields(second); !strings.Contains(second, "top-sub") || f[5] != "4" || !strings.Contains(second, "top.test") {
		t.Fatalf("second row %q\n%s", second, out)
	}
}

// TestRunTop_JSONAgainstNatsctlServe: the --json snapshot carries /subjz,
// which only our server has.
func TestRunTop_JSONAgainstNatsctlServe(t *testing.T) {
	s := natsctlServer(t)
	ios, _, out, _ := iostreams.Test()
	o := topOpts(ios, s.MonitorURL())
	o.JSON = true
	if err := runTop(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	var snap tui.Snapshot
	if err := json.Unmarshal(out.Bytes(), &snap); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if snap.Varz.InMsgs != 4 || snap.Connz.NumConns != 2 {
		t.Fatalf("in_msgs %d connections %d, want 4 and 2", snap.Varz.InMsgs, snap.Connz.NumConns)
	}
	if snap.Subjz == nil || len(snap.Subjz.Subjects) != 1 || snap.Subjz.Subjects[0].Subject != "top.test" || snap.Subjz.Subjects[0].Msgs != 4 {
		t.Fatalf("subjz = %+v", snap.Subjz)
	}
}
