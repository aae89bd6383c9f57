package client

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/natsctl/natsctl/internal/subject"
)

// Status is the state of a connection.
type Status int

// Connection states.
const (
	Connecting Status = iota
	Connected
	Reconnecting
	Closed
)

func (s Status) String() string {
	switch s {
	case Connecting:
		return "connecting"
	case Connected:
		return "connected"
	case Reconnecting:
		return "reconnecting"
	case Closed:
		return "closed"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// ServerInfo is the INFO the server sent (fields we use or show).
type ServerInfo struct {
	ID           string   `json:"server_id"`
	Name         string   `json:"server_name"`
	Version      string   `json:"version"`
	Proto        int      `json:"proto"`
	Host         string   `json:"host"`
	Port         int      `json:"port"`
	Headers      bool     `json:"headers"`
	AuthRequired bool     `json:"auth_required,omitempty"`
	TLSRequired  bool     `json:"tls_required,omitempty"`
	TLSAvailable bool     `json:"tls_available,omitempty"`
	MaxPayload   int64    `json:"max_payload"`
	ClientID     uint64   `json:"client_id,omitempty"`
	ClientIP     string   `json:"client_ip,omitempty"`
	Nonce        string   `json:"nonce,omitempty"`
	Cluster      string   `json:"cluster,omitempty"`
	ConnectURLs  []string `json:"connect_urls,omitempty"`
	LameDuckMode bool     `json:"ldm,omitempty"`
	JetStream    bool     `json:"jetstream,omitempty"`
}

// Statistics count traffic on a connection.
type Statistics struct {
	InMsgs, OutMsgs, InBytes, OutBytes uint64
	Reconnects                         uint64
}

// sock is one TCP (or TLS) connection to one server. A Conn replaces its sock
// on reconnect; goroutines of an old sock notice c.sock != sk and stop.
type sock struct {
	nc         net.Conn
	br         *bufio.Reader
	srv        *server
	kick       chan struct{} // wakes the writer; capacity 1
	done       chan struct{} // closed when the sock is finished
	writerDone chan struct{}
	final      bool // on done, the writer sends what is left (graceful close)
}

// Conn is a connection to a NATS server (or cluster). It is safe for
// concurrent use.
//
// Locks: c.mu guards the connection state and the outbound buffer; c.subsMu
// guards the subscription map; each Subscription has its own mu. Order:
// c.mu, then c.subsMu, then Subscription.mu. No lock is held during I/O or
// while user code runs.
type Conn struct {
	opts   Options
	tlsCfg *tls.Config
	signer signer
	ctx    context.Context // cancelled by Close: aborts dials
	cancel context.CancelFunc

	mu       sync.Mutex
	outSpace sync.Cond // on c.mu: signalled when the writer takes c.out
	status   Status
	draining bool
	sock     *sock
	out      []byte       // outbound bytes not yet taken by the writer
	spare    []byte       // the writer's previous buffer, reused
	pongs    []chan error // one per PING in flight; nil for keep-alives
	pingsOut int
	info     ServerInfo
	pool     []*server
	cur      *server
	lastErr  error

	subsMu  sync.RWMutex
	subs    map[uint64]*Subscription
	nextSID uint64 // c.mu

	resp respMux

	events *dispatcher
	closed chan struct{}
	wg     sync.WaitGroup

	inMsgs, outMsgs, inBytes, outBytes, reconnects atomic.Uint64
}

// Connect connects to the first server of o.Servers that answers and
// completes the handshake. ctx bounds the whole attempt; each server also has
// o.Timeout.
func Connect(ctx context.Context, o Options) (*Conn, error) {
	o.setDefaults()
	c := &Conn{
		opts:   o,
		signer: signer{seedFile: o.NkeySeedFile, credsFile: o.CredsFile},
		subs:   map[uint64]*Subscription{},
		closed: make(chan struct{}),
	}
	c.outSpace.L = &c.mu
	for _, raw := range splitServers(o.Servers) {
		s, err := parseServerURL(raw)
		if err != nil {
			return nil, err
		}
		c.pool = append(c.pool, s)
	}
	if len(c.pool) == 0 {
		return nil, fmt.Errorf("%w: empty server list", ErrNoServers)
	}
	var err error
	if c.tlsCfg, err = o.tlsConfig(); err != nil {
		return nil, err
	}
	if err := c.signer.check(); err != nil {
		return nil, err
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.events = newDispatcher()

	var errs []error
	for _, s := range c.pool {
		s.lastTry = time.Now()
		sk, info, err := c.dial(ctx, s)
		if err != nil {
			s.failures++
			errs = append(errs, err)
			if ctx.Err() != nil || errors.Is(err, ErrAuthorization) {
				break
			}
			continue
		}
		c.mu.Lock()
		c.startLocked(sk, info)
		c.mu.Unlock()
		return c, nil
	}
	c.cancel()
	c.events.close()
	return nil, &connectError{errs: errs}
}

// connectError lists why each server failed. errors.Is finds ErrNoServers and
// each underlying cause (ECONNREFUSED, ErrAuthorization, ...).
type connectError struct{ errs []error }

func (e *connectError) Error() string {
	var b strings.Builder
	b.WriteString(ErrNoServers.Error())
	for i, err := range e.errs {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(err.Error())
	}
	return b.String()
}

func (e *connectError) Unwrap() []error { return append([]error{ErrNoServers}, e.errs...) }

// dial opens a socket to s and performs the INFO/CONNECT/PING/PONG handshake.
func (c *Conn) dial(ctx context.Context, s *server) (sk *sock, _ ServerInfo, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	stop := context.AfterFunc(c.ctx, cancel) // Close aborts a dial in progress
	defer stop()
	var info ServerInfo
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", s.hostport())
	if err != nil {
		return nil, info, &dialError{url: s.String(), err: err}
	}
	deadline, _ := ctx.Deadline()
	_ = nc.SetDeadline(deadline)
	// Reads and writes do not watch ctx; a deadline in the past ends them
	// when ctx is cancelled (Close, or the caller's ctx), so that a server
	// that accepted but says nothing cannot hold us until the timeout.
	// Registered after the SetDeadline above, so that it wins.
	raw := nc
	unwatch := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)) })
	defer func() {
		if err == nil && !unwatch() {
			err = ctx.Err() // cancelled as we finished: the deadline is spoilt
		}
		if err != nil {
			sk = nil
			nc.Close()
			if errors.Is(ctx.Err(), context.Canceled) {
				err = fmt.Errorf("%w: %w", context.Canceled, err)
			}
			err = &dialError{url: s.String(), err: err}
		}
	}()
	useTLS := s.tlsForced || c.tlsCfg != nil || c.opts.TLSHandshakeFirst
	if c.opts.TLSHandshakeFirst {
		// The server sends nothing before the handshake: start it now.
		tc, err := c.startTLS(ctx, nc, s, deadline)
		if err != nil {
			return nil, info, err
		}
		nc = tc
	}
	br := bufio.NewReaderSize(nc, 32<<10)
	line, err := readLine(br)
	if err != nil {
		return nil, info, fmt.Errorf("read INFO: %w: %w", ErrNoInfo, err)
	}
	if !hasPrefixFold(line, "INFO ") {
		return nil, info, fmt.Errorf("%w: expected INFO, got %q", ErrProtocol, truncate(line, 64))
	}
	if err := json.Unmarshal(line[5:], &info); err != nil {
		return nil, info, fmt.Errorf("%w: bad INFO: %v", ErrProtocol, err)
	}
	if !c.opts.TLSHandshakeFirst && (useTLS || info.TLSRequired) {
		useTLS = true
		tc, err := c.startTLS(ctx, nc, s, deadline)
		if err != nil {
			return nil, info, err
		}
		nc = tc
		br = bufio.NewReaderSize(nc, 32<<10)
	}
	ci := connectInfo{
		TLSRequired: useTLS, Name: c.opts.Name, Lang: "go", Version: Version,
		Protocol: 1, Echo: !c.opts.NoEcho, Headers: true, NoResponders: true,
	}
	if u := s.url.User; u != nil {
		if p, ok := u.Password(); ok {
			ci.User, ci.Pass = u.Username(), p
		} else {
			ci.Token = u.Username()
		}
	} else {
		ci.User, ci.Pass, ci.Token = c.opts.User, c.opts.Password, c.opts.Token
	}
	if err := c.signer.sign(&ci, info.Nonce); err != nil {
		return nil, info, err
	}
	js, err := json.Marshal(ci)
	if err != nil {
		return nil, info, err
	}
	hello := make([]byte, 0, len(js)+32)
	hello = append(append(append(hello, "CONNECT "...), js...), crlf...)
	hello = append(hello, pingProto...)
	if _, err := nc.Write(hello); err != nil {
		return nil, info, fmt.Errorf("send CONNECT: %w", err)
	}
	for {
		line, err := readLine(br)
		if err != nil {
			return nil, info, fmt.Errorf("read CONNECT response: %w", err)
		}
		switch {
		case hasPrefixFold(line, "PONG"):
			_ = nc.SetDeadline(time.Time{})
			return &sock{
				nc: nc, br: br, srv: s,
				kick: make(chan struct{}, 1), done: make(chan struct{}), writerDone: make(chan struct{}),
			}, info, nil
		case hasPrefixFold(line, "-ERR"):
			t := strings.Trim(strings.TrimSpace(string(line[4:])), "'")
			return nil, info, &ServerError{Text: t}
		case hasPrefixFold(line, "+OK"), hasPrefixFold(line, "INFO "):
		case hasPrefixFold(line, "PING"):
			if _, err := nc.Write(pongProto); err != nil {
				return nil, info, err
			}
		default:
			return nil, info, fmt.Errorf("%w: unexpected %q during handshake", ErrProtocol, truncate(line, 64))
		}
	}
}

// readLine reads one CRLF-terminated line (without it) for the handshake.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadBytes('\n')
	if err != nil {
		return nil, err
	}
	return bytes.TrimRight(line, "\r\n"), nil
}

// startLocked makes sk the live socket and starts its goroutines. c.mu held.
func (c *Conn) startLocked(sk *sock, info ServerInfo) {
	c.sock, c.info, c.cur = sk, info, sk.srv
	c.status = Connected
	c.pingsOut = 0
	sk.srv.didConn, sk.srv.failures, sk.srv.lameDuck = true, 0, false
	c.addImplicitLocked(info.ConnectURLs)
	c.wg.Add(3)
	go c.readLoop(sk)
	go c.writeLoop(sk)
	go c.pingLoop(sk)
	if len(c.out) > 0 {
		c.kickLocked()
	}
}

// socketError handles the loss of sk: reconnect, or close when reconnecting
// is off. Errors from a sock that is no longer current are ignored.
func (c *Conn) socketError(sk *sock, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sock != sk || c.status == Closed {
		return
	}
	c.sock = nil
	close(sk.done)
	sk.nc.Close()
	c.failPongsLocked(fmt.Errorf("%w: %v", ErrConnectionClosed, err))
	c.out = c.out[:0] // like bytes in flight: lost (at-most-once)
	c.lastErr = err
	if h := c.opts.DisconnectedHandler; h != nil {
		c.events.push(func() { h(c, err) })
	}
	if c.opts.NoReconnect || c.draining {
		c.closeLocked()
		return
	}
	c.status = Reconnecting
	c.outSpace.Broadcast()
	// Try the others before the one we just lost.
	for i, s := range c.pool {
		if s == sk.srv {
			c.pool = append(append(c.pool[:i:i], c.pool[i+1:]...), s)
			break
		}
	}
	c.wg.Add(1)
	go c.reconnectLoop()
}

func (c *Conn) failPongsLocked(err error) {
	for _, ch := range c.pongs {
		if ch != nil {
			ch <- err
		}
	}
	c.pongs = nil
}

// reconnectLoop tries servers, with per-server backoff, until one accepts us,
// the pool is exhausted, or the connection is closed.
func (c *Conn) reconnectLoop() {
	defer c.wg.Done()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		c.mu.Lock()
		if c.status == Closed {
			c.mu.Unlock()
			return
		}
		s, wait := c.pickServerLocked()
		if s == nil {
			c.lastErr = ErrNoServers
			c.closeLocked()
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		if wait > 0 {
			t.Reset(wait)
			select {
			case <-t.C:
			case <-c.closed:
				return
			}
		}
		c.mu.Lock()
		s.lastTry = time.Now()
		c.mu.Unlock()
		sk, info, err := c.dial(c.ctx, s)
		c.mu.Lock()
		if c.status == Closed {
			c.mu.Unlock()
			if sk != nil {
				sk.nc.Close()
			}
			return
		}
		if err != nil {
			s.failures++
			c.lastErr = err
			if c.opts.MaxReconnects >= 0 && s.failures > c.opts.MaxReconnects {
				c.removeServerLocked(s)
			}
			c.mu.Unlock()
			continue
		}
		// Re-establish subscriptions first, then send what was buffered while
		// disconnected, in order.
		out := c.resubscribeLocked(c.spare[:0])
		out = append(out, c.out...)
		c.spare, c.out = c.out[:0], out
		c.reconnects.Add(1)
		c.startLocked(sk, info)
		c.outSpace.Broadcast()
		if h := c.opts.ReconnectedHandler; h != nil {
			c.events.push(func() { h(c) })
		}
		c.mu.Unlock()
		return
	}
}

// pickServerLocked returns the next server to try and how long to wait for
// it: the first (in pool order, lame ducks last) whose backoff has passed,
// else the one ready soonest. c.mu held.
func (c *Conn) pickServerLocked() (*server, time.Duration) {
	now := time.Now()
	var best *server
	var bestAt time.Time
	for pass := 0; pass < 2 && best == nil; pass++ {
		for _, s := range c.pool {
			if s.lameDuck != (pass == 1) {
				continue
			}
			at := s.lastTry.Add(c.opts.backoff(s.failures))
			if !at.After(now) {
				return s, 0
			}
			if best == nil || at.Before(bestAt) {
				best, bestAt = s, at
			}
		}
	}
	if best == nil {
		return nil, 0
	}
	return best, bestAt.Sub(now)
}

func (c *Conn) removeServerLocked(s *server) {
	for i, p := range c.pool {
		if p == s {
			c.pool = append(c.pool[:i:i], c.pool[i+1:]...)
			return
		}
	}
}

// resubscribeLocked appends SUB (and UNSUB max) for every live subscription.
// c.mu held.
func (c *Conn) resubscribeLocked(b []byte) []byte {
	c.subsMu.RLock()
	defer c.subsMu.RUnlock()
	for _, s := range c.subs {
		b = appendSub(b, s.Subject, s.Queue, s.sid)
		if left := s.remaining(); left > 0 {
			b = appendUnsub(b, s.sid, left)
		}
	}
	return b
}

// Close closes the connection after sending what is buffered (bounded by
// the connect timeout). Pending messages of subscriptions are dropped; use
// Drain to process them first. Close is idempotent.
func (c *Conn) Close() {
	c.mu.Lock()
	if c.status == Closed {
		c.mu.Unlock()
		return
	}
	sk := c.sock
	if sk != nil {
		sk.final = true
	}
	c.closeLocked()
	c.mu.Unlock()
	if sk != nil {
		select {
		case <-sk.writerDone:
		case <-time.After(c.opts.Timeout):
		}
		sk.nc.Close()
	}
}

// closeLocked moves to Closed: no more I/O, subscriptions end, callbacks run
// ClosedHandler last. c.mu held.
func (c *Conn) closeLocked() {
	c.status = Closed
	if sk := c.sock; sk != nil {
		c.sock = nil
		close(sk.done)
		if !sk.final {
			sk.nc.Close()
		}
	}
	c.cancel()
	close(c.closed)
	c.failPongsLocked(ErrConnectionClosed)
	c.outSpace.Broadcast()
	c.subsMu.Lock()
	subs := c.subs
	c.subs = map[uint64]*Subscription{}
	c.subsMu.Unlock()
	for _, s := range subs {
		s.close()
	}
	if h := c.opts.ClosedHandler; h != nil {
		c.events.push(func() { h(c) })
	}
	c.events.close()
}

// Flush sends a PING and waits for the server's PONG: everything published
// before it has then been processed by the server.
func (c *Conn) Flush(ctx context.Context) error {
	ch := make(chan error, 1)
	c.mu.Lock()
	if c.status == Closed {
		c.mu.Unlock()
		return ErrConnectionClosed
	}
	c.out = append(c.out, pingProto...)
	c.pongs = append(c.pongs, ch)
	if c.status == Connected {
		c.kickLocked()
	}
	c.mu.Unlock()
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctxErr(ctx)
	}
}

// FlushTimeout is Flush with a timeout.
func (c *Conn) FlushTimeout(d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return c.Flush(ctx)
}

// FlushBeforeExit is the flush a program makes before it stops: it
// confirms what was published, within timeout, even after ctx (the
// program's interrupt) is cancelled, so that Ctrl-C still delivers what
// was sent. But not while disconnected: it would wait for a server that
// may not come back, and Ctrl-C must stop at once; it then returns
// ErrInterruptedDisconnected.
func (c *Conn) FlushBeforeExit(ctx context.Context, timeout time.Duration) error {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	defer context.AfterFunc(ctx, func() {
		if !c.IsConnected() {
			cancel()
		}
	})()
	err := c.Flush(fctx)
	if err != nil && ctx.Err() != nil && !c.IsConnected() {
		return ErrInterruptedDisconnected
	}
	return err
}

// RTT measures one PING/PONG round trip.
func (c *Conn) RTT(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	if err := c.Flush(ctx); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// ctxErr maps a deadline to ErrTimeout (wrapping both) and keeps
// cancellation as it is.
func ctxErr(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrTimeout, context.DeadlineExceeded)
	}
	return ctx.Err()
}

// Status reports the connection state.
func (c *Conn) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// IsConnected reports whether the connection is up.
func (c *Conn) IsConnected() bool { return c.Status() == Connected }

// ConnectedURL returns the URL of the current server (credentials
// redacted), or "" while disconnected.
func (c *Conn) ConnectedURL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sock == nil {
		return ""
	}
	return c.cur.String()
}

// ServerInfo returns the latest INFO of the current (or last) server.
func (c *Conn) ServerInfo() ServerInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.info
}

// Servers returns the server pool: configured and announced URLs.
func (c *Conn) Servers() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.pool))
	for i, s := range c.pool {
		out[i] = s.String()
	}
	return out
}

// LastError returns the error that last broke or closed the connection.
func (c *Conn) LastError() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastErr
}

// Stats returns traffic counters.
func (c *Conn) Stats() Statistics {
	return Statistics{
		InMsgs: c.inMsgs.Load(), OutMsgs: c.outMsgs.Load(),
		InBytes: c.inBytes.Load(), OutBytes: c.outBytes.Load(),
		Reconnects: c.reconnects.Load(),
	}
}

// Closed is closed when the connection is.
func (c *Conn) Closed() <-chan struct{} { return c.closed }

// asyncError reports err to the ErrorHandler, if any.
func (c *Conn) asyncError(s *Subscription, err error) {
	if h := c.opts.ErrorHandler; h != nil {
		c.events.push(func() { h(c, s, err) })
	}
}

func validPublish(subj string) error {
	if !subject.ValidPublish(subj) {
		return fmt.Errorf("%w: %q", ErrBadSubject, subj)
	}
	return nil
}
