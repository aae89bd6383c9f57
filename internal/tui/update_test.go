package tui

import (
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/natsctl/natsctl/internal/monitorapi"
)

func press(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

// step sends msgs in order and returns the model and the last command.
func step(t *testing.T, m Model, msgs ...tea.Msg) (Model, tea.Cmd) {
	t.Helper()
	var cmd tea.Cmd
	for _, msg := range msgs {
		var tm tea.Model
		tm, cmd = m.Update(msg)
		m = tm.(Model)
	}
	return m, cmd
}

func newTestModel(src Source, w, h int) Model {
	m := New(Options{Source: src})
	tm, _ := m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return tm.(Model)
}

func ok(gen, sec int, k int64, subjz bool) statsMsg {
	return statsMsg{gen: gen, at: t0.Add(time.Duration(sec) * time.Second), snap: snap(sec, k, subjz)}
}

func cids(m Model) []uint64 {
	var out []uint64
	for _, r := range m.rows() {
		out = append(out, r.c.Cid)
	}
	return out
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestUpdate_RatesFromSuccessivePolls(t *testing.T) {
	m := newTestModel(&fakeSource{}, 120, 30)
	m, cmd := step(t, m, ok(0, 0, 1, true))
	if m.rates != (Rates{}) || len(m.inHist) != 0 {
		t.Fatalf("first poll: rates %+v, history %v", m.rates, m.inHist)
	}
	if cmd == nil {
		t.Fatal("no tick scheduled after a poll")
	}
	m, _ = step(t, m, ok(0, 2, 3, true)) // counters x3 over 2 s
	want := Rates{InMsgs: 6000, OutMsgs: 5000, InBytes: 60000, OutBytes: 50000}
	if m.rates != want {
		t.Fatalf("rates %+v, want %+v", m.rates, want)
	}
	if !equal(m.inHist, []float64{6000}) || !equal(m.outHist, []float64{5000}) {
		t.Fatalf("history in %v out %v", m.inHist, m.outHist)
	}
	if r := m.connRates[1]; r.InMsgs != 100 {
		t.Fatalf("cid 1 rates %+v", r)
	}
	if len(m.subjects) != 3 || m.subjects[0].Subject != "orders.new" || m.subjects[0].MsgRate != 300 {
		t.Fatalf("subjects %+v", m.subjects)
	}
	// An older poll that arrives late changes nothing.
	late, _ := step(t, m, ok(0, 1, 2, true))
	if late.rates != want || late.last.Varz.Now != m.last.Varz.Now {
		t.Fatalf("a late poll was applied: %+v", late.rates)
	}
}

func TestUpdate_GenerationRetiresOldChains(t *testing.T) {
	src := &fakeSource{snaps: []*Snapshot{snap(0, 1, false)}}
	m := newTestModel(src, 120, 30)
	m, cmd := step(t, m, press("+")) // interval change starts chain 1
	if m.gen != 1 || m.interval != 2*time.Second || cmd == nil {
		t.Fatalf("gen %d interval %v cmd %v", m.gen, m.interval, cmd)
	}
	msg := cmd().(statsMsg) // the immediate poll of the new chain
	if msg.gen != 1 || msg.snap == nil {
		t.Fatalf("fetch result %+v", msg)
	}
	if _, cmd := step(t, m, ok(0, 0, 1, false)); cmd != nil {
		t.Fatal("a result of the retired chain scheduled a tick")
	}
	if _, cmd := step(t, m, tickMsg{gen: 0}); cmd != nil {
		t.Fatal("a tick of the retired chain polled")
	}
	if _, cmd := step(t, m, tickMsg{gen: 1}); cmd == nil {
		t.Fatal("a tick of the current chain did not poll")
	}
}

func TestUpdate_Interval(t *testing.T) {
	m := newTestModel(&fakeSource{}, 80, 24)
	for _, tt := range []struct {
		key  string
		want time.Duration
	}{
		{"+", 2 * time.Second}, {"=", 5 * time.Second}, {"-", 2 * time.Second},
		{"-", time.Second}, {"-", 500 * time.Millisecond}, {"-", 250 * time.Millisecond},
		{"-", 250 * time.Millisecond}, // floor
	} {
		m, _ = step(t, m, press(tt.key))
		if m.interval != tt.want {
			t.Fatalf("after %q: interval %v, want %v", tt.key, m.interval, tt.want)
		}
	}
}

func TestUpdate_Sorting(t *testing.T) {
	src := &fakeSource{snaps: []*Snapshot{snap(0, 1, false)}}
	m := newTestModel(src, 200, 30)
	m, _ = step(t, m, ok(0, 0, 1, false))
	tests := []struct {
		keys       []string
		wantCol    string
		wantDesc   bool
		wantCids   []uint64
		wantServer monitorapi.SortOpt // "" = no refetch
	}{
		{nil, "CID", false, []uint64{1, 2, 3}, ""},
		{[]string{"r"}, "CID", true, []uint64{3, 2, 1}, ""},
		{[]string{">"}, "NAME", false, []uint64{1, 2, 3}, ""},
		{[]string{"r"}, "NAME", true, []uint64{3, 2, 1}, ""},
		{[]string{">"}, "HOST", false, []uint64{1, 2, 3}, ""},
		{[]string{">"}, "SUBS", true, []uint64{3, 2, 1}, monitorapi.BySubs},
		{[]string{">", ">"}, "MSGS_TO", true, []uint64{1, 2, 3}, monitorapi.ByOutMsgs},
		{[]string{">"}, "MSGS_FROM", true, []uint64{3, 2, 1}, monitorapi.ByInMsgs},
		{[]string{"<", "<", "<"}, "SUBS", true, []uint64{3, 2, 1}, monitorapi.BySubs},
		{[]string{"<", "<", "<", "<"}, "IDLE", true, []uint64{3, 2, 1}, monitorapi.ByIdle}, // wraps
		{[]string{"<"}, "UPTIME", false, []uint64{3, 2, 1}, monitorapi.ByUptime},           // shortest first
		{[]string{"<"}, "RTT", true, []uint64{3, 2, 1}, monitorapi.ByRTT},
	}
	for _, tt := range tests {
		var cmd tea.Cmd
		for _, k := range tt.keys {
			m, cmd = step(t, m, press(k))
		}
		col, desc := m.SortColumn()
		if col != tt.wantCol || desc != tt.wantDesc || !equal(cids(m), tt.wantCids) {
			t.Fatalf("after %v: sort %s desc=%v rows %v; want %s desc=%v %v", tt.keys, col, desc, cids(m), tt.wantCol, tt.wantDesc, tt.wantCids)
		}
		if tt.wantServer != "" {
			if cmd == nil {
				t.Fatalf("after %v: no refetch for server sort %s", tt.keys, tt.wantServer)
			}
			cmd()
			if got := src.lastReq().Sort; got != tt.wantServer {
				t.Fatalf("after %v: refetched with sort %q, want %q", tt.keys, got, tt.wantServer)
			}
		}
	}
}

func TestUpdate_SelectionFollowsConnection(t *testing.T) {
	m := newTestModel(&fakeSource{}, 200, 30)
	m, _ = step(t, m, ok(0, 0, 1, false), press("down"))
	if m.conn.selected != 2 {
		t.Fatalf("selected %d, want 2", m.conn.selected)
	}
	m, _ = step(t, m, press("r")) // reverse: 3 2 1, still cid 2
	if m.conn.selected != 2 || m.cursor(m.rows()) != 1 {
		t.Fatalf("selected %d at %d", m.conn.selected, m.cursor(m.rows()))
	}
	// cid 2 disappears: the row at its position is selected.
	s := snap(1, 2, false)
	s.Connz.Conns = []*monitorapi.ConnInfo{s.Connz.Conns[0], s.Connz.Conns[2]}
	m, _ = step(t, m, statsMsg{at: t0, snap: s})
	if m.conn.selected != 1 {
		t.Fatalf("after cid 2 left: selected %d, want 1", m.conn.selected)
	}
}

func TestUpdate_FilterAndDetail(t *testing.T) {
	m := newTestModel(&fakeSource{}, 200, 30)
	m, _ = step(t, m, ok(0, 0, 1, false), press("/"), press("B"), press("e"), press("x"), press("backspace"))
	if !m.filtering || m.filter != "Be" || !equal(cids(m), []uint64{2}) {
		t.Fatalf("filtering=%v filter=%q rows %v", m.filtering, m.filter, cids(m))
	}
	m, _ = step(t, m, press("enter"), press("enter")) // apply, then open detail
	if m.filtering || !m.conn.detail || m.conn.selected != 2 {
		t.Fatalf("filtering=%v detail=%v selected=%d", m.filtering, m.conn.detail, m.conn.selected)
	}
	view := ansi.Strip(m.render())
	for _, want := range []string{`connection 2 "beta"`, "beta.in", "_INBOX.>", "rtt 200µs"} {
		if !strings.Contains(view, want) {
			t.Errorf("detail pane lacks %q:\n%s", want, view)
		}
	}
	m, _ = step(t, m, press("esc")) // closes detail
	if m.conn.detail || m.filter != "Be" {
		t.Fatalf("esc: detail=%v filter=%q", m.conn.detail, m.filter)
	}
	m, _ = step(t, m, press("esc")) // clears filter
	if m.filter != "" || len(cids(m)) != 3 {
		t.Fatalf("esc: filter=%q rows %v", m.filter, cids(m))
	}
	m, _ = step(t, m, press("/"), press("5000"[:1]), press("0"), press("0"), press("0"), press("3"))
	if !equal(cids(m), []uint64{3}) { // matches host 127.0.0.1:50003
		t.Fatalf("host filter rows %v", cids(m))
	}
}

func TestUpdate_Resize(t *testing.T) {
	m := newTestModel(&fakeSource{}, 200, 40)
	m, _ = step(t, m, ok(0, 0, 1, false))
	wide := len(visibleColumns(m.width - 1))
	if wide != len(connColumns) {
		t.Fatalf("200 columns show %d of %d columns", wide, len(connColumns))
	}
	m, _ = step(t, m, press("down"), press("down"), tea.WindowSizeMsg{Width: 60, Height: 10})
	if m.width != 60 || m.height != 10 {
		t.Fatalf("size %dx%d", m.width, m.height)
	}
	lay := m.layout()
	if lay.spark || lay.tableRows != 2 {
		t.Fatalf("layout at 60x10: %+v", lay)
	}
	// The selected third row scrolled into the two visible rows.
	if m.conn.offset != 1 {
		t.Fatalf("offset %d, want 1", m.conn.offset)
	}
	lines := strings.Split(ansi.Strip(m.render()), "\n")
	if len(lines) != 10 {
		t.Fatalf("%d lines at height 10", len(lines))
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > 60 {
			t.Fatalf("line %d is %d cells wide: %q", i, w, l)
		}
	}
	if n := len(visibleColumns(59)); n >= wide || n < 4 {
		t.Fatalf("60 columns show %d columns", n)
	}
}

func TestUpdate_ServerDownAndBack(t *testing.T) {
	m := newTestModel(&fakeSource{}, 120, 30)
	m, _ = step(t, m, ok(0, 0, 1, false), ok(0, 1, 2, false))
	down := errors.New("dial tcp 127.0.0.1:8222: connect: connection refused")
	for i := 0; i < 3; i++ {
		var cmd tea.Cmd
		m, cmd = step(t, m, statsMsg{at: t0.Add(time.Duration(2+i) * time.Second), err: down})
		if cmd == nil {
			t.Fatal("no retry scheduled while the server is down")
		}
	}
	if m.err == nil || m.failures != 3 || !m.errSince.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("err %v failures %d since %v", m.err, m.failures, m.errSince)
	}
	if m.last == nil || len(m.rows()) != 3 {
		t.Fatal("the last data was dropped while the server is down")
	}
	view := ansi.Strip(m.render())
	if !strings.Contains(view, "cannot reach http://fake:8222 since 12:00:02 (3 failed polls, retrying every 1s") {
		t.Fatalf("no clear error in view:\n%s", view)
	}
	// Back, same server run: rates across the outage.
	m, _ = step(t, m, ok(0, 5, 6, false))
	if m.err != nil || m.failures != 0 {
		t.Fatalf("err %v failures %d after recovery", m.err, m.failures)
	}
	if m.rates.InMsgs != 6000 { // (6-2)*6000 over 4 s
		t.Fatalf("rates after recovery %+v", m.rates)
	}
	// Back as a restarted server: no rates across the restart.
	s := snap(9, 1, false)
	s.Varz.Start = t0.Add(8 * time.Second)
	m, _ = step(t, m, statsMsg{at: t0, snap: s})
	if m.rates != (Rates{}) || m.connRates != nil || m.prev != nil {
		t.Fatalf("rates across a restart: %+v", m.rates)
	}
}

func TestUpdate_PauseHelpQuit(t *testing.T) {
	src := &fakeSource{snaps: []*Snapshot{snap(0, 1, false)}}
	m := newTestModel(src, 120, 30)
	m, _ = step(t, m, ok(0, 0, 1, false), press("p"))
	if !m.paused {
		t.Fatal("p did not pause")
	}
	if _, cmd := step(t, m, tickMsg{gen: 0}); cmd != nil {
		t.Fatal("polling while paused")
	}
	frozen, cmd := step(t, m, ok(0, 1, 2, false))
	if cmd != nil || frozen.last.Varz.Now != m.last.Varz.Now {
		t.Fatal("data applied while paused")
	}
	if !strings.Contains(ansi.Strip(m.render()), "PAUSED") {
		t.Fatal("view does not say PAUSED")
	}
	m, cmd = step(t, m, press("space"))
	if m.paused || cmd == nil || m.gen != 1 {
		t.Fatalf("space: paused=%v gen=%d cmd=%v", m.paused, m.gen, cmd)
	}
	m, _ = step(t, m, press("?"))
	if !m.showHelp || !strings.Contains(ansi.Strip(m.render()), "reverse sort") {
		t.Fatal("? shows no help")
	}
	m, _ = step(t, m, press("x"))
	if m.showHelp {
		t.Fatal("a key did not leave help")
	}
	for _, k := range []string{"q", "ctrl+c"} {
		_, cmd := step(t, m, press(k))
		if cmd == nil {
			t.Fatalf("%s: no command", k)
		}
		if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Fatalf("%s does not quit", k)
		}
	}
}

func TestUpdate_Tabs(t *testing.T) {
	m := newTestModel(&fakeSource{}, 120, 30)
	m, _ = step(t, m, ok(0, 0, 1, true), press("tab"))
	if m.tab != tabSubjects {
		t.Fatalf("tab %d", m.tab)
	}
	m, _ = step(t, m, press("tab"), press("tab"))
	if m.tab != tabConns {
		t.Fatalf("tab wraps to %d", m.tab)
	}
	m, _ = step(t, m, press("2"))
	if m.tab != tabSubjects || !strings.Contains(ansi.Strip(m.render()), "orders.new") {
		t.Fatal("2 does not show subjects")
	}
}
