package tui

import (
	"fmt"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/natsctl/natsctl/internal/monitorapi"
)

// screen is how the terminal's height is shared out.
type screen struct {
	spark      bool // room for the two sparkline rows
	tableRows  int  // rows of the current tab's table body
	detailRows int  // rows of the connection detail pane, 0 when closed
}

// Fixed rows: title, load, in, out, status, tabs, table header, footer.
const fixedRows = 8

func (m Model) layout() screen {
	var s screen
	avail := m.height - fixedRows
	if avail >= 12 {
		s.spark = true
		avail -= 2
	}
	if m.conn.detail && m.tab == tabConns {
		s.detailRows = min(max(avail/2, 3), 10)
		avail -= s.detailRows
	}
	s.tableRows = max(avail, 1)
	return s
}

// View renders the model. It is a pure function of m.
func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "natsctl top"
	return v
}

// render builds the screen text, at most m.height lines of at most m.width
// cells.
func (m Model) render() string {
	lay := m.layout()
	var lines []string
	lines = append(lines, m.headerLines(lay)...)
	lines = append(lines, m.statusLine())
	switch {
	case m.showHelp:
		lines = append(lines, m.helpLines()...)
	case m.tab == tabConns:
		lines = append(lines, m.tabLine())
		lines = append(lines, m.connLines(lay)...)
	case m.tab == tabSubjects:
		lines = append(lines, m.tabLine())
		lines = append(lines, m.subjectLines(lay)...)
	case m.tab == tabStreams:
		lines = append(lines, m.tabLine())
		lines = append(lines, m.streamTabLines(lay)...)
	}
	body := lines
	if len(body) > m.height-1 {
		body = body[:max(m.height-1, 0)]
	}
	for len(body) < m.height-1 {
		body = append(body, "")
	}
	body = append(body, m.footer())
	for i, l := range body {
		body[i] = ansi.Truncate(l, m.width, "…")
	}
	return strings.Join(body, "\n")
}

func (m Model) headerLines(lay screen) []string {
	st := m.st
	lbl, val := st.label.Render, st.value.Render
	poll := "every " + m.interval.String()
	if m.paused {
		poll = st.warn.Render("PAUSED") + " (" + poll + ")"
	}
	if m.last == nil {
		lines := []string{st.title.Render("natsctl top") + "  " + m.src.Name() + "  " + poll}
		for len(lines) < m.headerCount(lay) {
			lines = append(lines, "")
		}
		return lines
	}
	v := m.last.Varz
	name := v.Name
	if name == "" {
		name = v.ID
	}
	r := m.rates
	lines := []string{
		st.title.Render("Server "+name) + "  " + lbl("version ") + v.Version + "  " + lbl("uptime ") + v.Uptime +
			"  " + m.src.Name() + "  " + poll,
		lbl("CPU ") + val(strconv.FormatFloat(v.CPU, 'f', 1, 64)+"%") +
			"  " + lbl("Memory ") + val(formatBytes(float64(v.Mem))) +
			"  " + lbl("Connections ") + val(strconv.Itoa(v.Connections)) +
			"  " + lbl("Subscriptions ") + val(strconv.FormatUint(uint64(v.Subscriptions), 10)) +
			"  " + lbl("Slow consumers ") + val(strconv.FormatInt(v.SlowConsumers, 10)),
		m.flowLine("In ", v.InMsgs, v.InBytes, r.InMsgs, r.InBytes),
		m.flowLine("Out", v.OutMsgs, v.OutBytes, r.OutMsgs, r.OutBytes),
	}
	if lay.spark {
		w := max(m.width-24, 8)
		lines = append(lines,
			lbl("In  msgs/s ")+st.sparkIn.Render(sparkline(m.inHist, w))+lbl(" peak ")+formatCount(peak(m.inHist, w)),
			lbl("Out msgs/s ")+st.sparkOut.Render(sparkline(m.outHist, w))+lbl(" peak ")+formatCount(peak(m.outHist, w)))
	}
	return lines
}

// flowLine is one direction's totals and rates; values are padded before
// styling so columns line up whatever the colour profile.
func (m Model) flowLine(dir string, msgs, bytes int64, msgRate, byteRate float64) string {
	lbl := m.st.label.Render
	val := func(s string) string { return m.st.value.Render(cell(s, 7, false)) }
	return lbl(dir) + "  " + lbl("msgs ") + val(formatCount(float64(msgs))) + " " + lbl("bytes ") + val(formatBytes(float64(bytes))) +
		" " + lbl("msgs/s ") + val(formatCount(msgRate)) + " " + lbl("bytes/s ") + val(formatBytes(byteRate))
}

func (m Model) headerCount(lay screen) int {
	if lay.spark {
		return 6
	}
	return 4
}

func peak(h []float64, w int) float64 {
	if len(h) > w {
		h = h[len(h)-w:]
	}
	p := 0.0
	for _, v := range h {
		p = max(p, v)
	}
	return p
}

// statusLine shows why the data is missing or stale, or stays blank.
func (m Model) statusLine() string {
	switch {
	case m.err != nil:
		what := "showing the last data"
		if m.last == nil {
			what = "no data yet"
		}
		// Most important first: the line is cut at the terminal's width.
		return m.st.err.Render(fmt.Sprintf("! cannot reach %s since %s", m.src.Name(), m.errSince.Format("15:04:05"))) +
			fmt.Sprintf(" (%d failed polls, retrying every %s; %s): %v", m.failures, m.interval, what, m.err)
	case m.last == nil:
		return m.st.faint.Render("connecting to " + m.src.Name() + " …")
	}
	return ""
}

func (m Model) tabLine() string {
	var parts []string
	for t := tabID(0); t < numTabs; t++ {
		label := fmt.Sprintf("%d %s", t+1, tabTitles[t])
		if t == m.tab {
			parts = append(parts, m.st.tabActive.Render("["+label+"]"))
		} else {
			parts = append(parts, m.st.tabIdle.Render(" "+label+" "))
		}
	}
	s := strings.Join(parts, " ")
	if m.tab == tabConns {
		title, desc := m.SortColumn()
		s += "   sort " + title + " " + arrow(desc)
		if m.last != nil {
			cz := m.last.Connz
			s += fmt.Sprintf("   %d of %d shown (server total %d)", len(m.rows()), len(cz.Conns), cz.Total)
		}
	}
	if m.filter != "" || m.filtering {
		s += "   filter: " + m.filter
	}
	return s
}

func arrow(desc bool) string {
	if desc {
		return "▼"
	}
	return "▲"
}

// cell fits s into exactly w cells, truncated with … or padded.
func cell(s string, w int, right bool) string {
	if ansi.StringWidth(s) > w {
		return ansi.Truncate(s, w, "…")
	}
	pad := strings.Repeat(" ", w-ansi.StringWidth(s))
	if right {
		return pad + s
	}
	return s + pad
}

func (m Model) connLines(lay screen) []string {
	cols := visibleColumns(m.width - 1)
	var hdr strings.Builder
	hdr.WriteString(" ")
	for i, ci := range cols {
		c := connColumns[ci]
		t := c.title
		if ci == m.conn.sortCol {
			t += arrow(m.conn.desc)
		}
		if i > 0 {
			hdr.WriteString(" ")
		}
		hdr.WriteString(cell(t, c.width, c.right))
	}
	lines := []string{m.st.header.Render(cell(hdr.String(), m.width, false))}
	rows := m.rows()
	switch {
	case m.last == nil:
		lines = append(lines, "")
	case len(rows) == 0 && m.filter != "":
		lines = append(lines, m.st.faint.Render(" no connection matches the filter "+strconv.Quote(m.filter)))
	case len(rows) == 0:
		lines = append(lines, m.st.faint.Render(" no client connections"))
	}
	end := min(m.conn.offset+lay.tableRows, len(rows))
	for i := m.conn.offset; i < end; i++ {
		var b strings.Builder
		sel := rows[i].c.Cid == m.conn.selected
		if sel {
			b.WriteString(">")
		} else {
			b.WriteString(" ")
		}
		for j, ci := range cols {
			c := connColumns[ci]
			if j > 0 {
				b.WriteString(" ")
			}
			b.WriteString(cell(c.cell(rows[i]), c.width, c.right))
		}
		line := b.String()
		if sel {
			line = m.st.selected.Render(line)
		}
		lines = append(lines, line)
	}
	for len(lines) < lay.tableRows+1 {
		lines = append(lines, "")
	}
	if lay.detailRows > 0 {
		lines = append(lines, m.detailLines(rows, lay.detailRows)...)
	}
	return lines
}

// detailLines describes the selected connection in n lines.
func (m Model) detailLines(rows []connRow, n int) []string {
	rule := func(title string) string {
		return m.st.label.Render("── " + title + " " + strings.Repeat("─", max(m.width-len(title)-4, 0)))
	}
	if len(rows) == 0 {
		return append([]string{rule("no connection selected")}, make([]string, n-1)...)
	}
	r := rows[min(m.cursor(rows), len(rows)-1)]
	c := r.c
	title := fmt.Sprintf("connection %d", c.Cid)
	if c.Name != "" {
		title += " " + strconv.Quote(c.Name)
	}
	rtt := c.RTT
	if rtt == "" {
		rtt = "n/a"
	}
	lines := []string{
		rule(title),
		fmt.Sprintf("host %s  lang %s  rtt %s  uptime %s  idle %s  pending %s  account %s",
			hostPort(c), orDash(langVersion(c)), rtt, c.Uptime, c.Idle, formatBytes(float64(c.Pending)), orDash(c.Account)),
		fmt.Sprintf("from client %s msgs %s (%s/s)   to client %s msgs %s (%s/s)",
			formatCount(float64(c.InMsgs)), formatBytes(float64(c.InBytes)), formatCount(r.r.InMsgs),
			formatCount(float64(c.OutMsgs)), formatBytes(float64(c.OutBytes)), formatCount(r.r.OutMsgs)),
	}
	if c.Reason != "" {
		l := "closed: " + c.Reason
		if sc := c.SlowConsumer; sc != nil {
			l += fmt.Sprintf(" — subscription %s (sid %s) held %s in %d msgs", sc.Subject, sc.Sid, formatBytes(float64(sc.PendingBytes)), sc.PendingMsgs)
		}
		lines = append(lines, m.st.warn.Render(l))
	}
	lines = append(lines, fmt.Sprintf("subscriptions (%d):", c.NumSubs))
	for _, s := range subsOf(c) {
		lines = append(lines, "  "+s)
	}
	if len(lines) > n {
		more := len(lines) - n + 1
		lines = append(lines[:n-1], m.st.faint.Render(fmt.Sprintf("  … %d more", more)))
	}
	for len(lines) < n {
		lines = append(lines, "")
	}
	return lines
}

func subsOf(c *monitorapi.ConnInfo) []string {
	if len(c.SubsDetail) > 0 {
		out := make([]string, len(c.SubsDetail))
		for i, d := range c.SubsDetail {
			s := d.Subject
			if d.Queue != "" {
				s += " [" + d.Queue + "]"
			}
			out[i] = fmt.Sprintf("%s  sid %s  %s msgs", s, d.Sid, formatCount(float64(d.Msgs)))
		}
		return out
	}
	return c.Subs
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// visibleSubjects returns the subject rows after the filter.
func (m Model) visibleSubjects() []SubjectRate {
	if m.filter == "" {
		return m.subjects
	}
	f := strings.ToLower(m.filter)
	var out []SubjectRate
	for _, s := range m.subjects {
		if strings.Contains(strings.ToLower(s.Subject), f) {
			out = append(out, s)
		}
	}
	return out
}

func (m Model) subjectLines(lay screen) []string {
	const numW = 9
	subjW := max(m.width-1-4*(numW+1), 10)
	hdr := " " + cell("SUBJECT", subjW, false) + " " + cell("MSGS/s▼", numW, true) + " " +
		cell("BYTES/s", numW, true) + " " + cell("MSGS", numW, true) + " " + cell("BYTES", numW, true)
	lines := []string{m.st.header.Render(cell(hdr, m.width, false))}
	switch {
	case m.last == nil:
	case m.last.Subjz == nil:
		why := m.last.SubjzErr
		if why == "" || why == ErrNoSubjz.Error() {
			why = "per-subject statistics are not available on this server (nats-server has no /subjz; natsctl serve provides it)"
		}
		lines = append(lines, " "+m.st.warn.Render(why))
	case len(m.subjects) == 0:
		lines = append(lines, m.st.faint.Render(" no messages published yet"))
	}
	subs := m.visibleSubjects()
	end := min(m.subj.offset+lay.tableRows, len(subs))
	for i := m.subj.offset; i < end; i++ {
		s := subs[i]
		lines = append(lines, " "+cell(s.Subject, subjW, false)+" "+cell(formatCount(s.MsgRate), numW, true)+" "+
			cell(formatBytes(s.ByteRate), numW, true)+" "+cell(formatCount(float64(s.Msgs)), numW, true)+" "+
			cell(formatBytes(float64(s.Bytes)), numW, true))
	}
	return lines
}

func (m Model) helpLines() []string {
	lines := []string{m.st.title.Render("Keys") + m.st.faint.Render("  (any key returns)"), ""}
	lines = append(lines, strings.Split(m.help.FullHelpView(m.keys.FullHelp()), "\n")...)
	lines = append(lines, "",
		"Sorting by CID, SUBS, PENDING, MSGS_*, BYTES_*, RTT, UPTIME or IDLE also asks the",
		"server to sort, so with --limit the page holds the top connections by that column.",
		"Rates are per second between two polls, from the server's own clock.")
	return lines
}

func (m Model) footer() string {
	if m.filtering {
		return "filter: " + m.filter + "█  " + m.st.faint.Render("enter apply • esc clear")
	}
	return m.help.ShortHelpView(m.keys.ShortHelp())
}
