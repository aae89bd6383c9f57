package server

import (
	"sync"
	"time"

	"github.com/natsctl/natsctl/internal/monitorapi"
)

// maxClosedConns bounds the closed connections /connz remembers, as
// nats-server's default max_closed_clients.
const maxClosedConns = 10000

// closedConn is what /connz?state=closed shows of one ended connection: its
// last ConnInfo, frozen at close, and its subscriptions then.
type closedConn struct {
	info monitorapi.ConnInfo // Subs and SubsDetail empty; filled per request
	subs []monitorapi.SubDetail
	rtt  time.Duration
	acc  string
	user string
}

// closedRing keeps the last maxClosedConns closed connections, oldest
// overwritten first.
type closedRing struct {
	mu    sync.Mutex
	buf   []*closedConn
	next  int // where the next one goes once buf is full
	limit int
}

func (r *closedRing) add(cc *closedConn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.limit == 0 {
		r.limit = maxClosedConns
	}
	if len(r.buf) < r.limit {
		r.buf = append(r.buf, cc)
		return
	}
	r.buf[r.next] = cc
	r.next = (r.next + 1) % r.limit
}

// list returns the remembered connections, oldest first. The entries are
// shared: callers copy before changing one.
func (r *closedRing) list() []*closedConn {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*closedConn, 0, len(r.buf))
	out = append(out, r.buf[r.next:]...)
	return append(out, r.buf[:r.next]...)
}

// setSlowConsumer attaches the slow-consumer attribution, computed after
// the close, to a remembered connection.
func (r *closedRing) setSlowConsumer(cc *closedConn, sc *monitorapi.SlowConsumerSub) {
	r.mu.Lock()
	cc.info.SlowConsumer = sc
	r.mu.Unlock()
}

// connClosed records c in the closed ring and, for a slow consumer, works
// out off the message path which subscription held the most of what it
// had not been sent. Called once per connection from closeConn, with no
// lock held.
func (s *Server) connClosed(c *conn, reason closeReason, held heldOut) {
	if reason == closeStale {
		s.mon.stale.Add(1)
	}
	c.foldSubjects()
	row := c.snapshot(time.Now(), true)
	cc := &closedConn{info: *row.info, subs: row.subs, rtt: row.rtt, acc: row.acc, user: row.user}
	s.mon.closed.add(cc)
	if len(held.writing) == 0 && len(held.queued) == 0 {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		buf, skip := held.bytes()
		sc := attributePending(buf, skip, cc.subs)
		if sc == nil {
			return
		}
		s.mon.closed.setSlowConsumer(cc, sc)
		c.log.Warn("slow consumer: most pending bytes were for one subscription", "reason", reason.String(),
			"subject", sc.Subject, "qgroup", sc.Queue, "sid", sc.Sid, "msg_subject", sc.MsgSubject,
			"pending_bytes", sc.PendingBytes, "pending_msgs", sc.PendingMsgs)
	}()
}
