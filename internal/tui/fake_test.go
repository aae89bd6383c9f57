package tui

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/monitorapi"
)

// fakeSource returns canned snapshots in order (repeating the last) or a
// canned error, and records the requests it got.
type fakeSource struct {
	mu    sync.Mutex
	snaps []*Snapshot
	err   error
	reqs  []Request
}

func (f *fakeSource) Name() string { return "http://fake:8222" }

func (f *fakeSource) Fetch(_ context.Context, req Request) (*Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, req)
	if f.err != nil {
		return nil, f.err
	}
	s := f.snaps[0]
	if len(f.snaps) > 1 {
		f.snaps = f.snaps[1:]
	}
	return s, nil
}

func (f *fakeSource) lastReq() Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reqs[len(f.reqs)-1]
}

var (
	t0      = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	started = t0.Add(-90 * time.Minute)
)

// conn builds a connection; counters scale with k so polls can advance.
func conn(cid uint64, name string, port int, k int64) *monitorapi.ConnInfo {
	return &monitorapi.ConnInfo{
		Cid: cid, Name: name, IP: "127.0.0.1", Port: port,
		Start:        started.Add(time.Duration(cid) * time.Minute),
		LastActivity: t0.Add(-time.Duration(cid) * time.Second),
		Uptime:       monitorapi.FormatUptime(t0.Sub(started.Add(time.Duration(cid) * time.Minute))),
		Idle:         monitorapi.FormatUptime(time.Duration(cid) * time.Second),
		RTT:          (time.Duration(cid) * 100 * time.Microsecond).String(),
		NumSubs:      uint32(cid), Pending: int(cid) * 10,
		InMsgs: 100 * k * int64(cid), OutMsgs: 10 * k * int64(4-cid),
		InBytes: 1000 * k * int64(cid), OutBytes: 100 * k * int64(4-cid),
		Lang: "go", Version: "1.55.0", Account: "$G",
		Subs: []string{name + ".in", "_INBOX.>"},
	}
}

// snap is a poll at t0+sec seconds, whose counters grow with k.
func snap(sec int, k int64, subjz bool) *Snapshot {
	now := t0.Add(time.Duration(sec) * time.Second)
	conns := []*monitorapi.ConnInfo{conn(1, "alpha", 50001, k), conn(2, "beta", 50002, k), conn(3, "gamma", 50003, k)}
	s := &Snapshot{
		Varz: &monitorapi.Varz{
			ID: "NSERVER", Name: "east-1", Version: "2.15.2", Start: started, Now: now,
			Uptime: monitorapi.FormatUptime(now.Sub(started)), CPU: 12.5, Mem: 48 << 20,
			Connections: 3, Subscriptions: 6, SlowConsumers: 1,
			InMsgs: 6000 * k, OutMsgs: 5000 * k, InBytes: 60000 * k, OutBytes: 50000 * k,
		},
		Connz: &monitorapi.Connz{ID: "NSERVER", Now: now, NumConns: 3, Total: 3, Limit: 1024, Conns: conns},
	}
	if subjz {
		s.Subjz = &monitorapi.Subjz{ID: "NSERVER", Now: now, Total: 3, Limit: 100, Sort: "msgs", Subjects: []monitorapi.SubjectStats{
			{Subject: "orders.new", Msgs: 300 * k, Bytes: 30000 * k},
			{Subject: "orders.paid", Msgs: 100 * k, Bytes: 90000 * k},
			{Subject: "metrics.cpu", Msgs: 50 * k, Bytes: 500 * k},
		}}
	} else {
		s.SubjzErr = ErrNoSubjz.Error()
	}
	return s
}

func writeJSON(t *testing.T, w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		t.Error(err)
	}
}
