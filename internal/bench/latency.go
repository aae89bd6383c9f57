package bench

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in nanoseconds from 1 ns to maxLatency with three
// significant digits; slower values are clamped to maxLatency (and counted).
const maxLatency = int64(time.Minute)

// Latency is an HDR histogram of latencies. One per receiver; merged after
// the run. Not safe for concurrent use.
type Latency struct {
	h       *hdrhistogram.Histogram
	clamped int64
}

// NewLatency returns an empty histogram.
func NewLatency() *Latency {
	return &Latency{h: hdrhistogram.New(1, maxLatency, 3)}
}

// Record adds one latency.
func (l *Latency) Record(d time.Duration) {
	v := int64(d)
	switch {
	case v < 1:
		v = 1 // a clock step back; count it as the smallest latency
	case v > maxLatency:
		v = maxLatency
		l.clamped++
	}
	_ = l.h.RecordValue(v) // in range by construction
}

// Merge adds o's values.
func (l *Latency) Merge(o *Latency) {
	l.h.Merge(o.h)
	l.clamped += o.clamped
}

// Count is the number of values recorded.
func (l *Latency) Count() int64 { return l.h.TotalCount() }

// Percentiles reported, in percent.
var Percentiles = []float64{50, 90, 99, 99.9, 99.99}

// LatencySummary is what reports show of a histogram.
type LatencySummary struct {
	Count       int64             `json:"count"`
	Min         time.Duration     `json:"min_ns"`
	Mean        time.Duration     `json:"mean_ns"`
	Stddev      time.Duration     `json:"stddev_ns"`
	Max         time.Duration     `json:"max_ns"`
	Percentiles []PercentileValue `json:"percentiles"`
	Clamped     int64             `json:"clamped,omitempty"`
	Bars        []LatencyBar      `json:"bars,omitempty"`
}

// PercentileValue is one percentile's latency.
type PercentileValue struct {
	Percentile float64       `json:"percentile"`
	Value      time.Duration `json:"ns"`
}

// LatencyBar is one bucket of the bar chart: values in (From, To].
type LatencyBar struct {
	From  time.Duration `json:"from_ns"`
	To    time.Duration `json:"to_ns"`
	Count int64         `json:"count"`
}

// Summary computes percentiles and a bar chart of about bars buckets.
func (l *Latency) Summary(bars int) *LatencySummary {
	h := l.h
	s := &LatencySummary{
		Count:   h.TotalCount(),
		Clamped: l.clamped,
	}
	if s.Count == 0 {
		return s
	}
	s.Min = time.Duration(h.Min())
	s.Max = time.Duration(h.Max())
	s.Mean = time.Duration(h.Mean())
	s.Stddev = time.Duration(h.StdDev())
	for _, p := range Percentiles {
		s.Percentiles = append(s.Percentiles, PercentileValue{p, time.Duration(h.ValueAtPercentile(p))})
	}
	s.Bars = l.bars(bars)
	return s
}

// P returns percentile p from the summary, or 0 when absent.
func (s *LatencySummary) P(p float64) time.Duration {
	for _, v := range s.Percentiles {
		if v.Percentile == p {
			return v.Value
		}
	}
	return 0
}

// bars groups the histogram into about n log-spaced buckets from min to max.
func (l *Latency) bars(n int) []LatencyBar {
	h := l.h
	hmin, hmax := h.Min(), h.Max() // each a walk over the counts
	lo, hi := float64(max(hmin, 1)), float64(max(hmax, 1))
	if n < 1 {
		return nil
	}
	if hi <= lo || h.ValuesAreEquivalent(hmin, hmax) {
		return []LatencyBar{{From: time.Duration(lo) - 1, To: time.Duration(hi), Count: h.TotalCount()}}
	}
	step := math.Pow(hi/lo, 1/float64(n))
	out := make([]LatencyBar, n)
	edge := lo
	for i := range out {
		next := edge * step
		if i == n-1 {
			next = hi
		}
		out[i] = LatencyBar{From: time.Duration(edge), To: time.Duration(next)}
		edge = next
	}
	out[0].From = time.Duration(lo) - 1
	for _, b := range h.Distribution() {
		if b.Count == 0 {
			continue
		}
		v := hi
		if float64(b.To) < v {
			v = float64(b.To)
		}
		i := 0
		if v > lo {
			i = min(n-1, int(math.Log(v/lo)/math.Log(step)))
		}
		out[i].Count += b.Count
	}
	return out
}

// WriteBars draws the chart as text, one bar per bucket, width columns wide
// for the largest.
func (s *LatencySummary) WriteBars(w io.Writer, width int) error {
	var top int64
	for _, b := range s.Bars {
		top = max(top, b.Count)
	}
	if top == 0 {
		return nil
	}
	for _, b := range s.Bars {
		n := int(float64(b.Count) / float64(top) * float64(width))
		if n == 0 && b.Count > 0 {
			n = 1
		}
		pct := float64(b.Count) / float64(s.Count) * 100
		if _, err := fmt.Fprintf(w, "%10s %-*s %6.2f%% %d\n", "≤ "+fmtDur(b.To), width, strings.Repeat("█", n), pct, b.Count); err != nil {
			return err
		}
	}
	return nil
}

// WriteHgrm writes the percentile distribution in HdrHistogram's text
// format (.hgrm, values in microseconds), which plotting tools read.
func (l *Latency) WriteHgrm(w io.Writer) error {
	_, err := l.h.PercentilesPrint(w, 5, 1e3)
	return err
}

// fmtDur prints a duration with three significant digits in a fixed unit.
func fmtDur(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d)
	case d < time.Millisecond:
		return fmt.Sprintf("%.3gµs", float64(d)/1e3)
	case d < time.Second:
		return fmt.Sprintf("%.3gms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.3gs", d.Seconds())
}
