package store

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

func TestLockDir_SecondLockFails(t *testing.T) {
	dir := t.TempDir()
	l, err := LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = LockDir(dir)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "process "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("second lock in the same process: %v", err)
	}
	if out, err := runHelper(t, "lock", dir); err == nil || !strings.Contains(out, "store directory is in use") {
		t.Fatalf("lock from another process: %v, output %q", err, out)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if out, err := runHelper(t, "lock", dir); err != nil {
		t.Fatalf("lock from another process after unlock: %v %s", err, out)
	}
	l2, err := LockDir(dir)
	if err != nil {
		t.Fatalf("relock: %v", err)
	}
	_ = l2.Unlock()
}

// runHelper re-executes the test binary as a helper (see TestMain).
func runHelper(t *testing.T, mode, dir string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperDirEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
