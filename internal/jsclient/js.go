package jsclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/streaming"
)

// APIError is the "error" object of an API reply (ADR-1): clients branch on
// ErrCode.
type APIError = streaming.APIError

// Error codes clients branch on (nats-server server/errors.json).
const (
	ErrCodeConsumerNotFound = 10014
	ErrCodeNoMessageFound   = 10037
	ErrCodeStreamNotFound   = 10059
	ErrCodeWrongLastSeq     = 10071
)

// ErrNoJetStream means nobody answers on $JS.API: the server runs without
// JetStream.
var ErrNoJetStream = errors.New("no JetStream API at the server: run `natsctl serve` (streams are on by default) or nats-server -js")

// DefaultTimeout bounds one API request when the context has no deadline.
const DefaultTimeout = 5 * time.Second

// JS sends JetStream API requests over one connection.
type JS struct {
	nc     *client.Conn
	prefix string
}

// New returns a JetStream context on nc using the default API prefix.
func New(nc *client.Conn) *JS { return &JS{nc: nc, prefix: "$JS.API."} }

// Conn is the underlying connection.
func (js *JS) Conn() *client.Conn { return js.nc }

// IsAPIError reports whether err is an API error with the given err_code.
func IsAPIError(err error, code uint16) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.ErrCode == code
}

func withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, DefaultTimeout)
}

// Request sends req (JSON-encoded unless nil or already []byte) to
// $JS.API.<subj>, decodes the reply into out (when not nil) and returns the
// raw reply. A reply carrying an error object returns it as *APIError, with
// the raw reply.
func (js *JS) Request(ctx context.Context, subj string, req, out any) ([]byte, error) {
	var body []byte
	switch r := req.(type) {
	case nil:
	case []byte:
		body = r
	default:
		var err error
		if body, err = json.Marshal(req); err != nil {
			return nil, err
		}
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	m, err := js.nc.Request(ctx, js.prefix+subj, body)
	if err != nil {
		if errors.Is(err, client.ErrNoResponders) {
			return nil, ErrNoJetStream
		}
		return nil, fmt.Errorf("%s: %w", subj, err)
	}
	var e struct {
		Error *APIError `json:"error"`
	}
	if err := json.Unmarshal(m.Data, &e); err != nil {
		return nil, fmt.Errorf("bad JetStream reply to %s: %w", subj, err)
	}
	if e.Error != nil {
		return m.Data, e.Error
	}
	if out != nil {
		if err := json.Unmarshal(m.Data, out); err != nil {
			return nil, fmt.Errorf("bad JetStream reply to %s: %w", subj, err)
		}
	}
	return m.Data, nil
}

// PubAck is a stream's acknowledgement of a publish (ADR-4).
type PubAck struct {
	Stream    string `json:"stream"`
	Sequence  uint64 `json:"seq"`
	Duplicate bool   `json:"duplicate,omitempty"`
	Domain    string `json:"domain,omitempty"`
}

// ErrNoStream means no stream stores the subject published to.
var ErrNoStream = errors.New("no stream stores this subject")

// Publish sends m as a request and waits for the stream's PubAck.
func (js *JS) Publish(ctx context.Context, m *client.Msg) (*PubAck, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	r, err := js.nc.RequestMsg(ctx, m)
	if err != nil {
		if errors.Is(err, client.ErrNoResponders) {
			return nil, fmt.Errorf("publish to %q: %w", m.Subject, ErrNoStream)
		}
		return nil, fmt.Errorf("publish to %q: %w", m.Subject, err)
	}
	var a struct {
		PubAck
		Error *APIError `json:"error"`
	}
	if err := json.Unmarshal(r.Data, &a); err != nil {
		return nil, fmt.Errorf("publish to %q: bad ack: %w", m.Subject, err)
	}
	if a.Error != nil {
		return nil, a.Error
	}
	if a.Stream == "" {
		return nil, fmt.Errorf("publish to %q: ack names no stream", m.Subject)
	}
	return &a.PubAck, nil
}
