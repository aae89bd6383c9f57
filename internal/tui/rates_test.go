package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/monitorapi"
)

func TestComputeRates(t *testing.T) {
	base := func(now time.Time, in, out int64) *monitorapi.Varz {
		return &monitorapi.Varz{ID: "S", Start: started, Now: now, InMsgs: in, OutMsgs: out, InBytes: in * 10, OutBytes: out * 10}
	}
	restarted := base(t0.Add(2*time.Second), 50, 50)
	restarted.Start = t0
	tests := []struct {
		name      string
		prev, cur *monitorapi.Varz
		want      Rates
	}{
		{"first poll", nil, base(t0, 100, 100), Rates{}},
		{"two seconds", base(t0, 100, 50), base(t0.Add(2*time.Second), 300, 250), Rates{InMsgs: 100, OutMsgs: 100, InBytes: 1000, OutBytes: 1000}},
		{"half second", base(t0, 0, 0), base(t0.Add(500*time.Millisecond), 10, 5), Rates{InMsgs: 20, OutMsgs: 10, InBytes: 200, OutBytes: 100}},
		{"same now", base(t0, 0, 0), base(t0, 10, 10), Rates{}},
		{"clock went back", base(t0, 0, 0), base(t0.Add(-time.Second), 10, 10), Rates{}},
		{"counter went back", base(t0, 100, 100), base(t0.Add(time.Second), 50, 150), Rates{OutMsgs: 50, OutBytes: 500}},
		{"server restarted", base(t0, 100, 100), restarted, Rates{}},
	}
	for _, tt := range tests {
		if got := ComputeRates(tt.prev, tt.cur); got != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestComputeConnRates(t *testing.T) {
	prev, cur := snap(0, 1, false).Connz, snap(2, 3, false).Connz
	cur.Conns = append(cur.Conns, conn(9, "new", 1, 1))
	got := ComputeConnRates(prev, cur)
	// alpha (cid 1): in 100*1 -> 100*3 over 2 s = 100/s; out 30 -> 90 = 30/s.
	if r := got[1]; r.InMsgs != 100 || r.OutMsgs != 30 || r.InBytes != 1000 || r.OutBytes != 300 {
		t.Errorf("cid 1: %+v", r)
	}
	if _, ok := got[9]; ok {
		t.Error("a connection new in this poll has a rate")
	}
	if ComputeConnRates(nil, cur) != nil {
		t.Error("first poll has rates")
	}
}

func TestComputeSubjectRates(t *testing.T) {
	prev, cur := snap(0, 1, true).Subjz, snap(2, 2, true).Subjz
	cur.Subjects = append(cur.Subjects, monitorapi.SubjectStats{Subject: "new.one", Msgs: 1000, Bytes: 1})
	got := ComputeSubjectRates(prev, cur)
	want := []SubjectRate{
		{Subject: "orders.new", Msgs: 600, Bytes: 60000, MsgRate: 150, ByteRate: 15000},
		{Subject: "orders.paid", Msgs: 200, Bytes: 180000, MsgRate: 50, ByteRate: 45000},
		{Subject: "metrics.cpu", Msgs: 100, Bytes: 1000, MsgRate: 25, ByteRate: 250},
		{Subject: "new.one", Msgs: 1000, Bytes: 1}, // unknown rate: 0, sorted last
	}
	if len(got) != len(want) {
		t.Fatalf("got %d subjects, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("[%d] got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestSparkline(t *testing.T) {
	tests := []struct {
		vals  []float64
		width int
		want  string
	}{
		{nil, 4, "    "},
		{[]float64{0, 0}, 3, " ▁▁"},
		{[]float64{0, 1, 7, 14}, 4, "▁▂▄█"}, // any traffic rises above the floor
		{[]float64{1, 2, 3, 4, 5}, 3, "▅▆█"},
		{[]float64{5}, 0, ""},
	}
	for _, tt := range tests {
		if got := sparkline(tt.vals, tt.width); got != tt.want {
			t.Errorf("sparkline(%v, %d) = %q, want %q", tt.vals, tt.width, got, tt.want)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, tt := range []struct {
		got, want string
	}{
		{formatCount(0), "0"}, {formatCount(999), "999"}, {formatCount(2.5), "2.5"},
		{formatCount(1234), "1.2K"}, {formatCount(35_000_000), "35M"}, {formatCount(2e9), "2.0B"},
		{formatBytes(512), "512"}, {formatBytes(1536), "1.5K"}, {formatBytes(48 << 20), "48M"},
		{formatCount(-1), "0"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestWriteReport(t *testing.T) {
	var b strings.Builder
	if err := WriteReport(&b, snap(0, 1, false)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"Server: east-1  version 2.15.2  uptime 1h30m0s  id NSERVER\n",
		"In:     msgs 6000  bytes 60000\n",
		"Connections polled: 3 of 3\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	var row []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "beta") {
			row = strings.Fields(l)
		}
	}
	// CID NAME HOST SUBS PENDING MSGS_TO MSGS_FROM BYTES_TO BYTES_FROM LANG VERSION UPTIME IDLE SUBSCRIPTIONS
	want := []string{"2", "beta", "127.0.0.1:50002", "2", "20", "20", "200", "200", "2000", "go", "1.55.0", "1h28m0s", "2s", "beta.in,", "_INBOX.>"}
	if !equal(row, want) {
		t.Fatalf("beta row %q, want %q", row, want)
	}
}
