package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unsafe"

	"github.com/natsctl/natsctl/internal/client"
)

// sendSpec is one sender's share of a run.
type sendSpec struct {
	name      string
	idx       int       // publisher index carried in stamps
	n         int       // messages; 0: until until
	until     time.Time // for timed runs
	warmup    bool      // mark messages as warm-up (receivers skip them)
	stampTime bool      // carry the send time (latency is measured)
	// timeEvery > 1 stamps the send time on one message in timeEvery only
	// (unpaced runs): reading the clock per message cost a publisher a
	// fifth of its CPU, and percentiles of a large sample are the same.
	timeEvery int
	pace      *pacer // open-loop pacing; nil: as fast as possible
	reply     string // reply subject (reqrep)
	// replies, when set, makes the sender closed-loop: after each send it
	// waits for a value (or RecvTimeout) before the next.
	replies chan struct{}
}

// send publishes s's messages on nc, then flushes (so the server has them
// all), and returns the sender's counts.
func (e *Env) send(ctx context.Context, nc *client.Conn, s sendSpec) (ClientStats, error) {
	buf := newPayload(e.Size, e.Payload)
	stamped := e.Size >= stampLen
	hdr := e.Header
	msg := &client.Msg{Subject: e.Subject, Reply: s.reply, Header: hdr, Data: buf}
	var subj []byte
	if e.MultiSubject {
		subj = append([]byte(e.Subject), '.')
	}
	prefix := len(subj)
	var timer *time.Timer
	if s.replies != nil {
		timer = time.NewTimer(time.Hour)
		timer.Stop()
		defer timer.Stop()
	}
	st := ClientStats{Name: s.name, Start: time.Now()}
	var sent, flushed int64
	for i := 0; s.n == 0 || i < s.n; i++ {
		if i&255 == 0 {
			if ctx.Err() != nil {
				break
			}
			if !s.until.IsZero() && !time.Now().Before(s.until) {
				break
			}
			if !s.warmup {
				e.sent.Add(sent - flushed)
				flushed = sent
			}
		}
		var at int64
		if s.pace != nil {
			due := s.pace.wait()
			if !s.until.IsZero() && !due.Before(s.until) {
				break
			}
			at = due.UnixNano()
		} else if s.stampTime && (s.timeEvery <= 1 || i%s.timeEvery == 0) {
			at = time.Now().UnixNano()
		}
		if stamped {
			putStamp(buf, stamp{warmup: s.warmup, hasTime: at != 0, pub: s.idx, seq: uint64(i), sent: at})
		}
		if s.replies != nil {
			select { // a late reply to an earlier request must not release this one
			case <-s.replies:
			default:
			}
		}
		var err error
		switch {
		case e.MultiSubject:
			subj = strconv.AppendInt(subj[:prefix], int64(i), 10)
			// Publish copies the subject into its buffer before returning,
			// so a view of the reused bytes is safe.
			err = nc.PublishRequest(unsafe.String(&subj[0], len(subj)), s.reply, buf)
		case hdr != nil:
			err = nc.PublishMsg(msg)
		default:
			err = nc.PublishRequest(e.Subject, s.reply, buf)
		}
		if err != nil {
			return st, fmt.Errorf("%s: publish: %w", s.name, err)
		}
		sent++
		if s.replies != nil {
			timer.Reset(e.RecvTimeout)
			select {
			case <-s.replies:
			case <-timer.C: // counted as lost by the receiver
			case <-ctx.Done():
			}
			timer.Stop()
		}
	}
	if !s.warmup {
		e.sent.Add(sent - flushed)
	}
	// What was sent is counted even after Ctrl-C, unless disconnected.
	if err := nc.FlushBeforeExit(ctx, e.RecvTimeout+10*time.Second); err != nil {
		if errors.Is(err, client.ErrInterruptedDisconnected) {
			return st, fmt.Errorf("%s: %w: %d messages sent, the last not confirmed", s.name, err, sent)
		}
		return st, fmt.Errorf("%s: flush: %w", s.name, err)
	}
	st.End = time.Now()
	st.Msgs = sent
	st.Bytes = sent * int64(e.Size+headerLen(hdr))
	return st, nil
}
