package client

import "sync"

// dispatcher runs connection callbacks one at a time, in order, on its own
// goroutine, so that user code never runs under a connection lock and a slow
// callback never blocks the read loop.
type dispatcher struct {
	mu      sync.Mutex
	q       []func()
	kick    chan struct{}
	closing bool
	done    chan struct{}
}

func newDispatcher() *dispatcher {
	d := &dispatcher{kick: make(chan struct{}, 1), done: make(chan struct{})}
	go d.run()
	return d
}

// push queues f; after close it is dropped.
func (d *dispatcher) push(f func()) {
	d.mu.Lock()
	if d.closing {
		d.mu.Unlock()
		return
	}
	d.q = append(d.q, f)
	d.mu.Unlock()
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// close runs what is queued, then stops.
func (d *dispatcher) close() {
	d.mu.Lock()
	d.closing = true
	d.mu.Unlock()
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

func (d *dispatcher) run() {
	defer close(d.done)
	for range d.kick {
		for {
			d.mu.Lock()
			q := d.q
			d.q = nil
			closing := d.closing
			d.mu.Unlock()
			for _, f := range q {
				f()
			}
			if len(q) == 0 {
				if closing {
					return
				}
				break
			}
		}
	}
}
