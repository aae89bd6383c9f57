package server

import (
	"encoding/json"
	"errors"
	"sync"
)

// MsgHandler receives a message for an in-process subscription. It runs on
// the publisher's goroutine: it must not block, and the slices are valid only
// until it returns (copy what you keep). It may call Publish.
type MsgHandler func(subject, reply string, hdr, data []byte)

// RequestHandler is a MsgHandler that is also told who published.
type RequestHandler func(from Requester, subject, reply string, hdr, data []byte)

// Requester is the client connection a message came from; the zero value
// stands for an in-process client or a route. It may be kept after the
// handler returns (and after the connection closed): it is described only
// when encoded, so a handler that never encodes it costs nothing.
type Requester struct{ c *conn }

// MarshalJSON encodes it as nats-server's ClientInfo (advisories such as
// the JetStream API audit carry it), or null for the zero value.
func (r Requester) MarshalJSON() ([]byte, error) {
	if r.c == nil {
		return []byte("null"), nil
	}
	return json.Marshal(r.c.clientInfo(false))
}

// requester is c as a Requester; pooled in-process connections and routes
// are not described.
func (c *conn) requester() Requester {
	if c.nc == nil || c.route != nil {
		return Requester{}
	}
	return Requester{c: c}
}

// InternalClient is an in-process connection: engines inside the server (the
// streaming engine) publish and subscribe through it without TCP, and are
// matched and delivered exactly like clients.
type InternalClient struct {
	srv  *Server
	acc  *Account
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

// NewInternalClient returns an in-process client named name in the global
// account.
func (s *Server) NewInternalClient(name string) *InternalClient {
	return s.newAccountInternalClient(name, s.GlobalAccount())
}

// NewAccountInternalClient returns an in-process client named name in the
// named account; nil when there is no such account.
func (s *Server) NewAccountInternalClient(name, account string) *InternalClient {
	a := s.lookupAccount(account)
	if a == nil {
		return nil
	}
	return s.newAccountInternalClient(name, a)
}

func (s *Server) newAccountInternalClient(name string, a *Account) *InternalClient {
	ic := &InternalClient{srv: s, acc: a, c: newInternalConn(s)}
	ic.c.name, ic.c.acc = name, a
	ic.pool.New = func() any {
		c := newInternalConn(s)
		c.acc = a
		return c
	}
	return ic
}

func newInternalConn(s *Server) *conn {
	c := &conn{
		srv:  s,
		opts: connectOpts{Echo: true, Headers: true},
		subs: make(map[string]*subscription),
		pcd:  make(map[*conn]struct{}),
		log:  s.log,
		acc:  s.GlobalAccount(),
	}
	c.headers.Store(true)
	return c
}

// Subscribe registers h for subject (wildcards allowed) and, when queue is
// not empty, as a member of that queue group.
func (ic *InternalClient) Subscribe(subject, queue string, h MsgHandler) (*InternalSub, error) {
	return ic.subscribe(subject, queue, h, nil)
}

// SubscribeRequests is Subscribe for a handler that needs to know who
// published. Like a plain handler it does not see trace-only messages.
func (ic *InternalClient) SubscribeRequests(subject, queue string, h RequestHandler) (*InternalSub, error) {
	return ic.subscribe(subject, queue, nil, func(from Requester, tr Trace, subject, reply string, hdr, data []byte) {
		if !tr.Only() {
			h(from, subject, reply, hdr, data)
		}
	})
}

// SubscribeTraced is Subscribe for a handler that takes part in message
// tracing (msgtrace_api.go): it gets the message's Trace, the zero Trace
// when the message is not traced. Unlike other in-process handlers it is
// also called for a trace-only message, which it must not act on.
func (ic *InternalClient) SubscribeTraced(subject, queue string, h TracedHandler) (*InternalSub, error) {
	return ic.subscribe(subject, queue, nil, func(_ Requester, tr Trace, subject, reply string, hdr, data []byte) {
		h(tr, subject, reply, hdr, data)
	})
}

// deliveryHandler is how SubscribeRequests and SubscribeTraced handlers
// are called: with the publisher and the trace of the message (the zero
// Trace when it is not traced, and then for a trace-only one too).
type deliveryHandler func(from Requester, tr Trace, subject, reply string, hdr, data []byte)

// subscribe registers an in-process subscription calling h, or dh when
// it is set.
func (ic *InternalClient) subscribe(subject, queue string, h MsgHandler, dh deliveryHandler) (*InternalSub, error) {
	if dh != nil {
		h = func(string, string, []byte, []byte) {} // marks it in-process; dh is called
	}
	if !validSubject([]byte(subject)) || (queue != "" && !validQueue([]byte(queue))) {
		return nil, ErrBadSubject
	}
	ic.mu.Lock()
	ic.next++
	sid := uitoa(ic.next)
	sub := &subscription{c: ic.c, subject: subject, queue: queue, sid: sid, handler: h, dhandler: dh, acc: ic.acc}
	ic.c.subs[sid] = sub
	ic.mu.Unlock()
	ic.acc.sl.Insert(sub)
	return &InternalSub{ic: ic, sub: sub}, nil
}

// Unsubscribe removes the subscription.
func (s *InternalSub) Unsubscribe() {
	s.ic.mu.Lock()
	delete(s.ic.c.subs, s.sub.sid)
	s.ic.mu.Unlock()
	s.sub.acc.sl.Remove(s.sub)
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

// HasInterest reports whether any subscription of the global account
// matches the literal subject.
func (s *Server) HasInterest(subject string) bool {
	return s.GlobalAccount().hasInterest(subject)
}

// HasInterest reports whether any subscription of the client's account
// matches the literal subject.
func (ic *InternalClient) HasInterest(subject string) bool { return ic.acc.hasInterest(subject) }

// HasExactInterest reports whether a plain subscription of the client's
// account is to exactly the literal subject, not through a wildcard: a
// requester's "_INBOX.x.*" mux matches every "_INBOX.x.y" before the
// requester subscribed to the one it will read (nats-server's
// Sublist.RegisterNotification makes the same distinction).
func (ic *InternalClient) HasExactInterest(subject string) bool {
	r := ic.acc.sl.Match(subject)
	for _, sub := range r.psubs {
		if sub.subject == subject {
			return true
		}
	}
	for _, sub := range r.rsubs {
		if sub.subject == subject {
			return true
		}
	}
	return false
}

func (a *Account) hasInterest(subject string) bool {
	r := a.sl.Match(subject)
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
		s.acc.sl.Remove(s)
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
