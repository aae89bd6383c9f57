package monitorapi

import (
	"regexp"
	"strconv"
	"testing"
	"time"
)

func TestFormatUptime(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{-time.Second, "0s"},
		{999 * time.Millisecond, "0s"},
		{59 * time.Second, "59s"},
		{time.Minute, "1m0s"},
		{time.Hour + 2*time.Minute + 3*time.Second, "1h2m3s"},
		{time.Hour + 5*time.Second, "1h0m5s"},
		{2*day + 3*time.Hour, "2d3h0m0s"},
		{364*day + 23*time.Hour + 59*time.Minute + 59*time.Second, "364d23h59m59s"},
		{365 * day, "1y0d0h0m0s"},
		{366*day + time.Second, "1y1d0h0m1s"},
	}
	for _, tt := range tests {
		if got := FormatUptime(tt.d); got != tt.want {
			t.Errorf("FormatUptime(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

var uptimeRE = regexp.MustCompile(`^(?:(\d+)y)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(\d+)s$`)

// FuzzFormatUptime checks two properties: below one day the text equals
// time.Duration.String of the whole seconds (an independent oracle), and
// every text parses back to the same whole seconds with in-range units.
func FuzzFormatUptime(f *testing.F) {
	for _, s := range []int64{0, 1, 59, 60, 3599, 3600, 86399, 86400, 31535999, 31536000, 9e9} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, secs int64) {
		if secs < 0 || secs > 9e9 { // beyond 9e9 s a time.Duration overflows
			t.Skip()
		}
		d := time.Duration(secs) * time.Second
		got := FormatUptime(d)
		if secs < 86400 && got != d.String() {
			t.Fatalf("FormatUptime(%v) = %q, want %q", d, got, d.String())
		}
		m := uptimeRE.FindStringSubmatch(got)
		if m == nil {
			t.Fatalf("FormatUptime(%v) = %q: not y?d?h?m?s", d, got)
		}
		mult := []int64{365 * 86400, 86400, 3600, 60, 1}
		limit := []int64{-1, 365, 24, 60, 60}
		var total int64
		leading := true // no larger unit printed yet
		for i, s := range m[1:] {
			if s == "" {
				if !leading {
					t.Fatalf("%q: unit %d dropped after a larger one", got, i)
				}
				continue
			}
			n, _ := strconv.ParseInt(s, 10, 64)
			if !leading && n >= limit[i] {
				t.Fatalf("%q: unit %d out of range", got, i)
			}
			leading = false
			total += n * mult[i]
		}
		if total != secs {
			t.Fatalf("%q parses back to %ds, want %ds", got, total, secs)
		}
	})
}
