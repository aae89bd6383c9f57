package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/natsctl/natsctl/internal/client"
)

// The core modes: publishers and subscribers on one subject.
func init() {
	Register("pub", func(c *Config) (Scenario, error) {
		c.Pubs, c.Subs = orDefault(c.Pubs, 1), 0
		return &pubSub{}, nil
	})
	Register("sub", func(c *Config) (Scenario, error) {
		c.Pubs, c.Subs = 0, orDefault(c.Subs, 1)
		return &pubSub{}, nil
	})
	Register("pubsub", func(c *Config) (Scenario, error) {
		c.Pubs, c.Subs = orDefault(c.Pubs, 1), orDefault(c.Subs, 1)
		return &pubSub{latency: true}, nil
	})
	Register("fanout", func(c *Config) (Scenario, error) {
		c.Pubs, c.Subs = orDefault(c.Pubs, 1), orDefault(c.Subs, 5)
		return &pubSub{latency: true}, nil
	})
	Register("queue", func(c *Config) (Scenario, error) {
		c.Pubs, c.Subs = orDefault(c.Pubs, 1), orDefault(c.Subs, 4)
		return &pubSub{queue: true}, nil
	})
}

func orDefault(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

// pubSub runs Pubs publishers and Subs subscribers, each on its own
// connection. Subscribers all get every message, or share them in one queue
// group.
type pubSub struct {
	queue   bool // subscribers form one queue group
	latency bool // stamp send times and record latency
}

func (p *pubSub) Run(ctx context.Context, e *Env) (*Result, error) {
	res := &Result{}
	cs := &conns{ctx: ctx, e: e}
	defer cs.close()

	// Subscribers first, confirmed by a flush, so no message is missed.
	subject := e.Subject
	if e.MultiSubject {
		subject += ".>"
	}
	hdrLen := headerLen(e.Header)
	latency := p.latency || e.Rate > 0
	rcvs := make([]*receiver, e.Subs)
	subs := make([]*client.Subscription, e.Subs)
	for i := range rcvs {
		name := fmt.Sprintf("sub #%d", i+1)
		nc, err := cs.open(name)
		if err != nil {
			return nil, err
		}
		r := newReceiver(name, hdrLen, latency)
		if e.Pubs == 0 {
			r.progress = &e.sent
		}
		var s *client.Subscription
		if p.queue {
			s, err = nc.QueueSubscribe(subject, e.Queue, r.handle)
		} else {
			s, err = nc.Subscribe(subject, r.handle)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: subscribe: %w", name, err)
		}
		// Count, rather than drop, what the application has not taken yet:
		// a backlog shows as time, a drop as a loss.
		s.SetPendingLimits(-1, 1<<30)
		if err := nc.Flush(ctx); err != nil {
			return nil, fmt.Errorf("%s: flush: %w", name, err)
		}
		rcvs[i], subs[i] = r, s
	}
	pubs := make([]*client.Conn, e.Pubs)
	for i := range pubs {
		nc, err := cs.open(fmt.Sprintf("pub #%d", i+1))
		if err != nil {
			return nil, err
		}
		pubs[i] = nc
	}

	if e.Pubs == 0 {
		return p.subscribeOnly(ctx, e, res, rcvs, subs)
	}

	if e.Warmup > 0 {
		if err := p.warmup(ctx, e, pubs, rcvs); err != nil {
			return nil, err
		}
	}

	// The measured run.
	if e.Duration == 0 && !p.queue {
		for _, r := range rcvs {
			r.want.Store(int64(e.Msgs))
		}
	}
	counts := split(e.Msgs, e.Pubs)
	var until time.Time
	start := time.Now()
	if e.Duration > 0 {
		until = start.Add(e.Duration)
		counts = make([]int, e.Pubs)
	}
	stats := make([]ClientStats, e.Pubs)
	errs := make([]error, e.Pubs)
	var wg sync.WaitGroup
	for i, nc := range pubs {
		spec := sendSpec{name: fmt.Sprintf("pub #%d", i+1), idx: i, n: counts[i], until: until, stampTime: latency, timeEvery: latencySample}
		if e.Rate > 0 {
			spec.pace = newPacer(start, e.Rate/float64(e.Pubs))
		}
		if counts[i] == 0 && until.IsZero() {
			stats[i] = ClientStats{Name: spec.name, Start: start, End: start}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			stats[i], errs[i] = e.send(ctx, nc, spec)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	res.Groups = append(res.Groups, NewGroup("pub", stats))
	var sent int64
	for _, s := range stats {
		sent += s.Msgs
	}
	if e.Subs == 0 {
		return res, nil
	}

	want := sent
	if !p.queue {
		for _, r := range rcvs {
			r.want.Store(want)
		}
	}
	progress := allReached(rcvs, measured, want)
	if p.queue {
		progress = sumReached(rcvs, measured, want)
	}
	if !waitUntil(ctx.Done(), progress, e.RecvTimeout) && ctx.Err() == nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("receivers stopped waiting after %s without a message: the rest are counted as lost", e.RecvTimeout))
	}
	for _, s := range subs {
		_ = s.Unsubscribe()
	}
	p.collect(res, rcvs, start, want)
	return res, nil
}

// collect adds the subscriber group, delivery and latency to res.
func (p *pubSub) collect(res *Result, rcvs []*receiver, start time.Time, want int64) {
	stats := make([]ClientStats, len(rcvs))
	var d Delivery
	var merged tracker
	for i, r := range rcvs {
		stats[i] = r.stats(start)
		if p.queue {
			r.mu.Lock()
			merged.merge(&r.tr)
			if r.stamped {
				d.Tracked = true
			}
			d.Received += r.count.Load()
			r.mu.Unlock()
		} else {
			d = d.Add(r.delivery(want))
		}
		r.mu.Lock()
		if r.lat != nil {
			if res.hist == nil {
				res.hist = NewLatency()
			}
			res.hist.Merge(r.lat)
		}
		r.mu.Unlock()
	}
	if p.queue {
		if d.Tracked {
			d = merged.delivery(want)
		} else {
			d.Expected, d.Lost = want, max(0, want-d.Received)
		}
	}
	res.Groups = append(res.Groups, NewGroup("sub", stats))
	res.Delivery = &d
	if res.hist != nil && res.hist.Count() > 0 {
		res.Latency = res.hist.Summary(latencyBars)
	}
}

// latencySample: at saturation one message in latencySample carries its
// send time (see sendSpec.timeEvery); with --rate every message does.
const latencySample = 4

// latencyBars is the number of buckets in the latency bar chart.
const latencyBars = 12

// warmup sends for e.Warmup, marked so receivers do not count it, and waits
// until the receivers have had it, so the measured run starts on a quiet
// server.
func (p *pubSub) warmup(ctx context.Context, e *Env, pubs []*client.Conn, rcvs []*receiver) error {
	until := time.Now().Add(e.Warmup)
	var wg sync.WaitGroup
	sent := make([]int64, len(pubs))
	errs := make([]error, len(pubs))
	for i, nc := range pubs {
		spec := sendSpec{name: fmt.Sprintf("pub #%d", i+1), idx: i, until: until, warmup: true}
		if e.Rate > 0 {
			spec.pace = newPacer(time.Now(), e.Rate/float64(len(pubs)))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := e.send(ctx, nc, spec)
			sent[i], errs[i] = st.Msgs, err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if len(rcvs) == 0 {
		return nil
	}
	var total int64
	for _, n := range sent {
		total += n
	}
	progress := allReached(rcvs, warmed, total)
	if p.queue {
		progress = sumReached(rcvs, warmed, total)
	}
	waitUntil(ctx.Done(), progress, e.RecvTimeout)
	return ctx.Err()
}

// subscribeOnly is the sub mode: wait for Msgs messages per subscriber (or
// for Duration from the first one), until nothing arrives for RecvTimeout
// after the first, or until ctx ends.
func (p *pubSub) subscribeOnly(ctx context.Context, e *Env, res *Result, rcvs []*receiver, subs []*client.Subscription) (*Result, error) {
	var want int64 = -1
	if e.Duration == 0 {
		want = int64(e.Msgs)
		if !p.queue {
			for _, r := range rcvs {
				r.want.Store(want)
			}
		}
	}
	// Wait, unbounded, for the first message.
	first := func() (int64, bool) {
		for _, r := range rcvs {
			if r.count.Load() > 0 {
				return 0, true
			}
		}
		return 0, false
	}
	if !waitUntil(ctx.Done(), first, time.Duration(1<<62)) {
		return nil, ctx.Err()
	}
	var start time.Time
	for _, r := range rcvs {
		st := r.stats(time.Time{})
		if start.IsZero() || (!st.Start.IsZero() && st.Start.Before(start)) {
			start = st.Start
		}
	}
	wctx := ctx
	if e.Duration > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithDeadline(ctx, start.Add(e.Duration))
		defer cancel()
	}
	if want > 0 {
		progress := allReached(rcvs, measured, want)
		if p.queue {
			progress = sumReached(rcvs, measured, want)
		}
		if !waitUntil(wctx.Done(), progress, e.RecvTimeout) && ctx.Err() == nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("stopped waiting after %s without a message: the rest are counted as lost", e.RecvTimeout))
		}
	} else {
		waitUntil(wctx.Done(), func() (int64, bool) {
			var n int64
			for _, r := range rcvs {
				n += r.count.Load()
			}
			return n, false
		}, e.RecvTimeout)
	}
	for _, s := range subs {
		_ = s.Unsubscribe()
	}
	if want < 0 {
		want = 0 // unknown: losses are only those the sequences reveal
	}
	p.collect(res, rcvs, start, want)
	if want == 0 {
		var gaps int64
		for _, r := range rcvs {
			r.mu.Lock()
			gaps += r.tr.gaps()
			r.mu.Unlock()
		}
		res.Delivery.Lost, res.Delivery.Expected = gaps, 0
	}
	return res, nil
}
