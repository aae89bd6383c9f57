package jsclient

import (
	"context"
	"errors"
	"time"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/streaming"
)

// Deliver policies, re-exported for callers of Replay.
const (
	DeliverAll             = streaming.DeliverAll
	DeliverLast            = streaming.DeliverLast
	DeliverNew             = streaming.DeliverNew
	DeliverByStartSequence = streaming.DeliverByStartSequence
	DeliverByStartTime     = streaming.DeliverByStartTime
	DeliverLastPerSubject  = streaming.DeliverLastPerSubject
)

// Ack policies, re-exported.
const (
	AckNone     = streaming.AckNone
	AckAll      = streaming.AckAll
	AckExplicit = streaming.AckExplicit
)

// ReplayOptions say what Replay delivers.
type ReplayOptions struct {
	Filters      []string
	Deliver      streaming.DeliverPolicy
	StartSeq     uint64
	StartTime    time.Time
	HeadersOnly  bool
	Follow       bool // keep delivering new messages; otherwise stop once caught up
	Batch        int  // messages per pull (default 256)
	PullInterval time.Duration
}

// Replay reads a stream in order through an ephemeral ordered consumer
// (ADR-17: pull, ack none, memory, R1, inactive_threshold 5m): f sees each
// message once, in stream order. A gap in consumer sequences, or the
// consumer vanishing, recreates it from the next stream sequence. Without
// Follow, Replay returns once it has delivered what the stream held when it
// started. f returning ErrStop ends it without error; the consumer is
// deleted on return.
func (js *JS) Replay(ctx context.Context, stream string, o ReplayOptions, f func(*Msg) error) error {
	r := &replay{js: js, stream: stream, o: o}
	if r.o.Batch <= 0 {
		r.o.Batch = 256
	}
	if r.o.PullInterval <= 0 {
		r.o.PullInterval = 10 * time.Second
	}
	defer r.cleanup()
	err := r.run(ctx, f)
	if errors.Is(err, ErrStop) || errors.Is(err, errCaughtUp) {
		return nil
	}
	return err
}

var errCaughtUp = errors.New("caught up")

type replay struct {
	js       *JS
	stream   string
	o        ReplayOptions
	name     string
	sub      *client.Subscription
	lastSSeq uint64 // last stream sequence delivered
	lastCSeq uint64 // last consumer sequence of the current consumer
	stopAt   uint64 // without Follow: the stream's last sequence at start
	serial   int
}

func (r *replay) config() ConsumerConfig {
	c := ConsumerConfig{
		Name:              RandomName(),
		AckPolicy:         streaming.AckNone,
		DeliverPolicy:     r.o.Deliver,
		HeadersOnly:       r.o.HeadersOnly,
		MemoryStorage:     true,
		Replicas:          1,
		InactiveThreshold: 5 * time.Minute,
	}
	switch len(r.o.Filters) {
	case 0:
		if c.DeliverPolicy == DeliverLastPerSubject {
			c.FilterSubjects = []string{">"}
		}
	case 1:
		c.FilterSubject = r.o.Filters[0]
	default:
		c.FilterSubjects = r.o.Filters
	}
	switch {
	case r.lastSSeq > 0:
		// After a reset: resume right after what f has seen.
		c.DeliverPolicy, c.OptStartSeq = DeliverByStartSequence, r.lastSSeq+1
	case c.DeliverPolicy == DeliverByStartSequence:
		c.OptStartSeq = r.o.StartSeq
	case c.DeliverPolicy == DeliverByStartTime:
		t := r.o.StartTime.UTC()
		c.OptStartTime = &t
	}
	return c
}

// reset (re)creates the consumer and its inbox.
func (r *replay) reset(ctx context.Context) (pending uint64, err error) {
	r.cleanup()
	ci, _, err := r.js.CreateConsumer(ctx, r.stream, r.config(), ActionCreate)
	if err != nil {
		return 0, err
	}
	r.name, r.lastCSeq = ci.Name, 0
	if r.sub, err = r.js.nc.SubscribeSync(client.NewInbox()); err != nil {
		return 0, err
	}
	return ci.NumPending, nil
}

func (r *replay) cleanup() {
	if r.sub != nil {
		_ = r.sub.Unsubscribe()
		r.sub = nil
	}
	// Deleting needs a server: while disconnected the request would only
	// wait out its timeout, delaying a Ctrl-C. The consumer goes by itself
	// after InactiveThreshold.
	if r.name != "" && r.js.nc.IsConnected() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = r.js.DeleteConsumer(ctx, r.stream, r.name)
		cancel()
	}
	r.name = ""
}

func (r *replay) run(ctx context.Context, f func(*Msg) error) error {
	if !r.o.Follow {
		si, err := r.js.StreamInfo(ctx, r.stream)
		if err != nil {
			return err
		}
		r.stopAt = si.State.LastSeq
	}
	pending, err := r.reset(ctx)
	if err != nil {
		return err
	}
	if !r.o.Follow && (pending == 0 || r.stopAt == 0) {
		return errCaughtUp
	}
	handle := func(m *Msg) error {
		if m.Meta.Consumer != r.name {
			return nil // from a consumer replaced by a reset
		}
		if m.Meta.ConsumerSeq != r.lastCSeq+1 {
			return errGap
		}
		r.lastCSeq, r.lastSSeq = m.Meta.ConsumerSeq, m.Meta.StreamSeq
		if err := f(m); err != nil {
			return err
		}
		if !r.o.Follow && (m.Meta.Pending == 0 || m.Meta.StreamSeq >= r.stopAt) {
			return errCaughtUp
		}
		return nil
	}
	for {
		_, err := r.js.pull(ctx, r.sub, r.stream, r.name, PullRequest{Batch: r.o.Batch, Expires: r.o.PullInterval}, handle)
		switch {
		case err == nil:
		case errors.Is(err, errGap), errors.Is(err, ErrConsumerGone):
			if r.serial++; r.serial > 10 {
				return errors.New("ordered consumer: too many resets")
			}
			pending, err := r.reset(ctx)
			if err != nil {
				return err
			}
			if !r.o.Follow && pending == 0 {
				return errCaughtUp
			}
		default:
			return err
		}
	}
}

var errGap = errors.New("ordered consumer: sequence gap")
