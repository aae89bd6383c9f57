package bench

import (
	"math"
	"time"
)

// ClientStats are one client's counts over its active period.
type ClientStats struct {
	Name  string    `json:"name"`
	Msgs  int64     `json:"msgs"`
	Bytes int64     `json:"bytes"` // payload plus headers
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Elapsed is the client's active time.
func (c ClientStats) Elapsed() time.Duration { return c.End.Sub(c.Start) }

// MsgsPerSec is the client's message rate (0 when no time elapsed).
func (c ClientStats) MsgsPerSec() float64 { return rate(float64(c.Msgs), c.Elapsed()) }

// MBPerSec is the client's byte rate in MB (10^6 bytes) per second.
func (c ClientStats) MBPerSec() float64 { return rate(float64(c.Bytes), c.Elapsed()) / 1e6 }

func rate(n float64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return n / d.Seconds()
}

// Spread is min, mean, max and population standard deviation of a set.
type Spread struct {
	Min    float64 `json:"min"`
	Avg    float64 `json:"avg"`
	Max    float64 `json:"max"`
	Stddev float64 `json:"stddev"`
}

func spread(xs []float64) Spread {
	if len(xs) == 0 {
		return Spread{}
	}
	s := Spread{Min: math.Inf(1), Max: math.Inf(-1)}
	var sum float64
	for _, x := range xs {
		s.Min, s.Max = min(s.Min, x), max(s.Max, x)
		sum += x
	}
	s.Avg = sum / float64(len(xs))
	var sq float64
	for _, x := range xs {
		sq += (x - s.Avg) * (x - s.Avg)
	}
	s.Stddev = math.Sqrt(sq / float64(len(xs)))
	return s
}

// Group is one side of a run (publishers, subscribers, requesters): the
// aggregate over the span from the earliest start to the latest end, and the
// spread of per-client rates.
type Group struct {
	Role       string        `json:"role"`
	Clients    []ClientStats `json:"clients"`
	Msgs       int64         `json:"msgs"`
	Bytes      int64         `json:"bytes"`
	Elapsed    time.Duration `json:"elapsed_ns"`
	MsgsPerSec float64       `json:"msgs_per_sec"`
	MBPerSec   float64       `json:"mb_per_sec"`
	ClientMsgs Spread        `json:"client_msgs_per_sec"`
	ClientMB   Spread        `json:"client_mb_per_sec"`
}

// NewGroup aggregates clients.
func NewGroup(role string, clients []ClientStats) *Group {
	g := &Group{Role: role, Clients: clients}
	if len(clients) == 0 {
		return g
	}
	start, end := clients[0].Start, clients[0].End
	msgs := make([]float64, len(clients))
	mb := make([]float64, len(clients))
	for i, c := range clients {
		g.Msgs += c.Msgs
		g.Bytes += c.Bytes
		if c.Start.Before(start) {
			start = c.Start
		}
		if c.End.After(end) {
			end = c.End
		}
		msgs[i], mb[i] = c.MsgsPerSec(), c.MBPerSec()
	}
	g.Elapsed = end.Sub(start)
	g.MsgsPerSec = rate(float64(g.Msgs), g.Elapsed)
	g.MBPerSec = rate(float64(g.Bytes), g.Elapsed) / 1e6
	g.ClientMsgs, g.ClientMB = spread(msgs), spread(mb)
	return g
}

// split divides n as evenly as possible into k shares, larger ones first.
func split(n, k int) []int {
	out := make([]int, k)
	for i := range out {
		out[i] = n / k
		if i < n%k {
			out[i]++
		}
	}
	return out
}
