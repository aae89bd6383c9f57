//go:build linux

package server

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// BenchmarkMsgPathCPU is the message path without sockets: one goroutine
// feeds batches of 1000 PUBs through a connection's parser, subject match
// and delivery into a subscriber's outbound buffer (emptied after each
// batch), exactly as the read loop does. ns/op is wall time per message
// (on a busy machine mostly waiting for a CPU); path-cpu-ns/msg is the
// CPU time of the goroutine's thread per message, the message path's own
// cost; cpu-ns/msg is the whole process's CPU time per message, so it
// includes a poller goroutine's work. The variants:
//
//	subjz=off|on     the sampled top-subjects counter (subjz.go)
//	poller=off|on    another process GETs /connz?subs=1 every 100 ms, with
//	                 50 more connections of 5 subscriptions each to list
//
//	go test -run XXX -bench MsgPathCPU -count 10 ./internal/server/ > b.txt
//	benchstat -col /subjz -filter /poller:off b.txt
//	benchstat -col /poller -filter /subjz:on b.txt
func BenchmarkMsgPathCPU(b *testing.B) {
	for _, subjz := range []string{"off", "on"} {
		for _, poller := range []string{"off", "on"} {
			b.Run(fmt.Sprintf("subjz=%s/poller=%s", subjz, poller), func(b *testing.B) {
				benchMsgPathCPU(b, subjz == "on", poller == "on")
			})
		}
	}
}

func processCPU() time.Duration { return rusage(syscall.RUSAGE_SELF) }

// threadCPU is the calling thread's CPU time: with the goroutine locked to
// its thread, the message path's own cost, whatever else the machine runs.
func threadCPU() time.Duration { return rusage(syscall.RUSAGE_THREAD) }

func rusage(who int) time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(who, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fakeConn registers a connection on one end of a pipe, with no goroutines:
// the benchmark drives it.
func fakeConn(b *testing.B, s *Server, connect string, subs ...string) *conn {
	nc, peer := net.Pipe()
	b.Cleanup(func() { peer.Close() })
	c := newConn(s, nc, s.nextCID.Add(1))
	if err := c.processConnect([]byte(connect)); err != nil {
		b.Fatal(err)
	}
	for i, subj := range subs {
		if err := c.processSub([]byte(subj), nil, []byte(strconv.Itoa(i+1))); err != nil {
			b.Fatal(err)
		}
	}
	clear(c.pcd)
	c.mu.Lock()
	putChunks(c.out.take(nil))
	c.pending = 0
	c.mu.Unlock()
	s.mu.Lock()
	s.conns[c.cid] = c
	s.mu.Unlock()
	return c
}

func benchMsgPathCPU(b *testing.B, subjz, poll bool) {
	s, err := New(Options{Host: "127.0.0.1", Port: -1, HTTPPort: -1})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Shutdown(b.Context()) })
	if !subjz {
		s.mon.subjRate.Store(0)
	}
	const quiet = `{"verbose":false,"pedantic":false}`
	sub := fakeConn(b, s, quiet, "bench.>")
	pub := fakeConn(b, s, quiet)
	if poll {
		for i := 0; i < 50; i++ {
			var subs []string
			for j := 0; j < 5; j++ {
				subs = append(subs, "idle."+strconv.Itoa(i)+"."+strconv.Itoa(j))
			}
			fakeConn(b, s, `{"verbose":false,"name":"idle"}`, subs...)
		}
	}
	subjects := []string{"bench.orders.new", "bench.orders.paid", "bench.users", "bench.metrics.cpu"}
	var batch []byte
	for i := 0; i < 1000; i++ {
		batch = append(batch, "PUB "+subjects[i%len(subjects)]+" 16\r\n0123456789abcdef\r\n"...)
	}

	if poll {
		// The poller is another process, as nats-top would be: the
		// server's CPU figures then hold the handler's work, not the
		// HTTP client's.
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperPoller$")
		cmd.Env = append(os.Environ(), "NATSCTL_HELPER_POLL_URL="+s.MonitorURL()+"/connz?subs=1")
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		polled := s.mon.reqs[2].Load()
		for s.mon.reqs[2].Load() == polled {
			time.Sleep(time.Millisecond) // the poller's first request: it is running
		}
	}
	batches := (b.N + 999) / 1000
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	cpu0, th0 := processCPU(), threadCPU()
	for i := 0; i < batches; i++ {
		if err := pub.p.parse(batch, pub); err != nil {
			b.Fatal(err)
		}
		pub.flushBatch()
		sub.mu.Lock()
		putChunks(sub.out.take(nil))
		sub.pending = 0
		sub.mu.Unlock()
	}
	th, cpu := threadCPU()-th0, processCPU()-cpu0
	b.StopTimer()
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(batches*1000), "cpu-ns/msg")
	b.ReportMetric(float64(th.Nanoseconds())/float64(batches*1000), "path-cpu-ns/msg")
	if got := sub.sent.msgs; got != int64(batches*1000) {
		b.Fatalf("delivered %d of %d", got, batches*1000)
	}
}

// BenchmarkSubjectSampleHook isolates what the top-subjects counter adds to
// each PUB (the countdown in processPub and, once per gap, sampleSubject),
// cycling through 4 subjects. Divide the on-off difference by
// BenchmarkMsgPathCPU's cpu-ns/msg for its share of the message path.
func BenchmarkSubjectSampleHook(b *testing.B) {
	subjects := [][]byte{[]byte("bench.orders.new"), []byte("bench.orders.paid"), []byte("bench.users"), []byte("bench.metrics.cpu")}
	for _, rate := range []int64{0, defaultSubjRate} {
		name := "subjz=off"
		if rate > 0 {
			name = "subjz=on"
		}
		b.Run(name, func(b *testing.B) {
			s, err := New(Options{Host: "127.0.0.1", Port: -1})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Shutdown(b.Context()) })
			s.mon.subjRate.Store(rate)
			c := fakeConn(b, s, `{"verbose":false}`)
			for i := 0; i < subjExactFirst; i++ { // past the exact start
				c.sampleSubject(subjects[0], 16)
			}
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ResetTimer()
			th0 := threadCPU()
			for i := 0; i < b.N; i++ {
				if c.subj.skip--; c.subj.skip < 0 {
					c.sampleSubject(subjects[i&3], 16)
				}
			}
			b.ReportMetric(float64(threadCPU()-th0)/float64(b.N), "cpu-ns/msg")
		})
	}
}

// TestHelperPoller is the poller process of BenchmarkMsgPathCPU: it GETs
// NATSCTL_HELPER_POLL_URL every 100 ms until killed.
func TestHelperPoller(t *testing.T) {
	url := os.Getenv("NATSCTL_HELPER_POLL_URL")
	if url == "" {
		t.Skip("helper process for BenchmarkMsgPathCPU")
	}
	c := &http.Client{Timeout: 5 * time.Second}
	for range time.Tick(100 * time.Millisecond) {
		if resp, err := c.Get(url); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
}
