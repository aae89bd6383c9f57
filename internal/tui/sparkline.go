package tui

// sparkBars are the eight block heights of a sparkline cell.
var sparkBars = []rune("▁▂▃▄▅▆▇█")

// sparkline renders the last width values of vals, scaled to their maximum,
// right-aligned (newest at the right) and padded with spaces on the left.
// All-zero data is a flat line of the lowest bar.
func sparkline(vals []float64, width int) string {
	if width <= 0 {
		return ""
	}
	if len(vals) > width {
		vals = vals[len(vals)-width:]
	}
	maxV := 0.0
	for _, v := range vals {
		maxV = max(maxV, v)
	}
	out := make([]rune, 0, width)
	for i := len(vals); i < width; i++ {
		out = append(out, ' ')
	}
	for _, v := range vals {
		i := 0
		if maxV > 0 && v > 0 {
			i = int(v / maxV * float64(len(sparkBars)-1))
			i = min(max(i, 1), len(sparkBars)-1) // any traffic shows above the floor
		}
		out = append(out, sparkBars[i])
	}
	return string(out)
}
