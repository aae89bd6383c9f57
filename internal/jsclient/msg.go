package jsclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/natsctl/natsctl/internal/client"
)

// ParseHeader decodes a stored header block (MSG.GET "hdrs"):
//
//	NATS/1.0[ <code>[ <description>]]\r\n
//	<key>: <value>\r\n ...
//	\r\n
func ParseHeader(b []byte) (client.Header, error) {
	line, rest, _ := bytes.Cut(b, []byte("\r\n"))
	if !bytes.HasPrefix(line, []byte("NATS/1.0")) {
		return nil, errors.New("stored header: missing NATS/1.0 line")
	}
	h := client.Header{}
	if st := bytes.TrimSpace(line[len("NATS/1.0"):]); len(st) > 0 {
		code, desc, _ := bytes.Cut(st, []byte(" "))
		h[client.StatusHeader] = []string{string(code)}
		if d := bytes.TrimSpace(desc); len(d) > 0 {
			h[client.DescriptionHeader] = []string{string(d)}
		}
	}
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		if len(line) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		key := string(bytes.TrimSpace(k))
		if !ok || key == "" {
			return nil, fmt.Errorf("stored header: bad line %q", line)
		}
		h[key] = append(h[key], string(bytes.TrimSpace(v)))
	}
	return h, nil
}

// MsgMeta is what a delivered message's ack subject says (ADR-15):
//
//	$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts_ns>.<pending>
//	$JS.ACK.<domain>.<acchash>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts_ns>.<pending>[.<token>]
type MsgMeta struct {
	Stream, Consumer, Domain string
	Delivered                uint64
	StreamSeq, ConsumerSeq   uint64
	Time                     time.Time
	Pending                  uint64
}

// ParseAckSubject decodes an ack subject (9 tokens, or 11 and more).
func ParseAckSubject(s string) (*MsgMeta, error) {
	t := strings.Split(s, ".")
	if len(t) < 9 || t[0] != "$JS" || t[1] != "ACK" || len(t) == 10 {
		return nil, fmt.Errorf("not an ack subject: %q", s)
	}
	if len(t) == 9 {
		// v1: insert empty domain and account hash.
		t = append([]string{t[0], t[1], "", ""}, t[2:]...)
	}
	m := &MsgMeta{Domain: t[2], Stream: t[4], Consumer: t[5]}
	if m.Domain == "_" {
		m.Domain = ""
	}
	var n [5]uint64
	for i := range n {
		v, err := strconv.ParseUint(t[6+i], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("ack subject %q: token %d: %w", s, 6+i, err)
		}
		n[i] = v
	}
	m.Delivered, m.StreamSeq, m.ConsumerSeq, m.Pending = n[0], n[1], n[2], n[4]
	m.Time = time.Unix(0, int64(n[3])).UTC()
	return m, nil
}

// Msg is a message delivered by a consumer.
type Msg struct {
	*client.Msg
	Meta *MsgMeta
	conn *client.Conn
}

func (js *JS) newMsg(m *client.Msg) (*Msg, error) {
	meta, err := ParseAckSubject(m.Reply)
	if err != nil {
		return nil, err
	}
	return &Msg{Msg: m, Meta: meta, conn: js.nc}, nil
}

// Ack bodies (ADR-15).
var (
	AckAck  = []byte("+ACK")
	AckNak  = []byte("-NAK")
	AckTerm = []byte("+TERM")
	AckWPI  = []byte("+WPI")
)

// Ack acknowledges m.
func (m *Msg) Ack() error { return m.Respond(AckAck) }

// AckSync acknowledges m and waits until the server confirms it applied
// (and, for a durable on natsctl's server, stored) the ack: a "double ack".
func (m *Msg) AckSync(ctx context.Context) error {
	if m.Reply == "" || m.conn == nil {
		return errors.New("message has no ack subject")
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	_, err := m.conn.Request(ctx, m.Reply, AckAck)
	if err != nil {
		return fmt.Errorf("ack of stream sequence %d: %w", m.Meta.StreamSeq, err)
	}
	return nil
}

// Nak asks for redelivery.
func (m *Msg) Nak() error { return m.Respond(AckNak) }
