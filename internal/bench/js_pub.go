package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/jsclient"
)

func init() {
	Register("js pub", jsFactory(1, 0, jsPub{}))
}

// jsPub publishes to a stream and counts acknowledged messages. sync waits
// for each ack (and measures the round trip); async keeps at most
// MaxPending acks outstanding per publisher; batch publishes Batch
// messages, then waits for all their acks.
type jsPub struct{}

func (jsPub) Run(ctx context.Context, e *Env) (*Result, error) {
	cs := &conns{ctx: ctx, e: e}
	defer cs.close()
	setup, err := cs.open("js setup")
	if err != nil {
		return nil, err
	}
	if err := ensureStream(ctx, jsclient.New(setup), &e.Config); err != nil {
		return nil, err
	}
	res := &Result{}
	counts := split(e.Msgs, e.Pubs)
	hdrLen := headerLen(e.Header)
	var failed atomic.Int64
	var firstErr error
	var errMu sync.Mutex
	noteErr := func(err error) {
		failed.Add(1)
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
	}
	stats, hist, err := runClients(ctx, e, cs, "pub", e.Pubs, func(i int, nc *client.Conn, st *ClientStats, lat *Latency) error {
		msg := &client.Msg{Subject: e.Subject, Header: e.Header, Data: newPayload(e.Size, e.Payload)}
		var acked int64
		var err error
		if e.JS.PubMode == "sync" {
			acked, err = pubSync(ctx, e, nc, msg, i, counts[i], lat, noteErr)
		} else {
			acked, err = pubAsync(ctx, e, nc, msg, i, counts[i], noteErr)
		}
		st.Msgs, st.Bytes = acked, acked*int64(e.Size+hdrLen)
		return err
	})
	if err != nil {
		return nil, err
	}
	if errors.Is(firstErr, jsclient.ErrNoStream) {
		return nil, fmt.Errorf("%w: stream %s does not store %s (use --replace, or another --stream)", firstErr, e.JS.Stream, e.Subject)
	}
	if n := failed.Load(); n > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d publishes were not stored: %v", n, firstErr))
	}
	if e.JS.PubMode != "sync" {
		hist = nil
	}
	return finish(res, "pub", stats, hist), nil
}

// subjectFor is the subject of publisher pub's message seq
// (SUBJECT.<pub>.<seq> with --multisubject).
func subjectFor(e *Env, pub, seq int) string {
	if e.MultiSubject {
		return fmt.Sprintf("%s.%d.%d", e.Subject, pub, seq)
	}
	return e.Subject
}

func pubSync(ctx context.Context, e *Env, nc *client.Conn, msg *client.Msg, pub, n int, lat *Latency, noteErr func(error)) (int64, error) {
	js := jsclient.New(nc)
	var acked int64
	for i := 0; i < n && ctx.Err() == nil; i++ {
		msg.Subject = subjectFor(e, pub, i)
		t0 := time.Now()
		_, err := js.Publish(ctx, msg)
		lat.Record(time.Since(t0))
		if err != nil {
			if errors.Is(err, jsclient.ErrNoStream) {
				return acked, fmt.Errorf("%w: stream %s does not store %s (use --replace, or another --stream)", err, e.JS.Stream, e.Subject)
			}
			noteErr(err)
			continue
		}
		acked++
		e.sent.Add(1)
	}
	return acked, nil
}

// pubAsync publishes with a reply inbox per publisher and counts the acks
// arriving there; async bounds the acks outstanding, batch waits for all
// after each batch.
func pubAsync(ctx context.Context, e *Env, nc *client.Conn, msg *client.Msg, pub, n int, noteErr func(error)) (int64, error) {
	var replies, acked atomic.Int64
	signal := make(chan struct{}, 1)
	inbox := client.NewInbox()
	sub, err := nc.Subscribe(inbox, func(m *client.Msg) {
		switch {
		case m.Status() == "503":
			noteErr(jsclient.ErrNoStream)
		case bytes.Contains(m.Data, []byte(`"error"`)):
			noteErr(fmt.Errorf("ack: %s", m.Data))
		default:
			acked.Add(1)
			e.sent.Add(1)
		}
		replies.Add(1)
		select {
		case signal <- struct{}{}:
		default:
		}
	})
	if err != nil {
		return 0, err
	}
	defer sub.Unsubscribe()
	sub.SetPendingLimits(-1, 1<<30)
	if err := nc.Flush(ctx); err != nil {
		return 0, err
	}
	// wait blocks until at least target replies are in, or RecvTimeout
	// passes without one.
	timer := time.NewTimer(e.RecvTimeout)
	defer timer.Stop()
	wait := func(target int64) error {
		for replies.Load() < target {
			timer.Reset(e.RecvTimeout)
			select {
			case <-signal:
			case <-ctx.Done():
				return ctx.Err()
			case <-timer.C:
				return fmt.Errorf("no ack for %s (%d of %d acks in): is stream %s stalled?", e.RecvTimeout, replies.Load(), target, e.JS.Stream)
			}
		}
		return nil
	}
	msg.Reply = inbox
	for i := 0; i < n && ctx.Err() == nil; i++ {
		if e.JS.PubMode == "async" {
			if err := wait(int64(i - e.JS.MaxPending + 1)); err != nil {
				return acked.Load(), err
			}
		}
		msg.Subject = subjectFor(e, pub, i)
		if err := nc.PublishMsg(msg); err != nil {
			return acked.Load(), err
		}
		if e.JS.PubMode == "batch" && ((i+1)%e.JS.Batch == 0 || i+1 == n) {
			if err := nc.Flush(ctx); err != nil {
				return acked.Load(), err
			}
			if err := wait(int64(i + 1)); err != nil {
				return acked.Load(), err
			}
		}
	}
	if err := wait(int64(n)); err != nil && ctx.Err() == nil {
		return acked.Load(), err
	}
	return acked.Load(), nil
}
