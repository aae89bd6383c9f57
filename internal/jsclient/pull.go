package jsclient

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/natsctl/natsctl/internal/client"
)

// PullRequest is the body of CONSUMER.MSG.NEXT (ADR-13). Durations are sent
// in nanoseconds.
type PullRequest struct {
	Batch     int           `json:"batch"`
	Expires   time.Duration `json:"expires,omitempty"`
	MaxBytes  int           `json:"max_bytes,omitempty"`
	NoWait    bool          `json:"no_wait,omitempty"`
	Heartbeat time.Duration `json:"idle_heartbeat,omitempty"`
}

// ErrStop, returned by a message callback, ends a fetch or replay without
// error.
var ErrStop = errors.New("stop")

// pullStatus classifies a status message of a pull (ADR-13): done is true
// when the pull request has ended; err is set when reading must stop.
func pullStatus(m *client.Msg) (isStatus, done bool, err error) {
	st := m.Status()
	if st == "" || len(m.Data) > 0 {
		return false, false, nil
	}
	desc := strings.ToLower(m.Header.Get(client.DescriptionHeader))
	switch st {
	case "100": // idle heartbeat (flow control is push only)
		return true, false, nil
	case "404", "408":
		return true, true, nil
	case "409":
		switch {
		case strings.Contains(desc, "consumer deleted"):
			return true, true, ErrConsumerGone
		case strings.Contains(desc, "batch completed"), strings.Contains(desc, "message size exceeds maxbytes"),
			strings.Contains(desc, "leadership change"):
			return true, true, nil
		}
		return true, true, fmt.Errorf("pull refused: %s %s", st, m.Header.Get(client.DescriptionHeader))
	case "503":
		return true, true, ErrConsumerGone
	}
	return true, true, fmt.Errorf("pull refused: %s %s", st, m.Header.Get(client.DescriptionHeader))
}

// Fetch sends one pull request for up to req.Batch messages and calls f for
// each as it arrives, until the batch is full, the server ends the request
// (no messages, expired) or ctx ends. It returns how many f saw. Without an
// Expires the request lives as long as ctx (and at most DefaultTimeout).
func (js *JS) Fetch(ctx context.Context, stream, consumer string, req PullRequest, f func(*Msg) error) (int, error) {
	if req.Batch <= 0 {
		req.Batch = 1
	}
	sub, err := js.nc.SubscribeSync(client.NewInbox())
	if err != nil {
		return 0, err
	}
	defer sub.Unsubscribe()
	if req.Expires == 0 && !req.NoWait {
		req.Expires = DefaultTimeout
		if dl, ok := ctx.Deadline(); ok {
			req.Expires = time.Until(dl) - 100*time.Millisecond
		}
	}
	return js.pull(ctx, sub, stream, consumer, req, f)
}

func (js *JS) pull(ctx context.Context, sub *client.Subscription, stream, consumer string, req PullRequest, f func(*Msg) error) (int, error) {
	if err := js.nc.PublishRequest(js.prefix+"CONSUMER.MSG.NEXT."+stream+"."+consumer, sub.Subject, []byte(jsonString(req))); err != nil {
		return 0, err
	}
	// The server ends the request by itself; the extra second covers the
	// trip of its 408.
	var cancel context.CancelFunc = func() {}
	if req.Expires > 0 {
		ctx, cancel = context.WithTimeout(ctx, req.Expires+time.Second)
	}
	defer cancel()
	n := 0
	for n < req.Batch {
		m, err := sub.NextMsgContext(ctx)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) && req.Expires > 0 && ctx.Err() != nil {
				return n, nil // the request expired without a status reaching us
			}
			return n, err
		}
		if isStatus, done, err := pullStatus(m); isStatus {
			if done || err != nil {
				return n, err
			}
			continue
		}
		jm, err := js.newMsg(m)
		if err != nil {
			return n, err
		}
		n++
		if err := f(jm); err != nil {
			return n, err
		}
	}
	return n, nil
}

// Consume pulls from a pull consumer until f returns an error (ErrStop:
// none) or ctx ends, batch messages per request.
func (js *JS) Consume(ctx context.Context, stream, consumer string, batch int, f func(*Msg) error) error {
	sub, err := js.nc.SubscribeSync(client.NewInbox())
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()
	for {
		_, err := js.pull(ctx, sub, stream, consumer, PullRequest{Batch: batch, Expires: 10 * time.Second}, f)
		switch {
		case errors.Is(err, ErrStop):
			return nil
		case err != nil:
			return err
		}
	}
}

// ConsumePush reads a push consumer's deliver subject (in its deliver group
// when it has one), answering flow control and skipping heartbeats (ADR-9),
// until f returns an error (ErrStop: none) or ctx ends.
func (js *JS) ConsumePush(ctx context.Context, ci *ConsumerInfo, f func(*Msg) error) error {
	c := ci.Config
	if c.DeliverSubject == "" {
		return errors.New("consumer " + ci.Name + " is a pull consumer")
	}
	var sub *client.Subscription
	var err error
	if c.DeliverGroup != "" {
		sub, err = js.nc.QueueSubscribeSync(c.DeliverSubject, c.DeliverGroup)
	} else {
		sub, err = js.nc.SubscribeSync(c.DeliverSubject)
	}
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()
	for {
		m, err := sub.NextMsgContext(ctx)
		if err != nil {
			return err
		}
		if m.Status() == "100" && len(m.Data) == 0 {
			// A flow-control request wants an empty reply once the messages
			// before it are handled, which they are: f ran for each.
			if m.Reply != "" {
				_ = js.nc.Publish(m.Reply, nil)
			}
			if stalled := m.Header.Get("Nats-Consumer-Stalled"); stalled != "" {
				_ = js.nc.Publish(stalled, nil)
			}
			continue
		}
		jm, err := js.newMsg(m)
		if err != nil {
			return err
		}
		if err := f(jm); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
}
