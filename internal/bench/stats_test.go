package bench

import (
	"math"
	"testing"
	"time"
)

func TestClientStats_Rates(t *testing.T) {
	t0 := time.Unix(1000, 0)
	c := ClientStats{Msgs: 500, Bytes: 2_000_000, Start: t0, End: t0.Add(2 * time.Second)}
	if got := c.MsgsPerSec(); got != 250 {
		t.Errorf("MsgsPerSec = %v, want 250", got)
	}
	if got := c.MBPerSec(); got != 1 {
		t.Errorf("MBPerSec = %v, want 1", got)
	}
	if got := (ClientStats{Msgs: 5, Start: t0, End: t0}).MsgsPerSec(); got != 0 {
		t.Errorf("rate over no time = %v, want 0", got)
	}
}

func TestNewGroup_AggregatesOverTheWholeSpan(t *testing.T) {
	t0 := time.Unix(1000, 0)
	g := NewGroup("pub", []ClientStats{
		{Name: "a", Msgs: 100, Bytes: 1000, Start: t0, End: t0.Add(time.Second)},                             // 100/s
		{Name: "b", Msgs: 300, Bytes: 3000, Start: t0.Add(time.Second), End: t0.Add(2 * time.Second)},        // 300/s
		{Name: "c", Msgs: 200, Bytes: 2000, Start: t0.Add(time.Second), End: t0.Add(3 * time.Second)},        // 100/s
		{Name: "d", Msgs: 0, Bytes: 0, Start: t0.Add(2 * time.Second), End: t0.Add(2500 * time.Millisecond)}, // 0/s
	})
	if g.Msgs != 600 || g.Bytes != 6000 {
		t.Errorf("totals = %d msgs %d bytes, want 600, 6000", g.Msgs, g.Bytes)
	}
	if g.Elapsed != 3*time.Second {
		t.Errorf("Elapsed = %v, want 3s (earliest start to latest end)", g.Elapsed)
	}
	if g.MsgsPerSec != 200 {
		t.Errorf("MsgsPerSec = %v, want 200", g.MsgsPerSec)
	}
	if g.MBPerSec != 0.002 {
		t.Errorf("MBPerSec = %v, want 0.002", g.MBPerSec)
	}
	want := Spread{Min: 0, Avg: 125, Max: 300, Stddev: math.Sqrt((125*125 + 25*25 + 175*175 + 25*25) / 4.0)}
	if g.ClientMsgs != want {
		t.Errorf("ClientMsgs = %+v, want %+v", g.ClientMsgs, want)
	}
}

func TestNewGroup_Empty(t *testing.T) {
	g := NewGroup("sub", nil)
	if g.Msgs != 0 || g.MsgsPerSec != 0 || g.ClientMsgs != (Spread{}) {
		t.Errorf("empty group = %+v", g)
	}
}

func TestSpread(t *testing.T) {
	s := spread([]float64{2, 4, 4, 4, 5, 5, 7, 9})
	if s != (Spread{Min: 2, Avg: 5, Max: 9, Stddev: 2}) {
		t.Errorf("spread = %+v, want min 2 avg 5 max 9 stddev 2", s)
	}
	if one := spread([]float64{3}); one != (Spread{3, 3, 3, 0}) {
		t.Errorf("spread of one = %+v", one)
	}
}

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		n, k int
		want []int
	}{
		{10, 3, []int{4, 3, 3}},
		{9, 3, []int{3, 3, 3}},
		{2, 4, []int{1, 1, 0, 0}},
		{0, 2, []int{0, 0}},
	} {
		got := split(tc.n, tc.k)
		sum := 0
		for i := range got {
			sum += got[i]
			if got[i] != tc.want[i] {
				t.Errorf("split(%d, %d) = %v, want %v", tc.n, tc.k, got, tc.want)
				break
			}
		}
		if sum != tc.n {
			t.Errorf("split(%d, %d) sums to %d", tc.n, tc.k, sum)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{
		{nil, 0}, {[]float64{5}, 5}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := Median(tc.xs); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.xs, got, tc.want)
		}
	}
	xs := []float64{3, 1, 2}
	Median(xs)
	if xs[0] != 3 {
		t.Error("Median reordered its argument")
	}
}

func TestPacer_DueTimesAreOnScheduleWhateverTheCaller(t *testing.T) {
	start := time.Now().Add(-time.Hour) // long past: no sleeping, every send is late
	p := newPacer(start, 1000)
	for i := range 5 {
		if due := p.wait(); !due.Equal(start.Add(time.Duration(i) * time.Millisecond)) {
			t.Fatalf("send %d due %v, want start+%dms", i, due.Sub(start), i)
		}
	}
	if newPacer(start, 0) != nil {
		t.Error("rate 0 must mean no pacer")
	}
}
