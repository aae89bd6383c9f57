package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/natsctl/natsctl/internal/iostreams"
)

// runRoot runs a natsctl command line in-process.
func runRoot(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	code = run(context.Background(), args, ios)
	return out.String(), errOut.String(), code
}

func TestContextCommands(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("NATS_CONTEXT", "")
	// A natscli context, as `nats context add` writes it.
	ncDir := filepath.Join(dir, "nats", "context")
	if err := os.MkdirAll(ncDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ncDir, "legacy.json"),
		[]byte(`{"description":"from nats","url":"nats://legacy:4222","user":"u","password":"p","nsc":""}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "nats", "context.txt"), []byte("legacy\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	if _, errOut, code := runRoot(t, "context", "add", "local", "-s", "nats://127.0.0.1:4222", "--description", "laptop", "--password", "secret"); code != 0 {
		t.Fatalf("add: %d %s", code, errOut)
	}
	out, _, code := runRoot(t, "context", "ls")
	if code != 0 || !strings.Contains(out, "legacy*") || !strings.Contains(out, "local") || !strings.Contains(out, "nats://legacy:4222") {
		t.Fatalf("ls (natscli selection):\n%s", out)
	}
	if _, errOut, code := runRoot(t, "context", "select", "local"); code != 0 {
		t.Fatalf("select: %s", errOut)
	}
	out, _, _ = runRoot(t, "context", "ls", "--json")
	var rows []struct {
		Name     string `json:"name"`
		Source   string `json:"source"`
		Password string `json:"password"`
		Selected bool   `json:"selected"`
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 2 {
		t.Fatalf("ls --json %q: %v", out, err)
	}
	if rows[1].Name != "local" || !rows[1].Selected || rows[1].Source != "natsctl" || rows[1].Password == "secret" {
		t.Fatalf("rows %+v", rows)
	}
	out, _, _ = runRoot(t, "context", "show")
	if !strings.Contains(out, "laptop") || strings.Contains(out, "secret") {
		t.Fatalf("show:\n%s", out)
	}
	out, _, _ = runRoot(t, "context", "show", "legacy")
	if !strings.Contains(out, "from nats") {
		t.Fatalf("show legacy:\n%s", out)
	}
	if _, errOut, code := runRoot(t, "context", "rm", "legacy"); code == 0 || !strings.Contains(errOut, "nats context rm") {
		t.Fatalf("rm natscli context: %d %s", code, errOut)
	}
	if _, errOut, code := runRoot(t, "context", "rm", "local"); code != 0 {
		t.Fatalf("rm: %s", errOut)
	}
	if _, errOut, code := runRoot(t, "context", "select", "nope"); code == 0 || !strings.Contains(errOut, `no context named "nope"`) {
		t.Fatalf("select missing: %s", errOut)
	}
	// With ours gone, natscli's selection applies again.
	if got := newContextStore().selected(); got != "legacy" {
		t.Fatalf("selected %q", got)
	}
	if fi, err := os.Stat(filepath.Join(dir, "natsctl", "contexts.yaml")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("contexts file: %v %v", fi, err)
	}
}

// TestContextUsedByCommands: a context's server and credentials reach the
// connection, here against a server that requires them.
func TestContextUsedByCommands(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("NATS_URL", "")
	t.Setenv("NATS_CONTEXT", "")
	p := startNatsServerWithUser(t, "ctxuser", "ctxpass")
	if _, errOut, code := runRoot(t, "context", "add", "auth", "-s", p, "--user", "ctxuser", "--password", "ctxpass"); code != 0 {
		t.Fatal(errOut)
	}
	if _, errOut, code := runRoot(t, "pub", "--context", "auth", "x", "y"); code != 0 {
		t.Fatalf("pub with context: %s", errOut)
	}
	t.Setenv("NATS_CONTEXT", "auth")
	if _, errOut, code := runRoot(t, "pub", "x", "y"); code != 0 {
		t.Fatalf("pub with NATS_CONTEXT: %s", errOut)
	}
	_, errOut, code := runRoot(t, "pub", "--password", "wrong", "x", "y")
	if code == 0 || !strings.Contains(errOut, "not authorized") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("wrong password: %d %q", code, errOut)
	}
}
