package bench

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestLatency_Percentiles(t *testing.T) {
	l := NewLatency()
	for i := 1; i <= 10000; i++ {
		l.Record(time.Duration(i) * time.Microsecond) // 1µs .. 10ms, uniform
	}
	s := l.Summary(10)
	if s.Count != 10000 {
		t.Fatalf("Count = %d", s.Count)
	}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{50, 5 * time.Millisecond}, {90, 9 * time.Millisecond}, {99, 9900 * time.Microsecond}, {99.9, 9990 * time.Microsecond}, {99.99, 9999 * time.Microsecond}} {
		got := s.P(tc.p)
		if diff := got - tc.want; diff < -tc.want/500 || diff > tc.want/500 { // 3 significant digits
			t.Errorf("p%v = %v, want %v ±0.2%%", tc.p, got, tc.want)
		}
	}
	if s.Min != time.Microsecond || s.Max < 9990*time.Microsecond || s.Max > 10010*time.Microsecond {
		t.Errorf("min %v max %v", s.Min, s.Max)
	}
	var n int64
	for _, b := range s.Bars {
		n += b.Count
	}
	if n != s.Count || len(s.Bars) != 10 {
		t.Errorf("%d bars hold %d values, want 10 bars holding %d", len(s.Bars), n, s.Count)
	}
	if s.P(12) != 0 {
		t.Error("a percentile not computed must read 0")
	}
}

func TestLatency_MergeAndClamp(t *testing.T) {
	a, b := NewLatency(), NewLatency()
	a.Record(time.Millisecond)
	b.Record(2 * time.Hour)
	b.Record(-5) // a clock step back
	a.Merge(b)
	s := a.Summary(4)
	if s.Count != 3 || s.Clamped != 1 || s.Min != 1 {
		t.Errorf("merged summary = count %d clamped %d min %v", s.Count, s.Clamped, s.Min)
	}
	if s.Max < time.Minute-time.Second {
		t.Errorf("max = %v, want the clamp (1m)", s.Max)
	}
}

func TestLatency_OneValueAndEmpty(t *testing.T) {
	if s := NewLatency().Summary(5); s.Count != 0 || len(s.Bars) != 0 {
		t.Errorf("empty summary = %+v", s)
	}
	l := NewLatency()
	l.Record(time.Millisecond)
	l.Record(time.Millisecond)
	s := l.Summary(5)
	if len(s.Bars) != 1 || s.Bars[0].Count != 2 {
		t.Errorf("bars of one value = %+v", s.Bars)
	}
	var buf bytes.Buffer
	if err := s.WriteBars(&buf, 10); err != nil || !strings.Contains(buf.String(), "100.00%") {
		t.Errorf("WriteBars = %q, %v", buf.String(), err)
	}
}

func TestLatency_WriteHgrm(t *testing.T) {
	l := NewLatency()
	for i := 1; i <= 100; i++ {
		l.Record(time.Duration(i) * time.Millisecond)
	}
	var buf bytes.Buffer
	if err := l.WriteHgrm(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "Percentile") || !strings.Contains(out, "Total count") {
		t.Fatalf("not an .hgrm:\n%s", out)
	}
	// Values are in microseconds: the 100 ms maximum reads about 100000.
	if !strings.Contains(out, "1000") {
		t.Errorf("values not in µs:\n%s", out)
	}
}
