package client

import (
	"encoding/json"
	"errors"
	"time"
)

// readBufSize is the read loop's buffer; one read usually holds many
// messages.
const readBufSize = 64 << 10

// readLoop owns the parser of sk: it reads into one reused buffer and
// dispatches operations until the socket fails.
func (c *Conn) readLoop(sk *sock) {
	defer c.wg.Done()
	p := &parser{}
	h := &sockHandler{c: c, sk: sk}
	buf := make([]byte, readBufSize)
	for {
		n, err := sk.br.Read(buf)
		if n > 0 {
			if perr := p.parse(buf[:n], h); perr != nil {
				c.socketError(sk, perr)
				return
			}
		}
		if err != nil {
			c.socketError(sk, err)
			return
		}
	}
}

// writeLoop owns socket writes for sk. Producers append to c.out under c.mu
// and kick it; it swaps c.out with its spare buffer and writes outside the
// lock, so that publishers keep appending while it writes.
func (c *Conn) writeLoop(sk *sock) {
	defer c.wg.Done()
	defer close(sk.writerDone)
	for {
		select {
		case <-sk.kick:
		case <-sk.done:
			c.finalFlush(sk)
			return
		}
		c.mu.Lock()
		if c.sock != sk {
			c.mu.Unlock()
			continue // done is closed or about to be: handled above
		}
		buf := c.out
		c.out = c.spare[:0]
		c.spare = nil
		c.outSpace.Broadcast()
		c.mu.Unlock()
		if len(buf) == 0 {
			c.putSpare(buf)
			continue
		}
		if _, err := sk.nc.Write(buf); err != nil {
			c.socketError(sk, err)
			return
		}
		c.putSpare(buf)
	}
}

// putSpare gives the written buffer back for reuse, unless it grew huge for
// one burst.
func (c *Conn) putSpare(buf []byte) {
	if cap(buf) > 8*maxOutBuf {
		return
	}
	c.mu.Lock()
	if c.spare == nil {
		c.spare = buf[:0]
	}
	c.mu.Unlock()
}

// finalFlush sends what is left when the connection closes gracefully.
func (c *Conn) finalFlush(sk *sock) {
	c.mu.Lock()
	if !sk.final {
		c.mu.Unlock()
		return
	}
	buf := c.out
	c.out = nil
	c.mu.Unlock()
	if len(buf) > 0 {
		_ = sk.nc.SetWriteDeadline(time.Now().Add(c.opts.Timeout))
		_, _ = sk.nc.Write(buf)
	}
}

// kickLocked wakes the writer. c.mu held.
func (c *Conn) kickLocked() {
	if c.sock == nil {
		return
	}
	select {
	case c.sock.kick <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// pingLoop sends keep-alive PINGs; too many unanswered ones mean the server
// or the path to it is dead, and the socket is replaced.
func (c *Conn) pingLoop(sk *sock) {
	defer c.wg.Done()
	t := time.NewTicker(c.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-sk.done:
			return
		}
		c.mu.Lock()
		if c.sock != sk {
			c.mu.Unlock()
			return
		}
		c.pingsOut++
		if c.pingsOut > c.opts.MaxPingsOut {
			c.mu.Unlock()
			c.socketError(sk, ErrStaleConnection)
			return
		}
		c.out = append(c.out, pingProto...)
		c.pongs = append(c.pongs, nil)
		c.kickLocked()
		c.mu.Unlock()
	}
}

// sockHandler receives the operations read from one sock.
type sockHandler struct {
	c  *Conn
	sk *sock
}

func (h *sockHandler) processMsg(subj, reply []byte, sid uint64, hdr, data []byte) {
	c := h.c
	c.inMsgs.Add(1)
	c.inBytes.Add(uint64(len(hdr) + len(data)))
	c.subsMu.RLock()
	s := c.subs[sid]
	c.subsMu.RUnlock()
	if s == nil {
		return
	}
	m, err := newMsg(subj, reply, hdr, data)
	if err != nil {
		c.asyncError(s, err)
		return
	}
	m.Sub, m.conn = s, c
	if s.deliver(m) {
		c.forgetSub(s) // auto-unsubscribe limit reached; the server did the same
	}
}

func (h *sockHandler) processInfo(js []byte) {
	var info ServerInfo
	if err := json.Unmarshal(js, &info); err != nil {
		h.c.socketError(h.sk, err)
		return
	}
	c := h.c
	c.mu.Lock()
	if c.sock != h.sk {
		c.mu.Unlock()
		return
	}
	// An async INFO carries only what changed in some fields, but
	// nats-server sends the full struct; keep the handshake's nonce.
	info.Nonce = c.info.Nonce
	c.info = info
	c.addImplicitLocked(info.ConnectURLs)
	move := false
	if info.LameDuckMode {
		if hd := c.opts.LameDuckHandler; hd != nil {
			c.events.push(func() { hd(c) })
		}
		c.cur.lameDuck = true
		for _, s := range c.pool {
			if !s.lameDuck {
				move = true
			}
		}
	}
	c.mu.Unlock()
	if move && !c.opts.NoReconnect {
		c.socketError(h.sk, ErrLameDuck)
	}
}

func (h *sockHandler) processPing() {
	c := h.c
	c.mu.Lock()
	if c.sock == h.sk {
		c.out = append(c.out, pongProto...)
		c.kickLocked()
	}
	c.mu.Unlock()
}

func (h *sockHandler) processPong() {
	c := h.c
	c.mu.Lock()
	if c.sock == h.sk {
		c.pingsOut = 0
		if len(c.pongs) > 0 {
			ch := c.pongs[0]
			c.pongs[0] = nil
			c.pongs = c.pongs[1:]
			if ch != nil {
				ch <- nil
			}
		}
	}
	c.mu.Unlock()
}

func (h *sockHandler) processOK() {}

func (h *sockHandler) processErr(text []byte) {
	err := &ServerError{Text: string(text)}
	c := h.c
	switch {
	case err.permission():
		c.asyncError(nil, err)
	case errors.Is(err, ErrStaleConnection):
		c.socketError(h.sk, err)
	default:
		// The server closes the connection after other errors; remember
		// why, so that the disconnect reports it.
		c.mu.Lock()
		c.lastErr = err
		c.mu.Unlock()
		c.asyncError(nil, err)
	}
}
