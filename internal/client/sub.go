package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/natsctl/natsctl/internal/subject"
)

// MsgHandler processes messages of an asynchronous subscription.
type MsgHandler func(*Msg)

// ErrMaxMessages is returned by NextMsg once an auto-unsubscribe limit has
// been reached and every message was taken.
var ErrMaxMessages = errors.New("nats: maximum messages delivered")

type subMode uint8

const (
	modeSync subMode = iota
	modeCallback
	modeChan
	modeInline // internal: called on the read loop, no queue
)

// Subscription is interest in a subject. Messages wait in a bounded queue
// between the read loop and the consumer (a callback goroutine, a channel
// forwarder or NextMsg).
type Subscription struct {
	Subject string
	Queue   string

	conn *Conn
	sid  uint64
	mode subMode
	cb   MsgHandler
	ch   chan<- *Msg

	mu          sync.Mutex
	q           []*Msg
	head        int
	pMsgs       int
	pBytes      int
	msgsLimit   int
	bytesLimit  int
	received    uint64 // accepted into the queue
	max         uint64 // auto-unsubscribe after this many; 0 = none
	dropped     uint64
	slow        bool
	finishing   bool // no more messages will arrive: end when the queue is empty
	closed      bool // hard stop: pending messages are dropped
	kick        chan struct{}
	closedCh    chan struct{}
	done        chan struct{} // consumer goroutine (if any) has exited
	closeOnce   sync.Once
	doneOnce    sync.Once
	consumerRun bool
}

// Subscribe calls cb, on a goroutine of the subscription, for each message.
func (c *Conn) Subscribe(subj string, cb MsgHandler) (*Subscription, error) {
	return c.subscribe(subj, "", modeCallback, cb, nil)
}

// QueueSubscribe is Subscribe in a queue group: each message goes to one
// member of the group.
func (c *Conn) QueueSubscribe(subj, queue string, cb MsgHandler) (*Subscription, error) {
	if !subject.ValidQueue(queue) {
		return nil, fmt.Errorf("%w: %q", ErrBadQueueName, queue)
	}
	return c.subscribe(subj, queue, modeCallback, cb, nil)
}

// SubscribeSync subscribes for NextMsg.
func (c *Conn) SubscribeSync(subj string) (*Subscription, error) {
	return c.subscribe(subj, "", modeSync, nil, nil)
}

// QueueSubscribeSync is SubscribeSync in a queue group.
func (c *Conn) QueueSubscribeSync(subj, queue string) (*Subscription, error) {
	if !subject.ValidQueue(queue) {
		return nil, fmt.Errorf("%w: %q", ErrBadQueueName, queue)
	}
	return c.subscribe(subj, queue, modeSync, nil, nil)
}

// ChanSubscribe sends each message to ch. A full channel holds messages back
// in the subscription's queue, whose limits then apply.
func (c *Conn) ChanSubscribe(subj string, ch chan<- *Msg) (*Subscription, error) {
	return c.subscribe(subj, "", modeChan, nil, ch)
}

// ChanQueueSubscribe is ChanSubscribe in a queue group.
func (c *Conn) ChanQueueSubscribe(subj, queue string, ch chan<- *Msg) (*Subscription, error) {
	if !subject.ValidQueue(queue) {
		return nil, fmt.Errorf("%w: %q", ErrBadQueueName, queue)
	}
	return c.subscribe(subj, queue, modeChan, nil, ch)
}

func (c *Conn) subscribe(subj, queue string, mode subMode, cb MsgHandler, ch chan<- *Msg) (*Subscription, error) {
	if !subject.ValidSubscribe(subj) {
		return nil, fmt.Errorf("%w: %q", ErrBadSubject, subj)
	}
	if (mode == modeCallback || mode == modeInline) && cb == nil {
		return nil, fmt.Errorf("%w: nil handler", ErrBadSubscription)
	}
	if mode == modeChan && ch == nil {
		return nil, fmt.Errorf("%w: nil channel", ErrBadSubscription)
	}
	s := &Subscription{
		Subject: subj, Queue: queue, conn: c, mode: mode, cb: cb, ch: ch,
		msgsLimit: c.opts.PendingMsgsLimit, bytesLimit: c.opts.PendingBytesLimit,
		kick: make(chan struct{}, 1), closedCh: make(chan struct{}), done: make(chan struct{}),
	}
	c.mu.Lock()
	if c.status == Closed {
		c.mu.Unlock()
		return nil, ErrConnectionClosed
	}
	if c.draining {
		c.mu.Unlock()
		return nil, ErrConnectionDraining
	}
	c.nextSID++
	s.sid = c.nextSID
	c.subsMu.Lock()
	c.subs[s.sid] = s
	c.subsMu.Unlock()
	// While reconnecting, resubscribeLocked will send it from the map.
	if c.status == Connected {
		c.out = appendSub(c.out, subj, queue, s.sid)
		c.kickLocked()
	}
	c.mu.Unlock()
	switch mode {
	case modeCallback, modeChan:
		s.consumerRun = true
		go s.consume()
	default:
		s.markDone()
	}
	return s, nil
}

// deliver queues m, or drops it when over the pending limits. It reports
// whether the auto-unsubscribe limit has now been reached. Called by the
// read loop.
func (s *Subscription) deliver(m *Msg) (reachedMax bool) {
	if s.mode == modeInline {
		s.cb(m)
		return false
	}
	s.mu.Lock()
	if s.closed || s.finishing {
		s.mu.Unlock()
		return false
	}
	if (s.msgsLimit > 0 && s.pMsgs >= s.msgsLimit) || (s.bytesLimit > 0 && s.pBytes+m.size > s.bytesLimit) {
		s.dropped++
		first := !s.slow
		s.slow = true
		pending := s.pMsgs // read under mu: the consumer goroutine changes it
		s.mu.Unlock()
		if first {
			s.conn.asyncError(s, fmt.Errorf("%w on %q: %d messages pending", ErrSlowConsumer, s.Subject, pending))
		}
		return false
	}
	s.slow = false
	if s.head > 1024 && s.head > len(s.q)/2 {
		n := copy(s.q, s.q[s.head:])
		clear(s.q[n:])
		s.q, s.head = s.q[:n], 0
	}
	s.q = append(s.q, m)
	s.pMsgs++
	s.pBytes += m.size
	s.received++
	if s.max > 0 && s.received >= s.max {
		s.finishing = true
		reachedMax = true
	}
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
	return reachedMax
}

// next waits for the next queued message. It returns ErrMaxMessages (or
// errDrained) once the subscription has finished and the queue is empty,
// ErrBadSubscription once it was closed.
func (s *Subscription) next(ctx context.Context) (*Msg, error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, ErrBadSubscription
		}
		if s.head < len(s.q) {
			m := s.q[s.head]
			s.q[s.head] = nil
			s.head++
			if s.head == len(s.q) {
				s.q, s.head = s.q[:0], 0
			}
			s.pMsgs--
			s.pBytes -= m.size
			s.mu.Unlock()
			return m, nil
		}
		finished := s.finishing
		s.mu.Unlock()
		if finished {
			return nil, ErrMaxMessages
		}
		select {
		case <-s.kick:
		case <-s.closedCh:
		case <-ctx.Done():
			return nil, ctxErr(ctx)
		}
	}
}

// consume runs the callback, or forwards to the channel, until the
// subscription ends.
func (s *Subscription) consume() {
	defer s.markDone()
	ctx := context.Background()
	for {
		m, err := s.next(ctx)
		if err != nil {
			return
		}
		if s.mode == modeCallback {
			s.cb(m)
			continue
		}
		select {
		case s.ch <- m:
		case <-s.closedCh:
			return
		}
	}
}

func (s *Subscription) markDone() { s.doneOnce.Do(func() { close(s.done) }) }

// close stops the subscription at once, dropping pending messages.
func (s *Subscription) close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.q, s.head, s.pMsgs, s.pBytes = nil, 0, 0, 0
		s.mu.Unlock()
		close(s.closedCh)
	})
}

// finish lets the consumer take what is queued, then end.
func (s *Subscription) finish() {
	s.mu.Lock()
	s.finishing = true
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// remaining is how many messages are left before auto-unsubscribe (0: no
// limit, or none).
func (s *Subscription) remaining() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.max == 0 || s.received >= s.max {
		return 0
	}
	return s.max - s.received
}

// NextMsg waits up to timeout for the next message of a synchronous
// subscription.
func (s *Subscription) NextMsg(timeout time.Duration) (*Msg, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return s.NextMsgContext(ctx)
}

// NextMsgContext waits for the next message until ctx ends.
func (s *Subscription) NextMsgContext(ctx context.Context) (*Msg, error) {
	if s.mode != modeSync {
		return nil, ErrSyncSubRequired
	}
	return s.next(ctx)
}

// Unsubscribe removes interest; pending messages are dropped.
func (s *Subscription) Unsubscribe() error {
	c := s.conn
	c.mu.Lock()
	if c.status == Closed {
		c.mu.Unlock()
		return ErrConnectionClosed
	}
	c.subsMu.Lock()
	_, live := c.subs[s.sid]
	delete(c.subs, s.sid)
	c.subsMu.Unlock()
	if live && c.status == Connected {
		c.out = appendUnsub(c.out, s.sid, 0)
		c.kickLocked()
	}
	c.mu.Unlock()
	s.close()
	if !live {
		return ErrBadSubscription
	}
	return nil
}

// AutoUnsubscribe makes the subscription end after max messages in total;
// the server is told too, so that it stops sending.
func (s *Subscription) AutoUnsubscribe(max int) error {
	if max <= 0 {
		return fmt.Errorf("%w: max must be positive", ErrBadSubscription)
	}
	c := s.conn
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.status == Closed {
		return ErrConnectionClosed
	}
	s.mu.Lock()
	s.max = uint64(max)
	reached := s.received >= s.max
	if reached {
		s.finishing = true
	}
	left := s.max - min(s.received, s.max)
	s.mu.Unlock()
	if reached {
		c.subsMu.Lock()
		delete(c.subs, s.sid)
		c.subsMu.Unlock()
		left = 0
	}
	if c.status == Connected {
		c.out = appendUnsub(c.out, s.sid, left)
		c.kickLocked()
	}
	if reached {
		s.finish()
	}
	return nil
}

// Drain unsubscribes, lets the consumer process what has already arrived,
// and returns when it has (or ctx ends).
func (s *Subscription) Drain(ctx context.Context) error {
	c := s.conn
	c.mu.Lock()
	if c.status == Closed {
		c.mu.Unlock()
		return ErrConnectionClosed
	}
	if c.status == Connected {
		c.out = appendUnsub(c.out, s.sid, 0)
		c.kickLocked()
	}
	c.mu.Unlock()
	// After the PONG, the server has sent everything it will send us.
	ferr := c.Flush(ctx)
	c.forgetSub(s)
	s.finish()
	if ferr != nil {
		return ferr
	}
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctxErr(ctx)
	}
}

// forgetSub removes s from the map without telling the server.
func (c *Conn) forgetSub(s *Subscription) {
	c.subsMu.Lock()
	delete(c.subs, s.sid)
	c.subsMu.Unlock()
}

// SetPendingLimits bounds the messages and bytes waiting in the queue;
// negative means no limit.
func (s *Subscription) SetPendingLimits(msgs, bytes int) {
	s.mu.Lock()
	s.msgsLimit, s.bytesLimit = msgs, bytes
	s.mu.Unlock()
}

// Pending returns the messages and bytes waiting in the queue.
func (s *Subscription) Pending() (msgs, bytes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pMsgs, s.pBytes
}

// Dropped returns how many messages were dropped for being over the limits.
func (s *Subscription) Dropped() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// Received returns how many messages have been accepted into the queue.
func (s *Subscription) Received() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received
}

// IsValid reports whether the subscription is still active.
func (s *Subscription) IsValid() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.closed && !s.finishing
}

// Done is closed when an asynchronous subscription's consumer has finished
// (after Unsubscribe, Drain, auto-unsubscribe or Close); for a synchronous
// one it is closed at once.
func (s *Subscription) Done() <-chan struct{} { return s.done }
