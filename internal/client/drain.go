package client

import "context"

// Drain unsubscribes every subscription, lets their handlers process what
// has already arrived, flushes what was published, and closes the
// connection. Publishing stays possible until the close; new subscriptions
// are refused. ctx bounds the wait; the connection is closed either way.
//
// While disconnected (reconnecting) there is no server to flush to: Drain
// does not wait for one. Handlers still process what has arrived, then the
// connection closes, dropping publishes buffered for the reconnect, and
// Drain returns ErrConnectionReconnecting (as nats.go does). A program
// stopping on a signal thus stops at once, whatever the network.
func (c *Conn) Drain(ctx context.Context) error {
	c.mu.Lock()
	if c.status == Closed {
		c.mu.Unlock()
		return ErrConnectionClosed
	}
	if c.draining {
		c.mu.Unlock()
		return ErrConnectionDraining
	}
	c.draining = true
	c.subsMu.RLock()
	subs := make([]*Subscription, 0, len(c.subs))
	for _, s := range c.subs {
		subs = append(subs, s)
	}
	c.subsMu.RUnlock()
	connected := c.status == Connected
	if connected {
		for _, s := range subs {
			c.out = appendUnsub(c.out, s.sid, 0)
		}
		c.kickLocked()
	}
	c.mu.Unlock()

	var err error
	if connected {
		err = c.Flush(ctx) // after the PONG nothing more arrives for them
	}
	for _, s := range subs {
		c.forgetSub(s)
		s.finish()
	}
	if err == nil {
		for _, s := range subs {
			select {
			case <-s.done:
			case <-ctx.Done():
				err = ctxErr(ctx)
			}
			if err != nil {
				break
			}
		}
	}
	c.Close()
	if err == nil && !connected {
		err = ErrConnectionReconnecting
	}
	return err
}
