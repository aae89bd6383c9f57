package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/natsservertest"
)

// End-to-end tests run the built binary (natsctlBin, serve_test.go) the way
// a shell script does.

// cli prepares a natsctl command against url with a clean environment.
func cli(t *testing.T, url string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(natsctlBin(t), args...)
	cmd.Env = append(os.Environ(), "NATS_URL="+url, "NATS_CONTEXT=", "XDG_CONFIG_HOME="+t.TempDir())
	return cmd
}

// startBackground starts cmd with stdout to a file and waits for want on
// its stderr.
func startBackground(t *testing.T, cmd *exec.Cmd, stdout io.Writer, want string) <-chan error {
	t.Helper()
	cmd.Stdout = stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	seen := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		found := false
		for sc.Scan() {
			if !found && strings.Contains(sc.Text(), want) {
				found = true
				close(seen)
			}
		}
	}()
	select {
	case <-seen:
	case <-time.After(10 * time.Second):
		t.Fatalf("%v did not print %q", cmd.Args, want)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	return done
}

func waitExit(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(15 * time.Second):
		t.Fatal("process did not exit")
		return nil
	}
}

// TestE2ESubPubScript: `natsctl sub --count 3 --raw foo > out &` then
// `natsctl pub foo --count 3 'msg {{.Count}}'` leaves exactly three lines.
func TestE2ESubPubScript(t *testing.T) {
	url := natsservertest.Start(t).ClientURL
	outPath := filepath.Join(t.TempDir(), "out")
	f, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	done := startBackground(t, cli(t, url, "sub", "--count", "3", "--raw", "foo"), f, "Subscribed")
	if out, err := cli(t, url, "pub", "foo", "--count", "3", "msg {{.Count}}").CombinedOutput(); err != nil {
		t.Fatalf("pub: %v: %s", err, out)
	}
	if err := waitExit(t, done); err != nil {
		t.Fatalf("sub: %v", err)
	}
	b, _ := os.ReadFile(outPath)
	if string(b) != "msg 1\nmsg 2\nmsg 3\n" {
		t.Fatalf("out = %q", b)
	}
}

// TestE2EReplyCommand: `natsctl reply svc --command 'tr a-z A-Z'` answers
// `natsctl req svc hello` with HELLO.
func TestE2EReplyCommand(t *testing.T) {
	url := natsservertest.Start(t).ClientURL
	reply := cli(t, url, "reply", "svc", "--command", "tr a-z A-Z")
	done := startBackground(t, reply, io.Discard, "Replying on")
	out, err := cli(t, url, "req", "--raw", "svc", "hello").Output()
	if err != nil {
		t.Fatalf("req: %v", err)
	}
	if string(out) != "HELLO\n" {
		t.Fatalf("req printed %q", out)
	}
	// Ctrl-C drains and exits cleanly.
	if err := reply.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(t, done); err != nil {
		t.Fatalf("reply after SIGINT: %v", err)
	}
}

// TestE2EBadInput: each gives a one-line error naming the problem and a
// non-zero exit.
func TestE2EBadInput(t *testing.T) {
	url := natsservertest.Start(t).ClientURL
	dead := "nats://127.0.0.1:1"
	// A directory: unreadable as a file even for root.
	creds := filepath.Join(t.TempDir(), "unreadable.creds")
	if err := os.Mkdir(creds, 0o700); err != nil {
		t.Fatal(err)
	}
	// A subscriber that never answers, for the timeout case.
	startBackground(t, cli(t, url, "sub", "silent"), io.Discard, "Subscribed")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"invalid subject", []string{"pub", "a b", "x"}, `invalid subject "a b"`},
		{"bad header", []string{"pub", "-H", "nocolon", "a", "x"}, `bad header "nocolon"`},
		{"missing creds", []string{"pub", "--creds", "/nonexistent/u.creds", "a", "x"}, "/nonexistent/u.creds"},
		{"unreadable creds", []string{"pub", "--creds", creds, "a", "x"}, "unreadable.creds"},
		{"unreachable server", []string{"pub", "-s", dead, "a", "x"}, "no server at nats://127.0.0.1:1: is `natsctl serve` running?"},
		{"no responders", []string{"req", "nobody", "x"}, `no responders on "nobody"`},
		{"request timeout", []string{"req", "--timeout", "1s", "silent", "x"}, `no reply on "silent" within 1s`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr strings.Builder
			cmd := cli(t, url, tc.args...)
			cmd.Stderr = &stderr
			err := cmd.Run()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() == 0 {
				t.Fatalf("exit %v, want non-zero", err)
			}
			msg := stderr.String()
			if strings.Count(msg, "\n") != 1 || !strings.Contains(msg, tc.want) {
				t.Fatalf("stderr %q, want one line containing %q", msg, tc.want)
			}
		})
	}
}

// TestE2ESubInterrupt: Ctrl-C on sub exits 0.
func TestE2ESubInterrupt(t *testing.T) {
	url := natsservertest.Start(t).ClientURL
	sub := cli(t, url, "sub", "foo")
	done := startBackground(t, sub, io.Discard, "Subscribed")
	if err := sub.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(t, done); err != nil {
		t.Fatalf("sub after SIGINT: %v", err)
	}
}
