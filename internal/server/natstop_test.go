package server_test

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/server/servertest"
)

// TestNatsTop_OneShot runs the real nats-top (github.com/nats-io/nats-top,
// not on the module proxy: build it from its repository and put it on PATH
// or in NATS_TOP) in one-shot mode against our server. Skipped without it.
func TestNatsTop_OneShot(t *testing.T) {
	bin := os.Getenv("NATS_TOP")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("nats-top"); err != nil {
			t.Skip("nats-top not installed (set NATS_TOP to its binary)")
		}
	}
	s := servertest.Run(t, servertest.Monitoring)
	knownTraffic(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-s", "127.0.0.1", "-m", strconv.Itoa(s.MonitorAddr().Port), "-o", "-", "-sort", "msgs_from", "-u").CombinedOutput()
	if err != nil {
		t.Fatalf("nats-top: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{s.ID(), "In:   Msgs: 100", "Out:  Msgs: 100", "Connections Polled: 3", "orders.new"} {
		if !strings.Contains(text, want) {
			t.Errorf("nats-top output lacks %q:\n%s", want, text)
		}
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if strings.Contains(l, "MSGS_FROM") {
			if f := strings.Fields(lines[i+1]); len(f) < 7 || f[2] != "pub" || f[6] != "100" {
				t.Errorf("first row under sort=msgs_from: %q", lines[i+1])
			}
		}
	}
}
