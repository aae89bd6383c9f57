package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/jsclient"
)

func init() {
	Register("js consume", jsFactory(0, 1, jsRead{how: "consume"}))
	Register("js fetch", jsFactory(0, 1, jsRead{how: "fetch"}))
	Register("js ordered", jsFactory(0, 1, jsRead{how: "ordered"}))
}

// jsRead reads Msgs messages of an existing stream. consume and fetch share
// one durable pull consumer with explicit acks, recreated at the start of
// the run so it begins at the stream's first message, and split the
// messages between the Subs clients; consume keeps a pull request standing
// (topped up when half of it has arrived), fetch asks for Batch messages at
// a time and acks them before the next. ordered gives each client its own
// ordered consumer (ack none) reading the first Msgs messages.
type jsRead struct{ how string }

// pullExpires bounds a standing pull request; the run refreshes it long
// before it matters.
const pullExpires = 30 * time.Second

func (r jsRead) Run(ctx context.Context, e *Env) (*Result, error) {
	cs := &conns{ctx: ctx, e: e}
	defer cs.close()
	setup, err := cs.open("js setup")
	if err != nil {
		return nil, err
	}
	js := jsclient.New(setup)
	si, err := js.StreamInfo(ctx, e.JS.Stream)
	if jsclient.IsAPIError(err, jsclient.ErrCodeStreamNotFound) {
		return nil, fmt.Errorf("no stream %s: fill one first with `natsctl bench js pub --stream %s --msgs %d`", e.JS.Stream, e.JS.Stream, e.Msgs)
	}
	if err != nil {
		return nil, err
	}
	if si.State.Msgs < uint64(e.Msgs) {
		return nil, fmt.Errorf("stream %s holds %d messages, fewer than --msgs %d: publish more with `natsctl bench js pub` or lower --msgs", e.JS.Stream, si.State.Msgs, e.Msgs)
	}
	if r.how != "ordered" {
		if err := js.DeleteConsumer(ctx, e.JS.Stream, e.JS.Consumer); err != nil && !jsclient.IsAPIError(err, jsclient.ErrCodeConsumerNotFound) {
			return nil, fmt.Errorf("delete consumer %s: %w", e.JS.Consumer, err)
		}
		cfg := jsclient.ConsumerConfig{
			Durable: e.JS.Consumer, AckPolicy: jsclient.AckExplicit, DeliverPolicy: jsclient.DeliverAll,
			AckWait: pullExpires, MaxAckPending: max(1000, 2*e.Subs*e.JS.Batch), Replicas: 1,
		}
		if err := createFresh(ctx, js, e.JS.Stream, cfg); err != nil {
			return nil, fmt.Errorf("create consumer %s: %w", e.JS.Consumer, err)
		}
	}
	counts := split(e.Msgs, e.Subs)
	stats, _, err := runClients(ctx, e, cs, "sub", e.Subs, func(i int, nc *client.Conn, st *ClientStats, _ *Latency) error {
		count := func(m *client.Msg) {
			st.Msgs++
			st.Bytes += int64(len(m.Data) + headerLen(m.Header))
			e.sent.Add(1)
		}
		switch r.how {
		case "consume":
			return consumeStanding(ctx, e, nc, counts[i], count)
		case "fetch":
			return fetchBatches(ctx, e, nc, counts[i], count)
		}
		n := e.Msgs
		err := jsclient.New(nc).Replay(ctx, e.JS.Stream, jsclient.ReplayOptions{Batch: e.JS.Batch}, func(m *jsclient.Msg) error {
			count(m.Msg)
			if n--; n == 0 {
				return jsclient.ErrStop
			}
			return nil
		})
		if err == nil && n > 0 {
			return fmt.Errorf("ordered consumer stopped %d messages short", n)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return finish(&Result{}, "sub", stats, nil), nil
}

// fetchBatches fetches n messages, Batch at a time, acking each.
func fetchBatches(ctx context.Context, e *Env, nc *client.Conn, n int, count func(*client.Msg)) error {
	js := jsclient.New(nc)
	var ackErr error
	for n > 0 && ctx.Err() == nil {
		got, err := js.Fetch(ctx, e.JS.Stream, e.JS.Consumer, jsclient.PullRequest{Batch: min(e.JS.Batch, n), Expires: e.RecvTimeout}, func(m *jsclient.Msg) error {
			count(m.Msg)
			if err := m.Ack(); err != nil && ackErr == nil {
				ackErr = err
			}
			return nil
		})
		if err != nil {
			return err
		}
		if ackErr != nil {
			return fmt.Errorf("ack: %w", ackErr)
		}
		if got == 0 {
			return fmt.Errorf("no message for %s with %d to go: is consumer %s in use elsewhere?", e.RecvTimeout, n, e.JS.Consumer)
		}
		n -= got
	}
	return nc.Flush(ctx) // the acks reach the server before the run ends
}

// consumeStanding reads n messages through one standing pull request,
// topped up to Batch whenever half of what was asked has arrived, so the
// server never waits for a request (as nats.go's Consume does). Acks are
// sent as messages arrive.
func consumeStanding(ctx context.Context, e *Env, nc *client.Conn, n int, count func(*client.Msg)) error {
	sub, err := nc.SubscribeSync(client.NewInbox())
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()
	sub.SetPendingLimits(-1, 1<<30)
	next := "$JS.API.CONSUMER.MSG.NEXT." + e.JS.Stream + "." + e.JS.Consumer
	batch := e.JS.Batch
	requested, got := 0, 0
	for got < n {
		if err := ctx.Err(); err != nil {
			return err
		}
		if out := requested - got; out <= batch/2 && requested < n {
			ask := min(batch-out, n-requested)
			body := `{"batch":` + strconv.Itoa(ask) + `,"expires":` + strconv.FormatInt(int64(pullExpires), 10) + `}`
			if err := nc.PublishRequest(next, sub.Subject, []byte(body)); err != nil {
				return err
			}
			requested += ask
		}
		m, err := sub.NextMsg(e.RecvTimeout)
		if errors.Is(err, client.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("no message for %s with %d to go: is consumer %s in use elsewhere?", e.RecvTimeout, n-got, e.JS.Consumer)
		}
		if err != nil {
			return err
		}
		if st := m.Status(); st != "" && len(m.Data) == 0 {
			switch st {
			case "100": // heartbeat
			case "404", "408", "409":
				// A request ended early (expired, or the server cut it):
				// what it still owed will not come; ask again.
				requested = got
			default:
				return fmt.Errorf("pull refused: %s %s", st, m.Header.Get(client.DescriptionHeader))
			}
			continue
		}
		got++
		count(m)
		if err := m.Respond(jsclient.AckAck); err != nil {
			return fmt.Errorf("ack: %w", err)
		}
	}
	return nc.Flush(ctx)
}

// createFresh creates a consumer just deleted. natsctl's engine removes a
// deleted durable's directory after it has answered the delete, so a
// create right behind it can fail (error 10104) while that finishes: retry
// for a moment.
func createFresh(ctx context.Context, js *jsclient.JS, stream string, cfg jsclient.ConsumerConfig) error {
	deadline := time.Now().Add(2 * time.Second)
	for {
		_, _, err := js.CreateConsumer(ctx, stream, cfg, jsclient.ActionCreate)
		if err == nil || !jsclient.IsAPIError(err, 10104) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
