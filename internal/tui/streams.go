package tui

import (
	"fmt"

	tea "charm.land/bubbletea/v2"

	"sort"
	"strings"
	"time"
)

// The streams tab reads /jsz?accounts=true&streams=true&consumers=true
// (nats-server's JSInfo: account_details[].stream_detail[] with
// consumer_detail[]), which natsctl serve and nats-server -js -m both serve.
// Only the fields shown are decoded.

// JSStreams is the part of /jsz the streams tab shows.
type JSStreams struct {
	Now      time.Time `json:"now"`
	Disabled bool      `json:"disabled,omitempty"`
	Accounts []struct {
		Name    string       `json:"name"`
		Streams []StreamStat `json:"stream_detail,omitempty"`
	} `json:"account_details,omitempty"`
}

// StreamStat is one stream_detail entry.
type StreamStat struct {
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	State   struct {
		Msgs      uint64 `json:"messages"`
		Bytes     uint64 `json:"bytes"`
		FirstSeq  uint64 `json:"first_seq"`
		LastSeq   uint64 `json:"last_seq"`
		Consumers int    `json:"consumer_count"`
	} `json:"state"`
	Consumers []ConsumerStat `json:"consumer_detail,omitempty"`
}

// ConsumerStat is one consumer_detail entry.
type ConsumerStat struct {
	Name      string    `json:"name"`
	Created   time.Time `json:"created"`
	Delivered struct {
		Consumer uint64 `json:"consumer_seq"`
		Stream   uint64 `json:"stream_seq"`
	} `json:"delivered"`
	AckFloor struct {
		Consumer uint64 `json:"consumer_seq"`
		Stream   uint64 `json:"stream_seq"`
	} `json:"ack_floor"`
	NumAckPending  int    `json:"num_ack_pending"`
	NumRedelivered int    `json:"num_redelivered"`
	NumWaiting     int    `json:"num_waiting"`
	NumPending     uint64 `json:"num_pending"`
}

// StreamRate is a stream with its rates over the last interval: stored
// messages and bytes per second (from the last sequence and the byte
// count) and, per consumer, deliveries and acks per second.
type StreamRate struct {
	Account   string
	Stream    StreamStat
	MsgRate   float64
	ByteRate  float64
	Consumers []ConsumerRate
}

// ConsumerRate is one consumer's rates.
type ConsumerRate struct {
	Consumer    ConsumerStat
	DeliverRate float64
	AckRate     float64
}

func urate(prev, cur uint64, dt time.Duration) float64 {
	if dt <= 0 || cur < prev {
		return 0
	}
	return float64(cur-prev) / dt.Seconds()
}

// ComputeStreamRates pairs the streams (by account, name and creation) and
// consumers of two /jsz documents, busiest stream first (then by name). A
// stream or consumer absent from prev, or recreated, has rate 0.
func ComputeStreamRates(prev, cur *JSStreams) []StreamRate {
	if cur == nil {
		return nil
	}
	type key struct{ acc, name string }
	before := map[key]*StreamStat{}
	var dt time.Duration
	if prev != nil {
		dt = cur.Now.Sub(prev.Now)
		for _, a := range prev.Accounts {
			for i := range a.Streams {
				before[key{a.Name, a.Streams[i].Name}] = &a.Streams[i]
			}
		}
	}
	var out []StreamRate
	for _, a := range cur.Accounts {
		for _, s := range a.Streams {
			r := StreamRate{Account: a.Name, Stream: s}
			p := before[key{a.Name, s.Name}]
			if p != nil && !p.Created.Equal(s.Created) {
				p = nil
			}
			pc := map[string]*ConsumerStat{}
			if p != nil {
				r.MsgRate = urate(p.State.LastSeq, s.State.LastSeq, dt)
				r.ByteRate = urate(p.State.Bytes, s.State.Bytes, dt)
				for i := range p.Consumers {
					pc[p.Consumers[i].Name] = &p.Consumers[i]
				}
			}
			for _, c := range s.Consumers {
				cr := ConsumerRate{Consumer: c}
				if q := pc[c.Name]; q != nil && q.Created.Equal(c.Created) {
					cr.DeliverRate = urate(q.Delivered.Consumer, c.Delivered.Consumer, dt)
					cr.AckRate = urate(q.AckFloor.Consumer, c.AckFloor.Consumer, dt)
				}
				r.Consumers = append(r.Consumers, cr)
			}
			sort.Slice(r.Consumers, func(i, j int) bool { return r.Consumers[i].Consumer.Name < r.Consumers[j].Consumer.Name })
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.MsgRate != b.MsgRate {
			return a.MsgRate > b.MsgRate
		}
		if a.Stream.Name != b.Stream.Name {
			return a.Stream.Name < b.Stream.Name
		}
		return a.Account < b.Account
	})
	return out
}

// streamLine is one row of the streams tab: a stream, or (consumer set)
// one of its consumers beneath it.
type streamLine struct {
	s *StreamRate
	c *ConsumerRate
}

// streamLines returns the rows after the filter (by stream name).
func (m Model) streamLines() []streamLine {
	f := strings.ToLower(m.filter)
	var out []streamLine
	for i := range m.streams {
		s := &m.streams[i]
		if f != "" && !strings.Contains(strings.ToLower(s.Stream.Name), f) {
			continue
		}
		out = append(out, streamLine{s: s})
		for j := range s.Consumers {
			out = append(out, streamLine{s: s, c: &s.Consumers[j]})
		}
	}
	return out
}

// streamTabLines renders the streams tab: a header and lay.tableRows rows.
func (m Model) streamTabLines(lay screen) []string {
	numW := 9
	if m.width < 110 {
		numW = 7 // room for the names on an 80-column terminal
	}
	nameW := max(m.width-1-8*(numW+1), 12)
	titles := []string{"MSGS", "BYTES", "MSGS/s", "BYTES/s", "CONS", "PENDING", "ACKPEND", "REDELIV"}
	var hdr strings.Builder
	hdr.WriteString(" " + cell("STREAM / CONSUMER", nameW, false))
	for _, t := range titles {
		hdr.WriteString(" " + cell(t, numW, true))
	}
	lines := []string{m.st.header.Render(cell(hdr.String(), m.width, false))}
	rows := m.streamLines()
	switch {
	case m.last == nil:
	case m.last.Jsz == nil && m.last.JszErr != "":
		lines = append(lines, " "+m.st.warn.Render(m.last.JszErr))
	case m.last.Jsz == nil:
		lines = append(lines, m.st.faint.Render(" loading /jsz …"))
	case m.last.Jsz.Disabled:
		lines = append(lines, " "+m.st.warn.Render("JetStream is not enabled on this server"))
	case len(rows) == 0 && m.filter != "":
		lines = append(lines, m.st.faint.Render(" no stream matches the filter "+fmt.Sprintf("%q", m.filter)))
	case len(rows) == 0:
		lines = append(lines, m.st.faint.Render(" no streams"))
	}
	end := min(m.strm.offset+lay.tableRows, len(rows))
	for i := m.strm.offset; i < end; i++ {
		lines = append(lines, m.streamRow(rows[i], nameW, numW))
	}
	return lines
}

func (m Model) streamRow(l streamLine, nameW, numW int) string {
	num := func(s string) string { return " " + cell(s, numW, true) }
	var b strings.Builder
	if l.c == nil {
		s := l.s
		name := s.Stream.Name
		if s.Account != "" && s.Account != "$G" {
			name += " (" + s.Account + ")"
		}
		b.WriteString(" " + cell(name, nameW, false))
		b.WriteString(num(formatCount(float64(s.Stream.State.Msgs))) + num(formatBytes(float64(s.Stream.State.Bytes))) +
			num(formatCount(s.MsgRate)) + num(formatBytes(s.ByteRate)) + num(fmt.Sprint(s.Stream.State.Consumers)))
		return b.String()
	}
	c := l.c
	b.WriteString(" " + cell("  └ "+c.Consumer.Name, nameW, false))
	b.WriteString(num("") + num("") + num(formatCount(c.DeliverRate)) + num("") + num("") +
		num(formatCount(float64(c.Consumer.NumPending))) + num(formatCount(float64(c.Consumer.NumAckPending))) +
		num(formatCount(float64(c.Consumer.NumRedelivered))))
	return b.String()
}

// streamKey scrolls the streams tab.
func (m Model) streamKey(msg tea.KeyPressMsg) Model {
	m.strm.offset = m.scroll(msg, m.strm.offset, len(m.streamLines()))
	return m
}
