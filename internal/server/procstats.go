package server

import (
	"sync"
	"time"
)

// procUsage samples the process's CPU use (percent of one core, averaged
// since the previous sample at least half a second ago, as nats-server's
// /varz cpu) and resident memory.
type procUsage struct {
	mu      sync.Mutex
	wall    time.Time
	cpuTime time.Duration
	pct     float64
}

func (p *procUsage) sample() (cpu float64, rss int64) {
	now := time.Now()
	t := processCPUTime()
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.wall.IsZero():
		p.wall, p.cpuTime = now, t
	case now.Sub(p.wall) >= 500*time.Millisecond:
		p.pct = 100 * float64(t-p.cpuTime) / float64(now.Sub(p.wall))
		p.wall, p.cpuTime = now, t
	}
	return p.pct, residentMemory()
}
