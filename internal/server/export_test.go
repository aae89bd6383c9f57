package server

// SetSubjectSampling sets the top-subjects counter's mean sampling gap (1:
// count every message exactly, 0: off), for tests and benchmarks.
func SetSubjectSampling(s *Server, n int) { s.mon.subjRate.Store(int64(n)) }
