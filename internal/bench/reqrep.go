package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/natsctl/natsctl/internal/client"
)

func init() {
	Register("reqrep", func(c *Config) (Scenario, error) {
		c.Pubs, c.Subs = orDefault(c.Pubs, 1), orDefault(c.Subs, 1)
		if c.Size < stampLen {
			return nil, fmt.Errorf("reqrep measures latency: --size must be at least %d bytes", stampLen)
		}
		if c.Warmup > 0 {
			return nil, errors.New("reqrep has no warm-up yet: drop --warmup (closed-loop requests warm up in their first milliseconds)")
		}
		return reqRep{}, nil
	})
}

// reqRep runs Subs responders in one queue group, echoing each request, and
// Pubs requesters. Without --rate each requester waits for its reply before
// the next request (closed loop); with --rate requests leave on schedule
// whatever the replies do (open loop), so latency includes queueing.
// Latency is reply receipt minus the request's due time, carried in it.
type reqRep struct{}

func (reqRep) Run(ctx context.Context, e *Env) (*Result, error) {
	res := &Result{}
	cs := &conns{ctx: ctx, e: e}
	defer cs.close()
	hdrLen := headerLen(e.Header)
	reps := make([]*receiver, e.Subs)
	for i := range reps {
		name := fmt.Sprintf("rep #%d", i+1)
		nc, err := cs.open(name)
		if err != nil {
			return nil, err
		}
		r := newReceiver(name, hdrLen, false)
		s, err := nc.QueueSubscribe(e.Subject, e.Queue, func(m *client.Msg) {
			r.handle(m)
			switch {
			case m.Reply == "":
			case m.Header != nil:
				_ = m.RespondMsg(&client.Msg{Header: m.Header, Data: m.Data})
			default:
				_ = m.Respond(m.Data)
			}
		})
		if err != nil {
			return nil, fmt.Errorf("%s: subscribe: %w", name, err)
		}
		s.SetPendingLimits(-1, 1<<30)
		if err := nc.Flush(ctx); err != nil {
			return nil, fmt.Errorf("%s: flush: %w", name, err)
		}
		reps[i] = r
	}

	reqs := make([]*receiver, e.Pubs)
	specs := make([]sendSpec, e.Pubs)
	pubs := make([]*client.Conn, e.Pubs)
	counts := split(e.Msgs, e.Pubs)
	start := time.Now()
	var until time.Time
	if e.Duration > 0 {
		until = start.Add(e.Duration)
		counts = make([]int, e.Pubs)
	}
	for i := range reqs {
		name := fmt.Sprintf("req #%d", i+1)
		nc, err := cs.open(name)
		if err != nil {
			return nil, err
		}
		r := newReceiver(name, hdrLen, true)
		inbox := client.NewInbox()
		s, err := nc.Subscribe(inbox, r.handle)
		if err != nil {
			return nil, fmt.Errorf("%s: subscribe: %w", name, err)
		}
		s.SetPendingLimits(-1, 1<<30)
		if err := nc.Flush(ctx); err != nil {
			return nil, fmt.Errorf("%s: flush: %w", name, err)
		}
		spec := sendSpec{name: name, idx: i, n: counts[i], until: until, stampTime: true, reply: inbox}
		if e.Rate > 0 {
			spec.pace = newPacer(start, e.Rate/float64(e.Pubs))
		} else {
			r.signal = make(chan struct{}, 1)
			spec.replies = r.signal
		}
		reqs[i], specs[i], pubs[i] = r, spec, nc
	}

	start = time.Now()
	for i := range specs {
		if specs[i].pace != nil {
			specs[i].pace.start = start
		}
		if !until.IsZero() {
			specs[i].until = start.Add(e.Duration)
		}
	}
	sent := make([]ClientStats, e.Pubs)
	errs := make([]error, e.Pubs)
	var wg sync.WaitGroup
	for i, nc := range pubs {
		if specs[i].n == 0 && specs[i].until.IsZero() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sent[i], errs[i] = e.send(ctx, nc, specs[i])
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// Each requester waits for the replies to what it sent.
	progress := func() (int64, bool) {
		var n int64
		done := true
		for i, r := range reqs {
			c := r.count.Load()
			n += c
			done = done && c >= sent[i].Msgs
		}
		return n, done
	}
	if !waitUntil(ctx.Done(), progress, e.RecvTimeout) && ctx.Err() == nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("requesters stopped waiting after %s without a reply: the rest are counted as lost", e.RecvTimeout))
	}

	stats := make([]ClientStats, e.Pubs)
	var d Delivery
	hist := NewLatency()
	for i, r := range reqs {
		st := r.stats(start)
		st.Start = sent[i].Start
		if sent[i].End.After(st.End) {
			st.End = sent[i].End
		}
		if st.Start.IsZero() {
			st.Start, st.End = start, start
		}
		stats[i] = st
		d = d.Add(r.delivery(sent[i].Msgs))
		r.mu.Lock()
		hist.Merge(r.lat)
		r.mu.Unlock()
	}
	repStats := make([]ClientStats, e.Subs)
	for i, r := range reps {
		repStats[i] = r.stats(start)
	}
	res.Groups = append(res.Groups, NewGroup("req", stats), NewGroup("rep", repStats))
	res.Delivery = &d
	res.hist = hist
	if hist.Count() > 0 {
		res.Latency = hist.Summary(latencyBars)
	}
	return res, nil
}
