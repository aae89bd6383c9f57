package jsclient

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/streaming"
)

// Stream API shapes, shared with the engine (nats-server's JSON names).
type (
	StreamConfig   = streaming.StreamConfig
	StreamInfo     = streaming.StreamInfo
	ConsumerConfig = streaming.ConsumerConfig
	ConsumerInfo   = streaming.ConsumerInfo
)

// StreamInfo returns a stream's config and state.
func (js *JS) StreamInfo(ctx context.Context, name string) (*StreamInfo, error) {
	var si StreamInfo
	if _, err := js.Request(ctx, "STREAM.INFO."+name, nil, &si); err != nil {
		return nil, err
	}
	return &si, nil
}

// CreateStream creates a stream from cfg (a StreamConfig, or a map when
// fields outside StreamConfig must be kept) and returns the raw reply too.
func (js *JS) CreateStream(ctx context.Context, name string, cfg any) (*StreamInfo, []byte, error) {
	var si StreamInfo
	raw, err := js.Request(ctx, "STREAM.CREATE."+name, cfg, &si)
	if err != nil {
		return nil, raw, err
	}
	return &si, raw, nil
}

// UpdateStream replaces a stream's config with cfg (see CreateStream).
func (js *JS) UpdateStream(ctx context.Context, name string, cfg any) (*StreamInfo, []byte, error) {
	var si StreamInfo
	raw, err := js.Request(ctx, "STREAM.UPDATE."+name, cfg, &si)
	if err != nil {
		return nil, raw, err
	}
	return &si, raw, nil
}

// StreamConfigRaw returns a stream's config as the server sent it, every
// field kept, so that an edit does not drop what StreamConfig lacks.
func (js *JS) StreamConfigRaw(ctx context.Context, name string) (map[string]any, error) {
	var r struct {
		Config map[string]any `json:"config"`
	}
	if _, err := js.Request(ctx, "STREAM.INFO."+name, nil, &r); err != nil {
		return nil, err
	}
	return r.Config, nil
}

// DeleteStream removes a stream and its messages.
func (js *JS) DeleteStream(ctx context.Context, name string) error {
	_, err := js.Request(ctx, "STREAM.DELETE."+name, nil, nil)
	return err
}

// PurgeRequest selects what STREAM.PURGE removes (ADR-10).
type PurgeRequest struct {
	Filter string `json:"filter,omitempty"`
	Seq    uint64 `json:"seq,omitempty"`
	Keep   uint64 `json:"keep,omitempty"`
}

// PurgeStream removes messages and returns how many.
func (js *JS) PurgeStream(ctx context.Context, name string, req *PurgeRequest) (uint64, error) {
	var r struct {
		Purged uint64 `json:"purged"`
	}
	var body any
	if req != nil {
		body = req
	}
	_, err := js.Request(ctx, "STREAM.PURGE."+name, body, &r)
	return r.Purged, err
}

// StreamNames lists the streams, only those storing subject when not "".
func (js *JS) StreamNames(ctx context.Context, subject string) ([]string, error) {
	var all []string
	for offset := 0; ; {
		var page struct {
			Total   int      `json:"total"`
			Streams []string `json:"streams"`
		}
		req := map[string]any{"offset": offset}
		if subject != "" {
			req["subject"] = subject
		}
		if _, err := js.Request(ctx, "STREAM.NAMES", req, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Streams...)
		offset += len(page.Streams)
		if len(page.Streams) == 0 || offset >= page.Total {
			return all, nil
		}
	}
}

// StoredMsg is a message read back from a stream.
type StoredMsg struct {
	Subject  string
	Sequence uint64
	Header   client.Header
	Data     []byte
	Time     time.Time
}

// MsgGetRequest selects a message (ADR-31): by sequence, the last on a
// subject, or the first at or after Seq on a subject.
type MsgGetRequest struct {
	Seq        uint64 `json:"seq,omitempty"`
	LastBySubj string `json:"last_by_subj,omitempty"`
	NextBySubj string `json:"next_by_subj,omitempty"`
}

// GetMsg reads one message with STREAM.MSG.GET. A missing message is an
// *APIError with ErrCodeNoMessageFound.
func (js *JS) GetMsg(ctx context.Context, stream string, req MsgGetRequest) (*StoredMsg, error) {
	var r struct {
		Message streaming.StoredMsg `json:"message"`
	}
	if _, err := js.Request(ctx, "STREAM.MSG.GET."+stream, req, &r); err != nil {
		return nil, err
	}
	m := &StoredMsg{Subject: r.Message.Subject, Sequence: r.Message.Sequence, Data: r.Message.Data, Time: r.Message.Time}
	if len(r.Message.Header) > 0 {
		h, err := ParseHeader(r.Message.Header)
		if err != nil {
			return nil, err
		}
		m.Header = h
	}
	return m, nil
}

// ErrMsgNotFound is DIRECT.GET's 404.
var ErrMsgNotFound = &APIError{Code: 404, ErrCode: ErrCodeNoMessageFound, Description: "no message found"}

// DirectGetLast reads the newest message on subject with
// DIRECT.GET.<stream>.<subject> (ADR-31; the stream must allow direct).
func (js *JS) DirectGetLast(ctx context.Context, stream, subject string) (*StoredMsg, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	r, err := js.nc.Request(ctx, js.prefix+"DIRECT.GET."+stream+"."+subject, nil)
	if err != nil {
		if err == client.ErrNoResponders {
			return nil, ErrNoJetStream
		}
		return nil, err
	}
	switch st := r.Status(); st {
	case "":
	case "404":
		return nil, ErrMsgNotFound
	default:
		return nil, &APIError{Code: atoi(st), Description: "direct get: " + r.Header.Get(client.DescriptionHeader)}
	}
	m := &StoredMsg{Subject: r.Header.Get("Nats-Subject"), Data: r.Data, Header: client.Header{}}
	m.Sequence, _ = strconv.ParseUint(r.Header.Get("Nats-Sequence"), 10, 64)
	m.Time, _ = time.Parse(time.RFC3339Nano, r.Header.Get("Nats-Time-Stamp"))
	for k, v := range r.Header {
		switch k {
		case "Nats-Stream", "Nats-Subject", "Nats-Sequence", "Nats-Time-Stamp", "Nats-Num-Pending", "Nats-Last-Sequence":
		default:
			m.Header[k] = v
		}
	}
	return m, nil
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// jsonString is json.Marshal for values that cannot fail.
func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
