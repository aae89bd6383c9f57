//go:build linux

package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkMsgPathCost measures what a monitoring feature costs the
// message path, as CPU time per message with the feature on and off.
//
// The path is driven without sockets: one goroutine, locked to its
// thread, feeds batches of 1000 PUBs (4 subjects, 16 bytes) through a
// connection's parser, subject match and delivery into a subscriber's
// outbound buffer (emptied after each batch), exactly as the read loop
// does.
//
// On this kind of machine (2 vCPUs) the CPU time per message moves by up
// to 20% between runs and within one as the other vCPU gets busy or idle,
// far more than the costs to show. So the comparison is paired and fine
// grained: every run alternates short phases with the feature on and off
// (in the order on,off,off,on,... so that a drift cancels), and reports
// both and their difference:
//
//	off-ns/msg, on-ns/msg   the path thread's CPU per message
//	path-cost-%             (on - off) / off of the path thread's CPU
//	proc-cost-%             the same for the whole process's CPU, which
//	                        holds the HTTP handler's work too
//
// The features:
//
//	subjz    the sampled top-subjects counter (subjz.go), switched every
//	         4 batches
//	poller   another process GETs /connz?subs=1, with 50 more connections
//	         of 5 subscriptions each to list; phases of 100 ms, each "on"
//	         phase starting with one request: a poller every 100 ms
//
//	go test -run XXX -bench MsgPathCost -benchtime 8s -count 10 ./internal/server/ > cost.txt
//	benchstat cost.txt
func BenchmarkMsgPathCost(b *testing.B) {
	b.Run("subjz", func(b *testing.B) {
		benchMsgPathCost(b, 0, 4, func(s *Server, pub *conn, on bool) {
			if on {
				s.mon.subjRate.Store(defaultSubjRate)
				pub.subj.skip = 0 // draw a gap at the next PUB
			} else {
				s.mon.subjRate.Store(0) // the next sample parks the countdown
			}
		})
	})
	b.Run("poller", func(b *testing.B) {
		var poller io.Writer
		benchMsgPathCost(b, 50, 0, func(s *Server, _ *conn, on bool) {
			if poller == nil {
				poller = startPoller(b, s)
			}
			if !on {
				return
			}
			// The phase starts with the request going out, not with its
			// answer: the handler runs during the phase.
			if _, err := io.WriteString(poller, "poll\n"); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// threadCPU is the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID,
// exact to the nanosecond, unlike getrusage's tick-sampled figures): with
// the goroutine locked to its thread, the message path's own cost,
// whatever else the machine runs.
func threadCPU() time.Duration { return clockCPU(unix.CLOCK_THREAD_CPUTIME_ID) }

// processCPU is the whole process's CPU time.
func processCPU() time.Duration { return clockCPU(unix.CLOCK_PROCESS_CPUTIME_ID) }

func clockCPU(clock int32) time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(clock, &ts); err != nil {
		panic(err)
	}
	return time.Duration(ts.Nano())
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
	c.pcdLast = nil
	c.mu.Lock()
	putChunks(c.out.take(nil))
	c.pending = 0
	c.mu.Unlock()
	s.mu.Lock()
	s.conns[c.cid] = c
	s.mu.Unlock()
	return c
}

// msgPath is the driven path: a publisher, a subscriber on bench.> and a
// batch of PUBs.
type msgPath struct {
	pub, sub *conn
	batch    []byte
}

func newMsgPath(b *testing.B, s *Server, idleConns int) *msgPath {
	const quiet = `{"verbose":false,"pedantic":false}`
	p := &msgPath{sub: fakeConn(b, s, quiet, "bench.>"), pub: fakeConn(b, s, quiet)}
	for i := 0; i < idleConns; i++ {
		var subs []string
		for j := 0; j < 5; j++ {
			subs = append(subs, "idle."+strconv.Itoa(i)+"."+strconv.Itoa(j))
		}
		fakeConn(b, s, `{"verbose":false,"name":"idle"}`, subs...)
	}
	subjects := []string{"bench.orders.new", "bench.orders.paid", "bench.users", "bench.metrics.cpu"}
	for i := 0; i < 1000; i++ {
		p.batch = append(p.batch, "PUB "+subjects[i%len(subjects)]+" 16\r\n0123456789abcdef\r\n"...)
	}
	return p
}

// run feeds n batches through the path.
func (p *msgPath) run(b *testing.B, n int) {
	for i := 0; i < n; i++ {
		if err := p.pub.p.parse(p.batch, p.pub); err != nil {
			b.Fatal(err)
		}
		p.pub.flushBatch()
		p.sub.mu.Lock()
		putChunks(p.sub.out.take(nil))
		p.sub.pending = 0
		p.sub.mu.Unlock()
	}
}

// phase runs n batches of an on or off phase through phaseOn or phaseOff,
// which are there so that an instruction counter (valgrind --tool=callgrind)
// tells the two apart.
func (p *msgPath) phase(b *testing.B, on bool, n int) {
	if on {
		p.phaseOn(b, n)
	} else {
		p.phaseOff(b, n)
	}
}

//go:noinline
func (p *msgPath) phaseOn(b *testing.B, n int) { p.run(b, n) }

//go:noinline
func (p *msgPath) phaseOff(b *testing.B, n int) { p.run(b, n) }

// benchMsgPathCost runs b.N messages (at least) in phases alternately
// with the feature on and off (set switches it) and reports both. A phase
// is batchesPerPhase batches, or with 0 the batches of 100 ms.
func benchMsgPathCost(b *testing.B, idleConns, batchesPerPhase int, set func(s *Server, pub *conn, on bool)) {
	s, err := New(Options{Host: "127.0.0.1", Port: -1, HTTPPort: -1})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Shutdown(b.Context()) })
	p := newMsgPath(b, s, idleConns)
	set(s, p.pub, false)

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	var th, proc [2]time.Duration // [off, on]
	var msgs [2]int
	for i := 0; msgs[0]+msgs[1] < b.N || msgs[0] == 0 || msgs[1] == 0; i++ {
		on := i%4 == 0 || i%4 == 3 // on,off,off,on: a linear drift cancels
		k := 0
		if on {
			k = 1
		}
		set(s, p.pub, on)
		th0, proc0 := threadCPU(), processCPU()
		n := batchesPerPhase
		if n == 0 {
			for end := time.Now().Add(100 * time.Millisecond); time.Now().Before(end); n += 10 {
				p.phase(b, on, 10)
			}
		} else {
			p.phase(b, on, n)
		}
		th[k] += threadCPU() - th0
		proc[k] += processCPU() - proc0
		msgs[k] += n * 1000
	}
	b.StopTimer()
	perMsg := func(d time.Duration, n int) float64 { return float64(d.Nanoseconds()) / float64(n) }
	off, on := perMsg(th[0], msgs[0]), perMsg(th[1], msgs[1])
	b.ReportMetric(off, "off-ns/msg")
	b.ReportMetric(on, "on-ns/msg")
	b.ReportMetric(100*(on-off)/off, "path-cost-%")
	poff, pon := perMsg(proc[0], msgs[0]), perMsg(proc[1], msgs[1])
	b.ReportMetric(100*(pon-poff)/poff, "proc-cost-%")
	if got := p.sub.sent.msgs; got != int64(msgs[0]+msgs[1]) {
		b.Fatalf("delivered %d of %d", got, msgs[0]+msgs[1])
	}
}

// startPoller starts the poller process of BenchmarkMsgPathCost and
// returns its control input: each line makes it GET /connz?subs=1 once.
func startPoller(b *testing.B, s *Server) io.Writer {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperPoller$")
	cmd.Env = append(os.Environ(), "NATSCTL_HELPER_POLL_URL="+s.MonitorURL()+"/connz?subs=1")
	ctl, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ctl.Close(); cmd.Wait() })
	return ctl
}

// BenchmarkSubjectSampleHook isolates what the top-subjects counter adds to
// each PUB (the countdown in processPub and, once per gap, sampleSubject),
// cycling through 4 subjects.
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

// TestHelperPoller is the poller process of BenchmarkMsgPathCost: it
// GETs NATSCTL_HELPER_POLL_URL once for each line of its input and ends
// with its input.
func TestHelperPoller(t *testing.T) {
	url := os.Getenv("NATSCTL_HELPER_POLL_URL")
	if url == "" {
		t.Skip("helper process for BenchmarkMsgPathCost")
	}
	c := &http.Client{Timeout: 5 * time.Second}
	for sc := bufio.NewScanner(os.Stdin); sc.Scan(); {
		resp, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
