// Package natsservertest finds (or installs) the reference nats-server and runs
// it as a real process on random loopback ports, so that our client and
// commands are tested against the implementation they must match.
package natsservertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Version is the reference release we test against.
const Version = "v2.15.2"

var (
	findOnce sync.Once
	binPath  string
	findErr  error
)

// Binary returns the path of a nats-server binary: $NATS_SERVER_BIN, one on
// PATH, one in $(go env GOPATH)/bin, or one it installs with `go install`.
// It skips the test, saying why, when none can be had.
func Binary(t testing.TB) string {
	t.Helper()
	findOnce.Do(func() { binPath, findErr = find() })
	if findErr != nil {
		t.Skipf("nats-server %s is not available: %v (install it with `go install github.com/nats-io/nats-server/v2@%s`)", Version, findErr, Version)
	}
	return binPath
}

func find() (string, error) {
	if p := os.Getenv("NATS_SERVER_BIN"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("nats-server"); err == nil {
		return p, nil
	}
	gopath, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOPATH: %w", err)
	}
	p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "nats-server")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	cmd := exec.Command("go", "install", "github.com/nats-io/nats-server/v2@"+Version)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install: %v: %s", err, bytes.TrimSpace(out))
	}
	if _, err := os.Stat(p); err != nil {
		return "", err
	}
	return p, nil
}

// Proc is a running nats-server.
type Proc struct {
	Cmd *exec.Cmd
	// ClientURL is nats://127.0.0.1:PORT; MonitorURL is http://127.0.0.1:PORT
	// when monitoring was asked for (args include "-m", "-1").
	ClientURL  string
	MonitorURL string
	Log        *bytes.Buffer
}

type portsFile struct {
	Nats       []string `json:"nats"`
	Monitoring []string `json:"monitoring"`
}

// Start runs nats-server on 127.0.0.1 with a random client port plus args
// (for example "-m", "-1" for a random monitoring port, or "-c", file) and
// stops it when the test ends. It waits until the server reports its ports.
func Start(t testing.TB, args ...string) *Proc {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	full := append([]string{"-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", dir}, args...)
	p := &Proc{Log: &bytes.Buffer{}}
	p.Cmd = exec.Command(bin, full...)
	lw := &lockedWriter{w: p.Log}
	p.Cmd.Stdout, p.Cmd.Stderr = lw, lw
	if err := p.Cmd.Start(); err != nil {
		t.Fatalf("start nats-server: %v", err)
	}
	t.Cleanup(func() { p.Stop() })
	deadline := time.Now().Add(10 * time.Second)
	pattern := filepath.Join(dir, "*.ports")
	for {
		if m, _ := filepath.Glob(pattern); len(m) > 0 {
			b, err := os.ReadFile(m[0])
			var pf portsFile
			if err == nil && json.Unmarshal(b, &pf) == nil && len(pf.Nats) > 0 {
				p.ClientURL = pf.Nats[0]
				if len(pf.Monitoring) > 0 {
					p.MonitorURL = pf.Monitoring[0]
				}
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server did not report its ports within 10s; log:\n%s", p.Log)
		}
		time.Sleep(10 * time.Millisecond) // polling a file the process writes
	}
}

// Stop kills the server and waits for it to exit; it is safe to call twice.
func (p *Proc) Stop() {
	if p.Cmd.ProcessState != nil {
		return
	}
	_ = p.Cmd.Process.Kill()
	_ = p.Cmd.Wait()
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
