package bench

import "time"

// pacer spaces sends for an open-loop target rate: send i is due at
// start + i*interval whatever happened to earlier sends, so a stall shows up
// as queueing delay in the latency of the sends after it (no coordinated
// omission: latency is measured from the due time, not the actual send).
type pacer struct {
	start    time.Time
	interval time.Duration
	n        int64
}

// newPacer paces at perSec sends per second; perSec <= 0 means no pacing.
func newPacer(start time.Time, perSec float64) *pacer {
	if perSec <= 0 {
		return nil
	}
	return &pacer{start: start, interval: time.Duration(float64(time.Second) / perSec)}
}

// wait returns the due time of the next send, sleeping until it unless it is
// already past.
func (p *pacer) wait() time.Time {
	due := p.start.Add(time.Duration(p.n) * p.interval)
	p.n++
	if d := time.Until(due); d > 0 {
		time.Sleep(d)
	}
	return due
}
