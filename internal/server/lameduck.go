package server

import (
	"context"
	"time"
)

// LameDuck stops accepting at once, tells every client (INFO with ldm:true)
// so that it can move to another server, waits the grace period, closes the
// clients spread over lame_duck_duration but at most one second apart (in
// batches when there are many), then shuts down.
func (s *Server) LameDuck(ctx context.Context) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return s.Shutdown(ctx)
	}
	s.closing, s.ldm = true, true
	s.mu.Unlock()
	s.ln.Close()
	s.log.Info("entering lame duck mode", "grace_period", s.opts.LameDuckGracePeriod, "duration", s.opts.LameDuckDuration)

	info := s.info
	info.LameDuckMode = true
	if s.cluster != nil {
		// The clients move to the other servers of the cluster.
		info.ConnectURLs, info.Cluster = s.clusterLameDuck(), s.ClusterName()
	}
	for _, c := range s.snapshotConns() {
		ci := info
		ci.ClientID, ci.ClientIP = c.cid, c.host
		c.enqueue(infoLine(&ci))
	}

	if !sleepCtx(ctx, s.opts.LameDuckGracePeriod) {
		return s.Shutdown(ctx)
	}
	conns := s.snapshotConns()
	if n := len(conns); n > 0 {
		// Spread closes over the duration, one batch per interval, with
		// intervals of at most one second.
		interval := s.opts.LameDuckDuration / time.Duration(n)
		batch := 1
		if interval > time.Second {
			interval = time.Second
		}
		if interval < time.Millisecond {
			interval = time.Millisecond
		}
		if steps := int(s.opts.LameDuckDuration / interval); steps > 0 && steps < n {
			batch = (n + steps - 1) / steps
		}
		for i, c := range conns {
			c.closeConn(closeLameDuck, true)
			if (i+1)%batch == 0 && i+1 < n && !sleepCtx(ctx, interval) {
				break
			}
		}
	}
	return s.Shutdown(ctx)
}

// sleepCtx waits d or until ctx ends; false when ctx ended.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
