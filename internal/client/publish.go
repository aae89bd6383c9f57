package client

import "fmt"

// Publish sends data to subject.
func (c *Conn) Publish(subject string, data []byte) error {
	return c.publish(subject, "", nil, data)
}

// PublishRequest sends data to subject with a reply subject.
func (c *Conn) PublishRequest(subject, reply string, data []byte) error {
	return c.publish(subject, reply, nil, data)
}

// PublishMsg sends m: subject, optional reply, headers and data.
func (c *Conn) PublishMsg(m *Msg) error {
	var hdr []byte
	if len(m.Header) > 0 {
		var err error
		if hdr, err = appendHeader(nil, m.Header); err != nil {
			return err
		}
	}
	return c.publish(m.Subject, m.Reply, hdr, m.Data)
}

// publish appends one PUB/HPUB to the outbound buffer and wakes the writer.
// It does not allocate once the buffer has grown to its working size.
func (c *Conn) publish(subj, reply string, hdr, data []byte) error {
	if err := validPublish(subj); err != nil {
		return err
	}
	if reply != "" {
		if err := validPublish(reply); err != nil {
			return fmt.Errorf("reply: %w", err)
		}
	}
	size := len(hdr) + len(data)
	c.mu.Lock()
	for c.status == Connected && len(c.out) >= maxOutBuf {
		c.outSpace.Wait() // back-pressure: the writer is behind
	}
	switch c.status {
	case Closed:
		c.mu.Unlock()
		return ErrConnectionClosed
	case Reconnecting:
		if c.opts.ReconnectBufSize < 0 || len(c.out)+size+len(subj)+len(reply)+32 > c.opts.ReconnectBufSize {
			c.mu.Unlock()
			return ErrReconnectBufExceeded
		}
	}
	if mp := c.info.MaxPayload; mp > 0 && int64(size) > mp {
		c.mu.Unlock()
		return fmt.Errorf("%w: %d bytes, the server allows %d", ErrMaxPayload, size, mp)
	}
	if len(hdr) > 0 && !c.info.Headers {
		c.mu.Unlock()
		return ErrHeadersNotSupported
	}
	c.out = appendPub(c.out, subj, reply, hdr, data)
	if c.status == Connected {
		c.kickLocked()
	}
	c.mu.Unlock()
	c.outMsgs.Add(1)
	c.outBytes.Add(uint64(size))
	return nil
}
