package client

import (
	"context"
	"strconv"
	"sync"
)

// respMux routes replies of all requests on a connection through one
// wildcard subscription, _INBOX.<id>.*, so that a request costs one PUB and
// no SUB/UNSUB. Each request owns one token under that prefix.
type respMux struct {
	mu      sync.Mutex
	prefix  string // "_INBOX.<id>."
	sub     *Subscription
	waiters map[string]chan *Msg
	next    uint64
}

// register returns a new reply subject and the channel its reply arrives on.
func (c *Conn) registerReply() (reply, token string, ch chan *Msg, err error) {
	r := &c.resp
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sub == nil {
		r.prefix = NewInbox() + "."
		r.waiters = map[string]chan *Msg{}
		sub, err := c.subscribe(r.prefix+"*", "", modeInline, c.routeReply, nil)
		if err != nil {
			return "", "", nil, err
		}
		r.sub = sub
	}
	r.next++
	token = strconv.FormatUint(r.next, 36)
	ch = make(chan *Msg, 1)
	r.waiters[token] = ch
	return r.prefix + token, token, ch, nil
}

func (c *Conn) unregisterReply(token string) {
	c.resp.mu.Lock()
	delete(c.resp.waiters, token)
	c.resp.mu.Unlock()
}

// routeReply runs on the read loop: it hands the reply to its request, or
// drops it when the request has gone (timed out) or already has one.
func (c *Conn) routeReply(m *Msg) {
	r := &c.resp
	r.mu.Lock()
	ch := r.waiters[m.Subject[len(r.prefix):]]
	r.mu.Unlock()
	if ch != nil {
		select {
		case ch <- m:
		default:
		}
	}
}

// Request publishes data to subj and waits for the first reply until ctx
// ends. It returns ErrNoResponders when nobody is subscribed to subj, and
// ErrTimeout when ctx's deadline passes.
func (c *Conn) Request(ctx context.Context, subj string, data []byte) (*Msg, error) {
	return c.RequestMsg(ctx, &Msg{Subject: subj, Data: data})
}

// RequestMsg is Request with headers (m.Reply is ignored).
func (c *Conn) RequestMsg(ctx context.Context, m *Msg) (*Msg, error) {
	if err := validPublish(m.Subject); err != nil {
		return nil, err
	}
	reply, token, ch, err := c.registerReply()
	if err != nil {
		return nil, err
	}
	defer c.unregisterReply(token)
	if err := c.PublishMsg(&Msg{Subject: m.Subject, Reply: reply, Header: m.Header, Data: m.Data}); err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		if IsNoResponders(r) {
			return nil, ErrNoResponders
		}
		return r, nil
	case <-ctx.Done():
		return nil, ctxErr(ctx)
	case <-c.closed:
		return nil, ErrConnectionClosed
	}
}

// IsNoResponders reports whether m is the server's "no responders" status
// (503, no body), sent when a request's subject has no subscribers.
func IsNoResponders(m *Msg) bool {
	return m != nil && len(m.Data) == 0 && m.Status() == "503"
}
