package tui

import (
	"math"
	"strconv"
)

// formatCount writes a count or rate compactly with 1000-based suffixes
// (as nats-top does): 999, 1.2K, 35M, 2.0B, 1.1T. Rates below 10 keep one
// decimal so a trickle does not read as 0.
func formatCount(v float64) string {
	return humanize(v, 1000, []string{"", "K", "M", "B", "T"})
}

// formatBytes writes a byte count or byte rate with 1024-based suffixes:
// 512, 1.5K, 12M, 3.0G.
func formatBytes(v float64) string {
	return humanize(v, 1024, []string{"", "K", "M", "G", "T"})
}

func humanize(v, base float64, units []string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return "0"
	}
	i := 0
	for v >= base && i < len(units)-1 {
		v /= base
		i++
	}
	switch {
	case i == 0 && v == math.Trunc(v):
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v < 10:
		return strconv.FormatFloat(v, 'f', 1, 64) + units[i]
	default:
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64) + units[i]
	}
}
