package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestVersion_Stamped: the values the release stamps through ldflags are
// what `natsctl version` and `natsctl --version` print.
func TestVersion_Stamped(t *testing.T) {
	old := [3]string{version, commit, date}
	t.Cleanup(func() { version, commit, date = old[0], old[1], old[2] })
	version, commit, date = "1.2.3", "0123abc", "2026-01-02T03:04:05Z"
	want := "natsctl 1.2.3 (commit 0123abc, built 2026-01-02T03:04:05Z, " + runtime.Version() + ")\n"
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errOut := runArgs(t, args...)
		if code != 0 || out != want {
			t.Errorf("natsctl %v: exit %d, %q (stderr %q), want %q", args, code, out, errOut, want)
		}
	}
}

// TestVersion_Unstamped: without ldflags the build info (or "dev") fills in,
// never an empty field.
func TestVersion_Unstamped(t *testing.T) {
	old := [3]string{version, commit, date}
	t.Cleanup(func() { version, commit, date = old[0], old[1], old[2] })
	version, commit, date = "", "", ""
	v, c, d := buildVersion()
	if v == "" || c == "" || d == "" {
		t.Fatalf("empty field: %q %q %q", v, c, d)
	}
	if _, out, _ := runArgs(t, "version"); !strings.HasPrefix(out, "natsctl "+v+" (commit "+c) || !strings.Contains(out, runtime.Version()) {
		t.Fatalf("version printed %q", out)
	}
}

// TestVersion_Ldflags builds the binary with goreleaser.yaml's ldflags and
// checks that the stamp reaches the output. (No -trimpath: that would
// rebuild everything instead of reusing natsctlBin's cache.)
func TestVersion_Ldflags(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "natsctl")
	ld := "-s -w -X main.version=9.8.7-test -X main.commit=feedbee -X main.date=2026-02-03T04:05:06Z"
	build := exec.Command("go", "build", "-ldflags", ld, "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "natsctl 9.8.7-test (commit feedbee, built 2026-02-03T04:05:06Z, "; !strings.HasPrefix(string(out), want) {
		t.Fatalf("got %q, want prefix %q", out, want)
	}
}
