package tui

import (
	"sort"
	"time"

	"github.com/natsctl/natsctl/internal/monitorapi"
)

// Rates are per-second message and byte rates over one poll interval.
// In is client->server, Out server->client.
type Rates struct {
	InMsgs, OutMsgs, InBytes, OutBytes float64
}

// rate is Δcounter ÷ Δt in seconds, or 0 when there is no interval or the
// counter went backwards (a restarted server or a reused id).
func rate(prev, cur int64, dt time.Duration) float64 {
	if dt <= 0 || cur < prev {
		return 0
	}
	return float64(cur-prev) / dt.Seconds()
}

// ComputeRates derives the server-wide rates from two successive /varz
// documents, using the server's own clock (varz.now) for the interval as
// nats-top does. With no previous document, or one from another server
// start, all rates are 0.
func ComputeRates(prev, cur *monitorapi.Varz) Rates {
	if prev == nil || cur == nil || !sameServerRun(prev, cur) {
		return Rates{}
	}
	dt := cur.Now.Sub(prev.Now)
	return Rates{
		InMsgs:   rate(prev.InMsgs, cur.InMsgs, dt),
		OutMsgs:  rate(prev.OutMsgs, cur.OutMsgs, dt),
		InBytes:  rate(prev.InBytes, cur.InBytes, dt),
		OutBytes: rate(prev.OutBytes, cur.OutBytes, dt),
	}
}

// sameServerRun reports whether two /varz came from the same process run.
func sameServerRun(a, b *monitorapi.Varz) bool {
	return a.ID == b.ID && a.Start.Equal(b.Start)
}

// ComputeConnRates derives per-connection rates, keyed by cid, from two
// /connz pages. A connection missing from prev (new, or outside the
// previous page) has no entry; the view shows it as 0.
func ComputeConnRates(prev, cur *monitorapi.Connz) map[uint64]Rates {
	if prev == nil || cur == nil {
		return nil
	}
	dt := cur.Now.Sub(prev.Now)
	if dt <= 0 {
		return nil
	}
	before := make(map[uint64]*monitorapi.ConnInfo, len(prev.Conns))
	for _, c := range prev.Conns {
		before[c.Cid] = c
	}
	out := make(map[uint64]Rates, len(cur.Conns))
	for _, c := range cur.Conns {
		p, ok := before[c.Cid]
		if !ok || !p.Start.Equal(c.Start) {
			continue
		}
		out[c.Cid] = Rates{
			InMsgs:   rate(p.InMsgs, c.InMsgs, dt),
			OutMsgs:  rate(p.OutMsgs, c.OutMsgs, dt),
			InBytes:  rate(p.InBytes, c.InBytes, dt),
			OutBytes: rate(p.OutBytes, c.OutBytes, dt),
		}
	}
	return out
}

// SubjectRate is one subject's totals and per-second rates.
type SubjectRate struct {
	Subject           string
	Msgs, Bytes       int64
	MsgRate, ByteRate float64
}

// ComputeSubjectRates pairs the subjects of two /subjz documents and orders
// them busiest first: by message rate, then byte rate, then total messages,
// then name (so the order is total and stable). A subject absent from prev
// gets rate 0 for this interval.
func ComputeSubjectRates(prev, cur *monitorapi.Subjz) []SubjectRate {
	if cur == nil {
		return nil
	}
	var dt time.Duration
	before := map[string]monitorapi.SubjectStats{}
	if prev != nil {
		dt = cur.Now.Sub(prev.Now)
		for _, s := range prev.Subjects {
			before[s.Subject] = s
		}
	}
	out := make([]SubjectRate, 0, len(cur.Subjects))
	for _, s := range cur.Subjects {
		r := SubjectRate{Subject: s.Subject, Msgs: s.Msgs, Bytes: s.Bytes}
		if p, ok := before[s.Subject]; ok {
			r.MsgRate = rate(p.Msgs, s.Msgs, dt)
			r.ByteRate = rate(p.Bytes, s.Bytes, dt)
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch {
		case a.MsgRate != b.MsgRate:
			return a.MsgRate > b.MsgRate
		case a.ByteRate != b.ByteRate:
			return a.ByteRate > b.ByteRate
		case a.Msgs != b.Msgs:
			return a.Msgs > b.Msgs
		}
		return a.Subject < b.Subject
	})
	return out
}
