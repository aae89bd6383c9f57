//go:build linux

package server_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

// BenchmarkMsgPath measures the server's CPU time per message (the whole
// process's user+system time divided by messages, reported as cpu-ns/msg;
// the raw clients are cheap: one write per 1000 messages, one read per
// 64 KiB) with and without the monitoring features that could cost the
// message path:
//
//	subjz=off|on      the sampled top-subjects counter
//	poller=off|on     a client polling /connz?subs=1 every 100 ms, with 50
//	                  extra connections of 5 subscriptions each listed
//
// Compare with benchstat, e.g.:
//
//	go test -run XXX -bench MsgPath -count 10 ./internal/server/ > b.txt
//	benchstat -col /subjz b.txt
func BenchmarkMsgPath(b *testing.B) {
	for _, subjz := range []string{"off", "on"} {
		for _, poller := range []string{"off", "on"} {
			b.Run(fmt.Sprintf("subjz=%s/poller=%s", subjz, poller), func(b *testing.B) {
				benchMsgPath(b, subjz == "on", poller == "on")
			})
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchMsgPath(b *testing.B, subjz, poll bool) {
	s := servertest.Run(b, servertest.Monitoring)
	if !subjz {
		server.SetSubjectSampling(s, 0)
	}
	const payload = 16
	subjects := []string{"bench.orders.new", "bench.orders.paid", "bench.users", "bench.metrics.cpu"}

	// Subscriber: discards what it reads, counting bytes.
	sub := benchConn(b, s, "CONNECT {\"verbose\":false}\r\nSUB bench.> 1\r\nPING\r\n")
	var got atomic.Int64
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		buf := make([]byte, 64<<10)
		for {
			n, err := sub.r.Read(buf)
			got.Add(int64(n))
			if err != nil {
				return
			}
		}
	}()
	// Extra idle connections with subscriptions, for the poller to list.
	if poll {
		for i := 0; i < 50; i++ {
			cmd := "CONNECT {\"verbose\":false,\"name\":\"idle\"}\r\n"
			for j := 0; j < 5; j++ {
				cmd += "SUB idle." + strconv.Itoa(i) + "." + strconv.Itoa(j) + " " + strconv.Itoa(j+1) + "\r\n"
			}
			benchConn(b, s, cmd+"PING\r\n")
		}
	}
	pub := benchConn(b, s, "CONNECT {\"verbose\":false}\r\nPING\r\n")

	// One batch of 1000 messages cycling through the subjects, and the
	// bytes the subscriber receives for it.
	var batch []byte
	var perBatch int64
	for i := 0; i < 1000; i++ {
		subj := subjects[i%len(subjects)]
		batch = append(batch, "PUB "+subj+" "+strconv.Itoa(payload)+"\r\n0123456789abcdef\r\n"...)
		perBatch += int64(len("MSG " + subj + " 1 " + strconv.Itoa(payload) + "\r\n0123456789abcdef\r\n"))
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var polls atomic.Int64
	if poll {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 5 * time.Second}
			t := time.NewTicker(100 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
				}
				resp, err := c.Get(s.MonitorURL() + "/connz?subs=1")
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					polls.Add(1)
				}
			}
		}()
	}

	batches := (b.N + 999) / 1000
	start := got.Load()
	b.SetBytes(payload)
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < batches; i++ {
		if _, err := pub.c.Write(batch); err != nil {
			b.Fatal(err)
		}
	}
	want := start + int64(batches)*perBatch
	for got.Load() < want {
		select {
		case <-readDone:
			b.Fatalf("subscriber closed after %d of %d bytes (slow consumers: %d)", got.Load()-start, want-start, s.SlowConsumers())
		default:
			time.Sleep(50 * time.Microsecond)
		}
	}
	cpu := cpuTime() - cpu0
	b.StopTimer()
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(batches*1000), "cpu-ns/msg")
	if poll && b.N > 100000 && polls.Load() == 0 {
		b.Fatal("the poller never got an answer")
	}
}

type raw struct {
	c net.Conn
	r *bufio.Reader
}

// benchConn connects, sends cmds (ending with PING) and waits for the PONG.
func benchConn(b *testing.B, s *server.Server, cmds string) *raw {
	b.Helper()
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	r := bufio.NewReaderSize(c, 64<<10)
	if _, err := r.ReadString('\n'); err != nil { // INFO
		b.Fatal(err)
	}
	if _, err := c.Write([]byte(cmds)); err != nil {
		b.Fatal(err)
	}
	if l, err := r.ReadString('\n'); err != nil || l != "PONG\r\n" {
		b.Fatalf("%q %v", l, err)
	}
	return &raw{c: c, r: r}
}
