package main

import (
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestHeavyRestart_MillionMessages fills a file-backed stream with one
// million small messages through the server, stops it, and measures how
// long a restarted `natsctl serve` takes from exec to answering STREAM.INFO
// (target: under 2 s; the figure is logged for docs/PERFORMANCE.md, not
// asserted, since timing depends on the machine).
func TestHeavyRestart_MillionMessages(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy: one million messages")
	}
	n := 1_000_000
	if s := os.Getenv("NATSCTL_RESTART_MSGS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	dir := t.TempDir()
	p := startServe(t, "--store_dir", dir)
	nc, err := nats.Connect(p.url)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	ctx := ctxFor(t)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "BIG", Subjects: []string{"big.*"}}); err != nil {
		t.Fatal(err)
	}
	payload := []byte("0123456789abcdef")
	start := time.Now()
	for i := 0; i < n; i++ {
		if i%4000 == 0 {
			// Wait for the window's acks rather than trip the client's
			// stall limit on a loaded machine.
			select {
			case <-js.PublishAsyncComplete():
			case <-time.After(time.Minute):
				t.Fatalf("acks stopped at %d", i)
			}
		}
		if _, err := js.PublishAsync("big."+strconv.Itoa(i%100), payload); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(5 * time.Minute):
		t.Fatal("acks did not arrive")
	}
	t.Logf("published %d messages in %v", n, time.Since(start))
	nc.Close()
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done

	begin := time.Now()
	p2 := startServe(t, "--store_dir", dir)
	nc2, err := nats.Connect(p2.url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc2.Close()
	js2, _ := jetstream.New(nc2)
	st, err := js2.Stream(ctx, "BIG")
	took := time.Since(begin)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.CachedInfo().State.Msgs; got != uint64(n) {
		t.Fatalf("after restart: %d messages, want %d", got, n)
	}
	t.Logf("restart with %d messages: stream info answered %v after exec", n, took)
}
