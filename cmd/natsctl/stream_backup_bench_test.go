package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestBenchStreamBackup times `natsctl stream backup` and `restore` of
// 100,000 messages of 128 bytes between nats-server and natsctl (in
// process). It runs only with NATSCTL_BENCH=1:
//
//	NATSCTL_BENCH=1 go test -run TestBenchStreamBackup -v -count=1 ./cmd/natsctl/
func TestBenchStreamBackup(t *testing.T) {
	if os.Getenv("NATSCTL_BENCH") == "" {
		t.Skip("set NATSCTL_BENCH=1 to run the backup benchmark")
	}
	const n = 100_000
	nsrv, ours, back := startNatsServer(t), startOurs(t), startNatsServer(t)
	js := natsJSFor(t, nsrv)
	ctx := ctxFor(t)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "B", Subjects: []string{"b.*"}}); err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, 128)
	for i := range n {
		if _, err := js.PublishAsync(fmt.Sprintf("b.%d", i%100), payload); err != nil {
			t.Fatal(err)
		}
	}
	<-js.PublishAsyncComplete()
	dir := t.TempDir()
	step := func(what string, args ...string) {
		start := time.Now()
		if _, errOut, err := natsctlRun(t, args...); err != nil {
			t.Fatalf("%s: %v\n%s", what, err, errOut)
		}
		d := time.Since(start)
		t.Logf("%-32s %8.2fs %10.0f msgs/s", what, d.Seconds(), n/d.Seconds())
	}
	f1, f2 := filepath.Join(dir, "from-nats-server"), filepath.Join(dir, "from-natsctl")
	step("backup from nats-server", "stream", "backup", "B", f1, "-s", nsrv)
	step("restore into natsctl", "stream", "restore", f1, "-s", ours)
	step("backup from natsctl", "stream", "backup", "B", f2, "-s", ours)
	step("restore into nats-server", "stream", "restore", f2, "-s", back)
	if fi, err := os.Stat(f1); err == nil {
		t.Logf("backup file: %d bytes for %d messages", fi.Size(), n)
	}
}
