package server

import (
	"bytes"
	"strconv"

	"github.com/natsctl/natsctl/internal/monitorapi"
)

// attributePending finds the subscription whose messages take the most
// bytes of buf, the outbound data a slow consumer had not been sent. buf
// holds whole protocol operations as the server queued them:
//
//	MSG  <subject> <sid> [reply] <size>\r\n<payload>\r\n
//	HMSG <subject> <sid> [reply] <hdr size> <total size>\r\n<payload>\r\n
//	PING\r\n, +OK\r\n, -ERR '...'\r\n, INFO {...}\r\n (counted for nobody)
//
// The first skip bytes were already written; only the rest counts. subs
// are the connection's subscriptions at close, to name the SUB subject and
// queue of the winning sid. It runs once per slow-consumer disconnect, off
// the message path; it allocates freely. Nil when buf holds no message.
func attributePending(buf []byte, skip int, subs []monitorapi.SubDetail) *monitorapi.SlowConsumerSub {
	type key struct{ sid, subject string }
	type tally struct{ bytes, msgs int64 }
	bySid := map[string]*tally{}
	bySubj := map[key]int64{}
	for i := 0; i < len(buf); {
		nl := bytes.IndexByte(buf[i:], '\n')
		if nl < 0 {
			break
		}
		line := bytes.TrimRight(buf[i:i+nl], "\r")
		next := i + nl + 1
		var f [][]byte
		switch {
		case bytes.HasPrefix(line, []byte("MSG ")), bytes.HasPrefix(line, []byte("HMSG ")):
			f = bytes.Fields(line)
		}
		if len(f) < 4 {
			i = next
			continue
		}
		size, err := strconv.Atoi(string(f[len(f)-1]))
		if err != nil || size < 0 || size > len(buf) {
			i = next // not one of ours: resynchronise on the next line
			continue
		}
		end := min(next+size+2, len(buf))
		if end > skip {
			n := int64(end - max(i, skip))
			sid, subj := string(f[2]), string(f[1])
			t := bySid[sid]
			if t == nil {
				t = &tally{}
				bySid[sid] = t
			}
			t.bytes += n
			t.msgs++
			bySubj[key{sid, subj}] += n
		}
		i = end
	}
	var best string
	var top *tally
	for sid, t := range bySid {
		if top == nil || t.bytes > top.bytes || (t.bytes == top.bytes && sid < best) {
			best, top = sid, t
		}
	}
	if top == nil {
		return nil
	}
	sc := &monitorapi.SlowConsumerSub{Sid: best, PendingBytes: top.bytes, PendingMsgs: top.msgs}
	var most int64
	for k, n := range bySubj {
		if k.sid == best && (n > most || (n == most && k.subject < sc.MsgSubject)) {
			most, sc.MsgSubject = n, k.subject
		}
	}
	sc.Subject = sc.MsgSubject // the subscription may be gone already
	for _, sd := range subs {
		if sd.Sid == best {
			sc.Subject, sc.Queue = sd.Subject, sd.Queue
			break
		}
	}
	return sc
}

// heldOut is what a slow consumer had not been sent when it was cut off:
// the buffer being written (all of it counts as pending until the write
// returns; after a write timed out, skip bytes of it were written) and what
// was queued behind it. Guarded by conn.mu; once the connection is closed
// nobody appends to these buffers any more.
type heldOut struct {
	writing [][]byte
	skip    int
	queued  [][]byte
}

// takeHeldLocked takes, for a slow-consumer close, the outbound data nobody
// will send now (the connection is closed without flushing). c.mu must be
// held.
func (c *conn) takeHeldLocked(reason closeReason) heldOut {
	if reason != closeSlowConsumerPending && reason != closeSlowConsumerDeadline {
		return heldOut{}
	}
	h := c.held
	h.queued, c.out = c.out.chunks, outbound{}
	c.held = heldOut{}
	return h
}

// bytes joins the held data into one buffer, skip bytes of which were sent.
func (h heldOut) bytes() ([]byte, int) {
	var buf []byte
	for _, c := range h.writing {
		buf = append(buf, c...)
	}
	skip := h.skip
	if len(h.writing) == 0 {
		skip = 0
	}
	for _, c := range h.queued {
		buf = append(buf, c...)
	}
	return buf, skip
}
