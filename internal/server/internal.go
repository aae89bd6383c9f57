package server

import (
	"errors"
	"sync"
)

// MsgHandler receives a message for an in-process subscription. It runs on
// the publisher's goroutine: it must not block, and the slices are valid only
// until it returns (copy what you keep). It may call Publish.
type MsgHandler func(subject, reply string, hdr, data []byte)

// InternalClient is an in-process connection: engines inside the server (the
// streaming engine) publish and subscribe through it without TCP, and are
// matched and delivered exactly like clients.
type InternalClient struct {
	srv  *Server
	c    *conn // owns the subscriptions
	pool sync.Pool
	mu   sync.Mutex
	next uint64
}

// InternalSub is a subscription of an InternalClient.
type InternalSub struct {
	ic  *InternalClient
	sub *subscription
}

// ErrBadSubject is returned for an invalid subject or queue name.
var ErrBadSubject = errors.New("server: invalid subject")

// NewInternalClient returns an in-process client named name.
func (s *Server) NewInternalClient(name string) *InternalClient {
	ic := &InternalClient{srv: s, c: newInternalConn(s)}
	ic.c.name = name
	ic.pool.New = func() any { return newInternalConn(s) }
	return ic
}

func newInternalConn(s *Server) *conn {
	c := &conn{
		srv:  s,
		opts: connectOpts{Echo: true, Headers: true},
		subs: make(map[string]*subscription),
		pcd:  make(map[*conn]struct{}),
		log:  s.log,
	}
	c.headers.Store(true)
	return c
}

// Subscribe registers h for subject (wildcards allowed) and, when queue is
// not empty, as a member of that queue group.
func (ic *InternalClient) Subscribe(subject, queue string, h MsgHandler) (*InternalSub, error) {
	if !validSubject([]byte(subject)) || (queue != "" && !validQueue([]byte(queue))) {
		return nil, ErrBadSubject
	}
	ic.mu.Lock()
	ic.next++
	sid := uitoa(ic.next)
	sub := &subscription{c: ic.c, subject: subject, queue: queue, sid: sid, handler: h}
	ic.c.subs[sid] = sub
	ic.mu.Unlock()
	ic.srv.sl.Insert(sub)
	return &InternalSub{ic: ic, sub: sub}, nil
}

// Unsubscribe removes the subscription.
func (s *InternalSub) Unsubscribe() {
	s.ic.mu.Lock()
	delete(s.ic.c.subs, s.sub.sid)
	s.ic.mu.Unlock()
	s.ic.srv.sl.Remove(s.sub)
}

// Publish delivers a message (with headers when hdr is not nil: a full
// "NATS/1.0\r\n...\r\n\r\n" block) as a client's PUB/HPUB would.
func (ic *InternalClient) Publish(subject, reply string, hdr, data []byte) error {
	if !validLiteralSubject([]byte(subject)) {
		return ErrBadSubject
	}
	p := ic.pool.Get().(*conn)
	pa := pubArgs{subject: []byte(subject), reply: []byte(reply), hdr: -1}
	payload := data
	if hdr != nil {
		pa.hdr = len(hdr)
		p.msgBuf = append(append(p.msgBuf[:0], hdr...), data...)
		payload = p.msgBuf
	}
	pa.size = len(payload)
	err := p.processPub(&pa, payload)
	p.flushBatch()
	if cap(p.msgBuf) > maxKeptOut {
		p.msgBuf = nil
	}
	ic.pool.Put(p)
	return err
}

// HasInterest reports whether any subscription matches the literal subject.
func (s *Server) HasInterest(subject string) bool {
	r := s.sl.Match(subject)
	return len(r.psubs) > 0 || len(r.qsubs) > 0 || len(r.rsubs) > 0
}

// Close removes every subscription of the client.
func (ic *InternalClient) Close() {
	ic.mu.Lock()
	subs := make([]*subscription, 0, len(ic.c.subs))
	for _, s := range ic.c.subs {
		subs = append(subs, s)
	}
	clear(ic.c.subs)
	ic.mu.Unlock()
	for _, s := range subs {
		ic.srv.sl.Remove(s)
	}
}

func uitoa(n uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		if n /= 10; n == 0 {
			return string(b[i:])
		}
	}
}
