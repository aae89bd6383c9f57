package bench

import (
	"fmt"
	"io"

	"charm.land/bubbles/v2/progress"
)

// NewProgressBar returns an Env.Progress function that redraws a bar on w
// (a terminal) in place, and clears it when the run reaches 1.
func NewProgressBar(w io.Writer) func(float64) {
	bar := progress.New(progress.WithWidth(50), progress.WithDefaultBlend())
	done := false
	return func(f float64) {
		if done {
			return
		}
		if f >= 1 {
			done = true
			fmt.Fprint(w, "\r\x1b[2K")
			return
		}
		fmt.Fprint(w, "\r"+bar.ViewAs(f))
	}
}
