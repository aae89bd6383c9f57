package server

import "time"

// SetSubjectSampling sets the top-subjects counter's mean sampling gap (1:
// count every message exactly, 0: off), for tests and benchmarks.
func SetSubjectSampling(s *Server, n int) { s.mon.subjRate.Store(int64(n)) }

// SetStatszInterval changes the STATSZ heartbeat period, for tests.
func SetStatszInterval(s *Server, d time.Duration) {
	s.sys.mu.Lock()
	s.sys.interval = d
	if s.sys.timer != nil {
		s.sys.timer.Reset(d)
	}
	s.sys.mu.Unlock()
}
