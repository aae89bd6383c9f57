package server

import "math/rand/v2"

// PubBatch publishes several messages through one in-process connection
// and wakes each receiving connection once, at Flush, as a client's read
// batch does: the streaming engine delivers a pull batch or a burst of
// push messages with it. A PubBatch is not safe for concurrent use, and
// must be flushed (which releases it) before being dropped.
type PubBatch struct {
	ic     *InternalClient
	c      *conn
	pa     pubArgs
	to, as []byte
}

// Batch returns an empty batch.
func (ic *InternalClient) Batch() *PubBatch {
	return &PubBatch{ic: ic, c: ic.pool.Get().(*conn)}
}

// Publish delivers a message to the subscribers of to, with subject as
// the subject its receivers see (JetStream delivers a stored message to
// an inbox or deliver subject under its original subject). hdr nil means
// no header block; reply may be empty. Receivers' writers are woken at
// Flush. It returns the id of the client connection that received the
// message through a queue group (0 when none did), so that an engine can
// tell which member of a deliver group holds it.
func (b *PubBatch) Publish(to, subject string, reply, hdr, data []byte) (queueCID uint64, err error) {
	b.to = append(b.to[:0], to...)
	if !validLiteralSubject(b.to) {
		return 0, ErrBadSubject
	}
	b.as = append(b.as[:0], subject...)
	c := b.c
	b.pa = pubArgs{subject: b.as, reply: reply, hdr: -1}
	payload := data
	if hdr != nil {
		b.pa.hdr = len(hdr)
		c.msgBuf = append(append(c.msgBuf[:0], hdr...), data...)
		payload = c.msgBuf
	}
	b.pa.size = len(payload)
	c.inMsgs++
	c.inBytes += int64(len(payload))
	r := c.match(b.to)
	for _, sub := range r.psubs {
		c.deliver(sub, &b.pa, payload)
	}
	for _, members := range r.qsubs {
		start := rand.IntN(len(members))
		for i := range members {
			m := members[(start+i)%len(members)]
			if c.deliver(m, &b.pa, payload) {
				queueCID = m.c.cid
				break
			}
		}
	}
	return queueCID, nil
}

// Flush wakes every connection the batch delivered to and releases the
// batch.
func (b *PubBatch) Flush() {
	b.c.flushBatch()
	if cap(b.c.msgBuf) > maxKeptOut {
		b.c.msgBuf = nil
	}
	b.ic.pool.Put(b.c)
	b.c = nil
}
