package tui

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// tickMsg says a poll is due, for chain gen.
type tickMsg struct{ gen int }

// statsMsg carries one poll's result. at is when it completed (stamped by
// the command, so Update stays free of clocks).
type statsMsg struct {
	gen  int
	at   time.Time
	snap *Snapshot
	err  error
}

// errIncomplete is reported when a Source returns no error and no data.
var errIncomplete = errors.New("incomplete snapshot (no /varz or /connz)")

// fetch polls src off the UI goroutine.
func fetch(src Source, req Request, timeout time.Duration, gen int) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		snap, err := src.Fetch(ctx, req)
		return statsMsg{gen: gen, at: time.Now(), snap: snap, err: err}
	}
}

func tick(d time.Duration, gen int) tea.Cmd {
	return tea.Tick(d, func(time.Time) tea.Msg { return tickMsg{gen: gen} })
}

// Init starts the polling chain with an immediate poll.
func (m Model) Init() tea.Cmd {
	return fetch(m.src, m.request(), m.timeout, m.gen)
}

// restart retires the current polling chain and starts a new one with an
// immediate poll (after a change of interval or sort, or on resume).
func (m Model) restart() (Model, tea.Cmd) {
	m.gen++
	return m, fetch(m.src, m.request(), m.timeout, m.gen)
}

// Update applies one message. It does no I/O.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tickMsg:
		if msg.gen != m.gen || m.paused {
			return m, nil // a retired chain, or paused: the chain ends here
		}
		return m, fetch(m.src, m.request(), m.timeout, m.gen)
	case statsMsg:
		if m.paused {
			return m, nil // the display is frozen; resuming polls afresh
		}
		m = m.applyStats(msg)
		if msg.gen != m.gen {
			return m, nil
		}
		return m, tick(m.interval, m.gen)
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
		return m.followSelection(), nil
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	}
	return m, nil
}

// applyStats folds a poll result into the model: rates against the previous
// snapshot of the same server run, history for the sparklines, error state.
func (m Model) applyStats(msg statsMsg) Model {
	err := msg.err
	if err == nil && (msg.snap == nil || msg.snap.Varz == nil || msg.snap.Connz == nil) {
		err = errIncomplete
	}
	if err != nil {
		if m.failures == 0 {
			m.errSince = msg.at
		}
		m.err = err
		m.failures++
		return m
	}
	m.err, m.failures = nil, 0
	snap := msg.snap
	last := m.last
	if last != nil && !sameServerRun(last.Varz, snap.Varz) {
		last = nil // restarted or another server: no rates across the gap
	}
	if last != nil && !snap.Varz.Now.After(last.Varz.Now) {
		return m // an older poll overtaken by a newer one
	}
	if last != nil {
		m.rates = ComputeRates(last.Varz, snap.Varz)
		m.connRates = ComputeConnRates(last.Connz, snap.Connz)
		m.subjects = ComputeSubjectRates(last.Subjz, snap.Subjz)
		m.inHist = appendCapped(m.inHist, m.rates.InMsgs)
		m.outHist = appendCapped(m.outHist, m.rates.OutMsgs)
	} else {
		m.rates, m.connRates = Rates{}, nil
		m.subjects = ComputeSubjectRates(nil, snap.Subjz)
	}
	if snap.Jsz != nil {
		prevJsz := m.jszAt
		if last == nil {
			prevJsz = nil
		}
		m.streams, m.jszAt = ComputeStreamRates(prevJsz, snap.Jsz), snap.Jsz
	}
	m.prev, m.last = last, snap
	m.polls++
	return m.followSelection()
}

func appendCapped(h []float64, v float64) []float64 {
	h = append(h, v)
	if len(h) > historyLen {
		h = append(h[:0:0], h[len(h)-historyLen:]...)
	}
	return h
}

// followSelection keeps the selected connection selected after the rows
// changed (new data, sort, filter, resize): by cid when it is still there,
// else the row at its old position; and scrolls it into view.
func (m Model) followSelection() Model {
	rows := m.rows()
	if len(rows) == 0 {
		m.conn.selected, m.conn.idx, m.conn.offset = 0, 0, 0
		return m
	}
	idx := -1
	for i, r := range rows {
		if r.c.Cid == m.conn.selected {
			idx = i
			break
		}
	}
	if idx < 0 {
		idx = min(m.conn.idx, len(rows)-1)
	}
	return m.selectRow(rows, idx)
}

// selectRow selects rows[idx] (clamped) and scrolls so it is visible.
func (m Model) selectRow(rows []connRow, idx int) Model {
	idx = min(max(idx, 0), len(rows)-1)
	m.conn.idx, m.conn.selected = idx, rows[idx].c.Cid
	n := m.layout().tableRows
	if idx < m.conn.offset {
		m.conn.offset = idx
	}
	if idx >= m.conn.offset+n {
		m.conn.offset = idx - n + 1
	}
	m.conn.offset = min(m.conn.offset, max(len(rows)-n, 0))
	return m
}

func (m Model) handleKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := m.keys
	if m.filtering {
		return m.editFilter(msg)
	}
	if m.showHelp {
		if key.Matches(msg, k.Quit) {
			return m, tea.Quit
		}
		m.showHelp = false // any other key returns
		return m, nil
	}
	switch {
	case key.Matches(msg, k.Quit):
		return m, tea.Quit
	case key.Matches(msg, k.Help):
		m.showHelp = true
	case key.Matches(msg, k.Pause):
		m.paused = !m.paused
		if !m.paused {
			return m.restart()
		}
	case key.Matches(msg, k.NextTab):
		return m.showTab((m.tab + 1) % numTabs)
	case key.Matches(msg, k.PrevTab):
		return m.showTab((m.tab + numTabs - 1) % numTabs)
	case key.Matches(msg, k.Conns):
		return m.showTab(tabConns)
	case key.Matches(msg, k.Subject):
		return m.showTab(tabSubjects)
	case key.Matches(msg, k.Streams):
		return m.showTab(tabStreams)
	case key.Matches(msg, k.Slower):
		return m.stepInterval(+1)
	case key.Matches(msg, k.Faster):
		return m.stepInterval(-1)
	case key.Matches(msg, k.Filter):
		m.filtering = true
	case key.Matches(msg, k.Back):
		if m.conn.detail {
			m.conn.detail = false
		} else {
			m.filter = ""
		}
		return m.followSelection(), nil
	default:
		switch m.tab {
		case tabConns:
			return m.connKey(msg)
		case tabStreams:
			return m.streamKey(msg), nil
		}
		return m.subjKey(msg), nil
	}
	return m, nil
}

// showTab switches tabs; opening the streams tab polls at once, since
// /jsz is only asked for while it is shown.
func (m Model) showTab(t tabID) (tea.Model, tea.Cmd) {
	was := m.tab
	m.tab = t
	if t == tabStreams && was != tabStreams && !m.paused {
		return m.restart()
	}
	return m, nil
}

// stepInterval moves the poll interval one step and polls at once.
func (m Model) stepInterval(dir int) (tea.Model, tea.Cmd) {
	i := 0
	for i < len(intervals)-1 && intervals[i] < m.interval {
		i++
	}
	i = min(max(i+dir, 0), len(intervals)-1)
	if intervals[i] == m.interval {
		return m, nil
	}
	m.interval = intervals[i]
	if m.paused {
		return m, nil
	}
	return m.restart()
}

func (m Model) connKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := m.keys
	rows := m.rows()
	page := max(m.layout().tableRows-1, 1)
	switch {
	case key.Matches(msg, k.SortLeft), key.Matches(msg, k.SortRight):
		d := 1
		if key.Matches(msg, k.SortLeft) {
			d = len(connColumns) - 1
		}
		m.conn.sortCol = (m.conn.sortCol + d) % len(connColumns)
		col := connColumns[m.conn.sortCol]
		m.conn.desc = col.desc
		m = m.followSelection()
		if col.server != "" && col.server != m.conn.serverKey && !m.paused {
			// Ask the server to sort too, so a limited page holds the top
			// connections by this column.
			m.conn.serverKey = col.server
			return m.restart()
		}
		return m, nil
	case key.Matches(msg, k.Reverse):
		m.conn.desc = !m.conn.desc
		return m.followSelection(), nil
	case key.Matches(msg, k.Detail):
		m.conn.detail = !m.conn.detail
		return m.followSelection(), nil
	}
	if len(rows) == 0 {
		return m, nil
	}
	idx := m.cursor(rows)
	switch {
	case key.Matches(msg, k.Up):
		idx--
	case key.Matches(msg, k.Down):
		idx++
	case key.Matches(msg, k.PageUp):
		idx -= page
	case key.Matches(msg, k.PageDown):
		idx += page
	case key.Matches(msg, k.Top):
		idx = 0
	case key.Matches(msg, k.Bottom):
		idx = len(rows) - 1
	default:
		return m, nil
	}
	return m.selectRow(rows, idx), nil
}

func (m Model) subjKey(msg tea.KeyPressMsg) Model {
	m.subj.offset = m.scroll(msg, m.subj.offset, len(m.visibleSubjects()))
	return m
}

// scroll moves a list's first visible line by a key press, within a list
// of n lines shown tableRows at a time.
func (m Model) scroll(msg tea.KeyPressMsg, off, n int) int {
	k := m.keys
	rows := m.layout().tableRows
	page := max(rows-1, 1)
	switch {
	case key.Matches(msg, k.Up):
		off--
	case key.Matches(msg, k.Down):
		off++
	case key.Matches(msg, k.PageUp):
		off -= page
	case key.Matches(msg, k.PageDown):
		off += page
	case key.Matches(msg, k.Top):
		off = 0
	case key.Matches(msg, k.Bottom):
		off = n
	}
	return min(max(off, 0), max(n-rows, 0))
}

// editFilter handles keys while the filter is being typed.
func (m Model) editFilter(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch msg.String() {
	case "ctrl+c":
		return m, tea.Quit
	case "enter":
		m.filtering = false
	case "esc":
		m.filtering, m.filter = false, ""
	case "backspace":
		if m.filter != "" {
			_, n := utf8.DecodeLastRuneInString(m.filter)
			m.filter = m.filter[:len(m.filter)-n]
		}
	default:
		m.filter += msg.Text // printable keys carry text; others none
	}
	m.subj.offset, m.strm.offset = 0, 0
	return m.followSelection(), nil
}
