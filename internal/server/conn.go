package server

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Read buffer sizes: start small so idle connections stay cheap, grow while
// reads fill the buffer, shrink after repeated short reads (as nats-server).
const (
	minReadBuf   = 512
	maxReadBuf   = 64 * 1024
	maxKeptOut   = 64 * 1024 // outbound buffers larger than this are not reused
	maxL1Entries = 512
	// A producer whose messages push a subscriber's pending bytes past 3/4
	// of max_pending waits up to stallMax after its read batch for that
	// subscriber to drain (as nats-server does), instead of racing it into
	// a slow-consumer disconnect.
	stallMax = 10 * time.Millisecond
)

// conn is one client connection.
type conn struct {
	srv   *Server
	cid   uint64
	nc    net.Conn
	host  string
	port  int
	start time.Time
	log   *slog.Logger

	// Read side: owned by the read goroutine.
	p       parser
	opts    connectOpts
	gotConn bool // CONNECT seen
	l1      map[string]*matchResult
	l1gen   uint64
	pcd     map[*conn]struct{} // connections written to in this read batch
	pcdLast *conn              // the last one added to pcd: saves a map write per message to the same receiver
	scratch []byte             // MSG header being built
	msgBuf  []byte             // in-process publishes: headers and data joined
	// Counted per read batch, then published with one atomic add each.
	inMsgs, inBytes   int64
	outMsgs, outBytes int64         // delivered by this connection's publishes
	stallWait         chan struct{} // a subscriber this batch filled up; closed when it drains
	rts               []routeTarget // routes the message being delivered goes to (route_msg.go)
	l1sl              *Sublist      // the Sublist l1 caches (a route's messages come from many accounts)
	hops              int           // import forwarders: accounts crossed so far (imports.go)
	noRoute           bool          // import forwarders: deliver locally only
	mt                *msgTrace     // the trace of the message being delivered, if any (msgtrace.go)

	// acc is the connection's account: $G until authentication binds it to
	// another (account.go). Written by the read goroutine under mu; read by
	// it without a lock and by others under mu.
	acc     *Account
	counted bool // acc.nconns counts this connection

	// route is set for a route connection (a conn of kind route); nil for
	// clients. Route state and handling live in route*.go.
	route *route

	headers atomic.Bool // deliver HMSG to this connection
	advised atomic.Bool // a CONNECT advisory went out; DISCONNECT follows (sysacc.go)

	// Guarded by mu.
	mu       sync.Mutex
	wmu      sync.Mutex // held by whoever writes to the socket (writer goroutine or an inline flush)
	out      outbound
	pending  int64 // bytes queued or being written
	closed   bool
	flush    bool // on close, the writer flushes out before closing nc
	reason   closeReason
	subs     map[string]*subscription
	pingsOut int
	pingSent time.Time
	rtt      time.Duration
	name     string
	lang     string
	version  string
	stop     time.Time
	sent     struct{ msgs, bytes int64 } // delivered to this connection
	// asyncInfo: the client announced protocol >= 1 and got its first PONG,
	// so it takes INFO updates (cluster connect_urls) from now on; infoURLs
	// is the connect_urls list it was last sent (cluster_urls.go).
	asyncInfo bool
	infoURLs  *[]string

	sec connSecurity // identity, permissions, TLS (auth.go)

	stallCh   chan struct{} // closed (under mu) when pending falls below the stall mark
	kick      chan struct{} // capacity 1: wakes the writer
	done      chan struct{} // closed when the connection closes
	pingTimer *time.Timer

	subj subjSampler // top-subjects sample (subjz.go)
	held heldOut     // guarded by mu; a slow consumer's unsent data (slowconsumer.go)

	stats struct { // read without locks by monitoring
		inMsgs, inBytes atomic.Int64
		last            atomic.Int64 // unix nanos of the last inbound op batch
	}
}

func newConn(s *Server, nc net.Conn, cid uint64) *conn {
	c := &conn{
		srv:   s,
		cid:   cid,
		nc:    nc,
		start: time.Now(),
		opts:  defaultConnectOpts(),
		subs:  make(map[string]*subscription),
		kick:  make(chan struct{}, 1),
		done:  make(chan struct{}),
		pcd:   make(map[*conn]struct{}),
		acc:   s.GlobalAccount(),
	}
	if a, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		c.host, c.port = a.IP.String(), a.Port
	}
	c.log = s.log.With("cid", cid, "remote", nc.RemoteAddr().String())
	c.p = parser{maxControl: int(s.opts.MaxControlLine), maxPayload: int(s.opts.MaxPayload)}
	c.stats.last.Store(c.start.UnixNano())
	return c
}

// readLoop reads, parses and delivers until the connection ends.
func (c *conn) readLoop() {
	defer c.srv.wg.Done()
	if !c.tlsHandshake() {
		return
	}
	buf := make([]byte, minReadBuf)
	short := 0
	for {
		n, err := c.nc.Read(buf)
		if n > 0 {
			perr := c.p.parse(buf[:n], c)
			c.flushBatch()
			c.waitStall()
			if perr != nil {
				if perr == errParseMaxPayload {
					c.traceMaxPayload(buf[:n]) // msgtrace.go
				}
				c.protoFail(perr)
				return
			}
			// Grow while reads fill the buffer, shrink after short ones.
			switch {
			case n == len(buf) && len(buf) < maxReadBuf:
				buf = make([]byte, len(buf)*2)
				short = 0
			case n < len(buf)/2 && len(buf) > minReadBuf:
				if short++; short > 2 {
					buf = make([]byte, len(buf)/2)
					short = 0
				}
			}
		}
		if err != nil {
			c.closeConn(closeClientClosed, false)
			return
		}
		if c.isClosed() {
			return
		}
	}
}

// flushBatch publishes this batch's counters and wakes each writer it touched.
func (c *conn) flushBatch() {
	if c.inMsgs > 0 {
		c.stats.inMsgs.Add(c.inMsgs)
		c.stats.inBytes.Add(c.inBytes)
		c.srv.stats.inMsgs.Add(c.inMsgs)
		c.srv.stats.inBytes.Add(c.inBytes)
		c.inMsgs, c.inBytes = 0, 0
	}
	if c.outMsgs > 0 {
		c.srv.stats.outMsgs.Add(c.outMsgs)
		c.srv.stats.outBytes.Add(c.outBytes)
		c.outMsgs, c.outBytes = 0, 0
	}
	now := time.Now()
	c.stats.last.Store(now.UnixNano())
	c.pcdLast = nil
	for sc := range c.pcd {
		// In-process publishers (c.nc == nil: the streaming engine's acks
		// and deliveries) publish one message per call: writing inline
		// would cost a system call per message, so their receivers' writers
		// batch instead.
		if sc == c || c.nc == nil || !sc.flushInline(now) {
			sc.wake()
		}
		delete(c.pcd, sc)
	}
}

// Inline flushing: when a read batch left a receiver only a little to send
// and its writer is idle, the producer writes it itself, saving the
// hand-off to the writer goroutine (the latency of every request/reply hop),
// as nats-server's flushClients does. The write gets a short deadline; what
// it could not send goes back to the front of the queue for the writer.
const (
	inlineMax      = 4 * 1024
	inlineDeadline = time.Millisecond
)

// flushInline tries to send c's whole queue now; false when the writer
// must do it.
func (c *conn) flushInline(now time.Time) bool {
	// TLS connections are left to the writer: a tls.Conn whose write timed
	// out is broken for good.
	if _, plain := c.nc.(*net.TCPConn); !plain || !c.wmu.TryLock() {
		return false
	}
	defer c.wmu.Unlock()
	c.mu.Lock()
	if c.closed || len(c.out.chunks) != 1 || c.out.size > inlineMax {
		empty := c.out.size == 0 && !c.closed
		c.mu.Unlock()
		return empty
	}
	total := c.out.size
	chunk := c.out.chunks[0]
	c.out.chunks[0] = nil
	c.out.chunks, c.out.size = c.out.chunks[:0], 0
	c.mu.Unlock()

	_ = c.nc.SetWriteDeadline(now.Add(inlineDeadline))
	n, err := c.nc.Write(chunk)
	c.mu.Lock()
	c.pending -= int64(n)
	if n < total {
		// Not all of it went: the rest goes first, by the writer.
		rest := chunk[n:total:total]
		c.out.chunks = append([][]byte{rest}, c.out.chunks...)
		c.out.size += len(rest)
	}
	if c.stallCh != nil && c.pending <= c.stallMark() {
		close(c.stallCh)
		c.stallCh = nil
	}
	c.mu.Unlock()
	if n == total {
		putChunks([][]byte{chunk})
		return true
	}
	var ne net.Error
	if err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
		c.closeConn(closeWriteError, false)
		return true
	}
	return false
}

// waitStall holds this producer back until a subscriber it filled up drains,
// for at most stallMax.
func (c *conn) waitStall() {
	if c.stallWait == nil {
		return
	}
	t := time.NewTimer(stallMax)
	select {
	case <-c.stallWait:
	case <-t.C:
	case <-c.done:
	}
	t.Stop()
	c.stallWait = nil
}

// stallMark is the pending size past which producers are held back.
func (c *conn) stallMark() int64 { return c.srv.opts.MaxPending / 4 * 3 }

// protoFail ends the connection after a protocol error, sending its -ERR.
func (c *conn) protoFail(err error) {
	pe, ok := err.(*protoError)
	if !ok {
		pe = &protoError{reason: closeProtocolViolation}
	}
	c.log.Debug("protocol error", "err", pe.Error())
	if pe.text != "" {
		c.enqueue(errLine(pe.text))
	}
	c.closeConn(pe.reason, true)
}

// writeLoop owns socket writes: it swaps the outbound buffer out under mu and
// writes it outside the lock.
func (c *conn) writeLoop() {
	defer c.srv.wg.Done()
	var w writerState
	for {
		select {
		case <-c.kick:
		case <-c.done:
			c.mu.Lock()
			flush := c.flush
			c.mu.Unlock()
			if flush {
				c.writeOut(&w, true)
			}
			c.nc.Close()
			return
		}
		if !c.writeOut(&w, false) {
			return
		}
	}
}

// writerState is owned by the write goroutine: the chunk list recycled
// between rounds, and the iovec list that writev consumes (net.Buffers
// clears the entries it has written, so it must not be the chunk list).
type writerState struct {
	spare [][]byte
	iov   net.Buffers
}

// writeOut writes what is pending with one writev; false when the
// connection failed.
func (c *conn) writeOut(w *writerState, closing bool) bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	total := c.out.size
	chunks := c.out.take(w.spare)
	c.held.writing = chunks // for slow-consumer attribution
	c.mu.Unlock()
	if len(chunks) == 0 {
		w.spare = chunks
		return true
	}
	deadline := c.srv.opts.WriteDeadline
	if closing && deadline > time.Second {
		deadline = time.Second
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(deadline))
	w.iov = append(w.iov[:0], chunks...)
	iov := w.iov
	n, err := iov.WriteTo(c.nc)
	var ne net.Error
	timeout := err != nil && !closing && errors.As(err, &ne) && ne.Timeout()

	c.mu.Lock()
	c.pending -= int64(total)
	// closeConn may have taken the chunks for attribution meanwhile; a timed
	// out write keeps them for it. Either way they are not recycled.
	keep := c.held.writing == nil || timeout
	if timeout && c.held.writing != nil {
		c.held.skip = int(n)
	} else {
		c.held.writing = nil
	}
	if c.stallCh != nil && c.pending <= c.stallMark() {
		close(c.stallCh)
		c.stallCh = nil
	}
	c.mu.Unlock()
	clear(w.iov)
	if keep {
		w.spare = nil
	} else {
		putChunks(chunks)
		w.spare = chunks[:0]
	}
	if err != nil && !closing {
		reason := closeWriteError
		if timeout {
			reason = closeSlowConsumerDeadline
			c.srv.stats.slowConsumers.Add(1)
			c.log.Info("slow consumer: write deadline exceeded", "written", n, "pending", total)
		}
		c.closeConn(reason, false)
		return false
	}
	return true
}

// wake kicks the writer without blocking.
func (c *conn) wake() {
	select {
	case c.kick <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// enqueue queues b for this connection and wakes its writer; used outside the
// read loop's batching (timers, errors, other goroutines).
func (c *conn) enqueue(b []byte) {
	c.queue(b)
	c.wake()
}

// sendSelf queues b from this connection's own read loop; the writer is woken
// once at the end of the read batch.
func (c *conn) sendSelf(b []byte) {
	c.queue(b)
	c.pcd[c] = struct{}{}
}

// queue appends b to the outbound buffer unless the connection is closed.
func (c *conn) queue(b []byte) {
	c.traceOut(b)
	c.mu.Lock()
	if !c.closed {
		c.out.write(b)
		c.pending += int64(len(b))
	}
	c.mu.Unlock()
}

func (c *conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// closeConn ends the connection once: with flush, the writer sends what is
// queued (an -ERR, say) before closing the socket. Callers hold no conn.mu.
func (c *conn) closeConn(reason closeReason, flush bool) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed, c.flush, c.reason, c.stop = true, flush, reason, time.Now()
	subs := make([]*subscription, 0, len(c.subs))
	for _, s := range c.subs {
		subs = append(subs, s)
	}
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
	if c.stallCh != nil {
		close(c.stallCh)
		c.stallCh = nil
	}
	held := c.takeHeldLocked(reason)
	if c.counted {
		c.acc.nconns.Add(-1)
		c.counted = false
	}
	c.mu.Unlock()

	close(c.done)
	if !flush {
		c.nc.Close()
	} else if tc, ok := c.nc.(*net.TCPConn); ok {
		_ = tc.CloseRead() // nothing more is read; the writer closes the rest
	}
	for _, s := range subs {
		s.acc.removeSub(s)
	}
	c.srv.removeConn(c)
	c.srv.connClosed(c, reason, held)
	c.srv.disconnectAdvisory(c, reason)
	if c.route != nil {
		c.srv.routeClosed(c)
	}
	c.srv.notifyConnClosed(c.cid)
	c.log.Debug("connection closed", "reason", reason.String())
}

// startPings arms the keep-alive timer.
func (c *conn) startPings() {
	c.mu.Lock()
	c.pingTimer = time.AfterFunc(c.srv.opts.PingInterval, c.pingTick)
	c.mu.Unlock()
}

// pingTick sends a PING, or ends a connection that left ping_max unanswered.
func (c *conn) pingTick() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if c.pingsOut >= c.srv.opts.PingMax {
		c.mu.Unlock()
		c.log.Debug("stale connection")
		c.enqueue(errLine(errStale))
		c.closeConn(closeStale, true)
		return
	}
	c.pingsOut++
	c.pingSent = time.Now()
	c.out.write(protoPing)
	c.pending += int64(len(protoPing))
	c.pingTimer.Reset(c.srv.opts.PingInterval)
	c.mu.Unlock()
	c.wake()
}

// ---- handler: operations from the parser ----

func (c *conn) processConnect(arg []byte) error {
	opts := defaultConnectOpts()
	if err := json.Unmarshal(arg, &opts); err != nil {
		return errParseBadConnect
	}
	if opts.NoResponders && !opts.Headers {
		return errParseNoRespHdrs
	}
	if c.p.needConnect || c.srv.authn() != nil {
		if err := c.authenticate(&opts); err != nil {
			return err
		}
	}
	c.opts, c.gotConn = opts, true
	c.p.headers = opts.Headers
	c.headers.Store(opts.Headers)
	c.mu.Lock()
	c.name, c.lang, c.version = opts.Name, opts.Lang, opts.Version
	c.sec.creds, c.sec.connected = opts, true
	c.mu.Unlock()
	c.trace("CONNECT", arg)
	if opts.Verbose {
		c.sendSelf(protoOK)
	}
	if !c.advised.Load() {
		c.srv.connectAdvisory(c)
	}
	return nil
}

func (c *conn) processPing() error {
	c.trace("PING", nil)
	c.sendSelf(protoPong)
	if !c.asyncInfo && c.srv.cluster != nil && c.route == nil {
		c.firstPong()
	}
	return nil
}

func (c *conn) processPong() error {
	c.mu.Lock()
	c.pingsOut = 0
	if !c.pingSent.IsZero() {
		c.rtt = time.Since(c.pingSent)
		c.pingSent = time.Time{}
	}
	c.mu.Unlock()
	return nil
}

func (c *conn) processSub(subject, queue, sid []byte) error {
	c.trace("SUB", subject)
	if !validSubject(subject) || (queue != nil && !validQueue(queue)) {
		c.sendSelf(errLine(errInvalidSubject))
		return nil
	}
	if p := c.sec.perms.Load(); p != nil && !p.sub.canSubscribe(subject, queue) {
		c.subViolation(subject, queue)
		return nil
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	if _, dup := c.subs[string(sid)]; dup {
		c.mu.Unlock() // nats-server ignores a SUB that reuses a sid
		return c.ok()
	}
	if max := c.srv.opts.MaxSubscriptions; (max > 0 && len(c.subs) >= max) || c.acc.subLimitReached() {
		c.mu.Unlock()
		c.sendSelf(errLine(errMaxSubs))
		return nil
	}
	sub := &subscription{c: c, subject: string(subject), queue: string(queue), sid: string(sid), acc: c.acc}
	c.subs[sub.sid] = sub
	c.mu.Unlock()
	sub.acc.sl.Insert(sub)
	return c.ok()
}

func (c *conn) processUnsub(sid []byte, max int64) error {
	c.trace("UNSUB", sid)
	c.mu.Lock()
	sub := c.subs[string(sid)]
	remove := sub != nil && (max <= 0 || sub.nm.Load() >= max)
	if sub != nil {
		if remove {
			delete(c.subs, sub.sid)
		} else {
			sub.max.Store(max)
		}
	}
	c.mu.Unlock()
	if remove {
		sub.acc.removeSub(sub)
	}
	return c.ok()
}

// ok sends +OK when the client asked for verbose mode.
func (c *conn) ok() error {
	if c.opts.Verbose {
		c.sendSelf(protoOK)
	}
	return nil
}

// trace logs an inbound protocol operation when tracing is on.
func (c *conn) trace(op string, arg []byte) {
	if c.srv.opts.Trace {
		c.log.Debug("<<- "+op, "arg", string(arg))
	}
}

// traceOut logs an outbound protocol line (without CRLF) when tracing is on.
func (c *conn) traceOut(line []byte) {
	if c.srv.opts.Trace && c.log != nil {
		for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
			line = line[:len(line)-1]
		}
		c.log.Debug("->> " + string(line))
	}
}
