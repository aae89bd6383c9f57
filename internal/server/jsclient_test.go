package server_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/natsctl/natsctl/internal/server/servertest"
)

// TestOtherLanguage_NatsJS runs the official nats.js client (test/js, npm
// package "nats", installed by .ci/run with `npm ci`) against our server.
func TestOtherLanguage_NatsJS(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the nats.js smoke test needs Node.js")
	}
	dir, _ := filepath.Abs("../../test/js")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "nats")); err != nil {
		t.Skipf("nats.js is not installed: run `npm ci --prefix %s` (.ci/run does)", dir)
	}
	s := servertest.Run(t)
	cmd := exec.Command(node, "smoke.js", s.ClientURL())
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("nats.js smoke test: %v\n%s", err, out)
	}
}
