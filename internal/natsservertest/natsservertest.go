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
	"strconv"
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

	exited  chan struct{} // closed when the process has exited
	cleanup func()
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
	return StartOnPort(t, -1, args...)
}

// StartOnPort is Start with a given client port (-1: random). Tests that stop
// a server and start it again at the same address use it with p.Port().
func StartOnPort(t testing.TB, port int, args ...string) *Proc {
	t.Helper()
	bin := Binary(t)
	p, err := launch(bin, t.TempDir(), port, args)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop() })
	return p
}

// Launch is Start for code without a testing.TB (a TestMain that runs
// Examples against a server). The caller must Stop the server.
func Launch(args ...string) (*Proc, error) {
	findOnce.Do(func() { binPath, findErr = find() })
	if findErr != nil {
		return nil, fmt.Errorf("nats-server %s is not available: %w (install it with `go install github.com/nats-io/nats-server/v2@%s`)", Version, findErr, Version)
	}
	dir, err := os.MkdirTemp("", "natsservertest")
	if err != nil {
		return nil, err
	}
	p, err := launch(binPath, dir, -1, args)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p.cleanup = func() { os.RemoveAll(dir) }
	return p, nil
}

func launch(bin, dir string, port int, args []string) (*Proc, error) {
	full := append([]string{"-a", "127.0.0.1", "-p", strconv.Itoa(port), "--ports_file_dir", dir}, args...)
	p := &Proc{Log: &bytes.Buffer{}}
	p.Cmd = exec.Command(bin, full...)
	lw := &lockedWriter{w: p.Log}
	p.Cmd.Stdout, p.Cmd.Stderr = lw, lw
	if err := p.Cmd.Start(); err != nil {
		return nil, fmt.Errorf("start nats-server: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = p.Cmd.Wait()
		close(exited)
	}()
	p.exited = exited
	deadline := time.Now().Add(10 * time.Second)
	pattern := filepath.Join(dir, "*.ports")
	for {
		if m, _ := filepath.Glob(pattern); len(m) > 0 {
			b, err := os.ReadFile(m[0])
			var pf portsFile
			if err == nil && json.Unmarshal(b, &pf) == nil && len(pf.Nats) > 0 {
				// A restarted server leaves the old file behind; remove it
				// so that the next start waits for its own report.
				os.Remove(m[0])
				p.ClientURL = pf.Nats[0]
				if len(pf.Monitoring) > 0 {
					p.MonitorURL = pf.Monitoring[0]
				}
				return p, nil
			}
		}
		select {
		case <-exited:
			return nil, fmt.Errorf("nats-server exited before reporting its ports; log:\n%s", p.Log)
		default:
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("nats-server did not report its ports within 10s; log:\n%s", p.Log)
		}
		time.Sleep(10 * time.Millisecond) // polling a file the process writes
	}
}

// Port returns the client port.
func (p *Proc) Port() int {
	i := strings.LastIndexByte(p.ClientURL, ':')
	n, _ := strconv.Atoi(p.ClientURL[i+1:])
	return n
}

// Stop kills the server and waits for it to exit; it is safe to call twice.
func (p *Proc) Stop() {
	_ = p.Cmd.Process.Kill()
	<-p.exited
	if p.cleanup != nil {
		p.cleanup()
	}
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
