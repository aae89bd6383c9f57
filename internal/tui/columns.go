package tui

import (
	"cmp"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/natsctl/natsctl/internal/monitorapi"
)

// connRow is one connection with its rates, as the table shows it.
type connRow struct {
	c *monitorapi.ConnInfo
	r Rates
}

// column describes one column of the connection table.
type column struct {
	title string
	width int  // fixed width; cells are truncated to it
	right bool // numbers are right-aligned
	// prio decides which columns survive a narrow terminal: all columns with
	// prio <= p for the largest p that fits.
	prio int
	// server is the /connz sort key for this column, when the server can
	// sort by it (so a limited page holds the top rows); "" sorts locally.
	server monitorapi.SortOpt
	// desc is the column's natural direction (largest first).
	desc bool
	cell func(r connRow) string
	cmp  func(a, b connRow) int // ascending
}

func hostPort(c *monitorapi.ConnInfo) string {
	return net.JoinHostPort(c.IP, strconv.Itoa(c.Port))
}

func langVersion(c *monitorapi.ConnInfo) string {
	if c.Lang == "" && c.Version == "" {
		return ""
	}
	return c.Lang + "/" + c.Version
}

// rttOf parses ConnInfo.RTT (time.Duration.String) for sorting; unknown is 0.
func rttOf(c *monitorapi.ConnInfo) time.Duration {
	d, _ := time.ParseDuration(c.RTT)
	return d
}

// connColumns is the table layout, left to right. nats-top's columns plus
// per-connection rates (per second, not per poll), rtt and idle time.
var connColumns = []column{
	{title: "CID", width: 6, right: true, prio: 0, server: monitorapi.ByCid,
		cell: func(r connRow) string { return strconv.FormatUint(r.c.Cid, 10) },
		cmp:  func(a, b connRow) int { return cmp.Compare(a.c.Cid, b.c.Cid) }},
	{title: "NAME", width: 16, prio: 1,
		cell: func(r connRow) string { return r.c.Name },
		cmp:  func(a, b connRow) int { return strings.Compare(a.c.Name, b.c.Name) }},
	{title: "HOST", width: 21, prio: 0,
		cell: func(r connRow) string { return hostPort(r.c) },
		cmp: func(a, b connRow) int {
			return cmp.Or(strings.Compare(a.c.IP, b.c.IP), cmp.Compare(a.c.Port, b.c.Port))
		}},
	{title: "SUBS", width: 5, right: true, prio: 2, server: monitorapi.BySubs, desc: true,
		cell: func(r connRow) string { return strconv.FormatUint(uint64(r.c.NumSubs), 10) },
		cmp:  func(a, b connRow) int { return cmp.Compare(a.c.NumSubs, b.c.NumSubs) }},
	{title: "PENDING", width: 8, right: true, prio: 2, server: monitorapi.ByPending, desc: true,
		cell: func(r connRow) string { return formatBytes(float64(r.c.Pending)) },
		cmp:  func(a, b connRow) int { return cmp.Compare(a.c.Pending, b.c.Pending) }},
	{title: "MSGS_TO", width: 8, right: true, prio: 0, server: monitorapi.ByOutMsgs, desc: true,
		cell: func(r connRow) string { return formatCount(float64(r.c.OutMsgs)) },
		cmp:  func(a, b connRow) int { return cmp.Compare(a.c.OutMsgs, b.c.OutMsgs) }},
	{title: "MSGS_FROM", width: 10, right: true, prio: 0, server: monitorapi.ByInMsgs, desc: true,
		cell: func(r connRow) string { return formatCount(float64(r.c.InMsgs)) },
		cmp:  func(a, b connRow) int { return cmp.Compare(a.c.InMsgs, b.c.InMsgs) }},
	{title: "BYTES_TO", width: 9, right: true, prio: 3, server: monitorapi.ByOutBytes, desc: true,
		cell: func(r connRow) string { return formatBytes(float64(r.c.OutBytes)) },
		cmp:  func(a, b connRow) int { return cmp.Compare(a.c.OutBytes, b.c.OutBytes) }},
	{title: "BYTES_FROM", width: 11, right: true, prio: 3, server: monitorapi.ByInBytes, desc: true,
		cell: func(r connRow) string { return formatBytes(float64(r.c.InBytes)) },
		cmp:  func(a, b connRow) int { return cmp.Compare(a.c.InBytes, b.c.InBytes) }},
	{title: "TO/s", width: 7, right: true, prio: 1, desc: true,
		cell: func(r connRow) string { return formatCount(r.r.OutMsgs) },
		cmp:  func(a, b connRow) int { return cmp.Compare(a.r.OutMsgs, b.r.OutMsgs) }},
	{title: "FROM/s", width: 7, right: true, prio: 1, desc: true,
		cell: func(r connRow) string { return formatCount(r.r.InMsgs) },
		cmp:  func(a, b connRow) int { return cmp.Compare(a.r.InMsgs, b.r.InMsgs) }},
	{title: "BTO/s", width: 7, right: true, prio: 4, desc: true,
		cell: func(r connRow) string { return formatBytes(r.r.OutBytes) },
		cmp:  func(a, b connRow) int { return cmp.Compare(a.r.OutBytes, b.r.OutBytes) }},
	{title: "BFROM/s", width: 8, right: true, prio: 4, desc: true,
		cell: func(r connRow) string { return formatBytes(r.r.InBytes) },
		cmp:  func(a, b connRow) int { return cmp.Compare(a.r.InBytes, b.r.InBytes) }},
	{title: "LANG/VER", width: 12, prio: 3,
		cell: func(r connRow) string { return langVersion(r.c) },
		cmp:  func(a, b connRow) int { return strings.Compare(langVersion(a.c), langVersion(b.c)) }},
	{title: "RTT", width: 8, right: true, prio: 5, server: monitorapi.ByRTT, desc: true,
		cell: func(r connRow) string { return r.c.RTT },
		cmp:  func(a, b connRow) int { return cmp.Compare(rttOf(a.c), rttOf(b.c)) }},
	{title: "UPTIME", width: 10, right: true, prio: 2, server: monitorapi.ByUptime,
		cell: func(r connRow) string { return r.c.Uptime },
		// longer uptime = earlier start; ascending uptime = latest start first
		cmp: func(a, b connRow) int { return b.c.Start.Compare(a.c.Start) }},
	{title: "IDLE", width: 8, right: true, prio: 1, server: monitorapi.ByIdle, desc: true,
		cell: func(r connRow) string { return r.c.Idle },
		cmp:  func(a, b connRow) int { return b.c.LastActivity.Compare(a.c.LastActivity) }},
}

// columnForSort maps a /connz sort key to a column index. Keys without a
// column of their own map to the closest one (start: CID; last: IDLE,
// reversed by the caller through lastActivityFirst).
func columnForSort(s monitorapi.SortOpt) int {
	switch s {
	case monitorapi.ByStart:
		s = monitorapi.ByCid
	case monitorapi.ByLast:
		s = monitorapi.ByIdle
	}
	for i, c := range connColumns {
		if c.server != "" && c.server == s {
			return i
		}
	}
	return 0
}

// sortRows orders rows by column col, descending when desc, ties by cid.
func sortRows(rows []connRow, col int, desc bool) {
	c := connColumns[col]
	slices.SortStableFunc(rows, func(a, b connRow) int {
		r := c.cmp(a, b)
		if desc {
			r = -r
		}
		return cmp.Or(r, cmp.Compare(a.c.Cid, b.c.Cid))
	})
}

// matchFilter reports whether a connection matches the user's filter: a
// case-insensitive substring of its name or host:port.
func matchFilter(c *monitorapi.ConnInfo, f string) bool {
	if f == "" {
		return true
	}
	f = strings.ToLower(f)
	return strings.Contains(strings.ToLower(c.Name), f) || strings.Contains(hostPort(c), f)
}

// visibleColumns picks the columns that fit in width: the largest priority
// level whose columns (with one space between) fit, at least prio 0.
func visibleColumns(width int) []int {
	best := []int{}
	for p := 0; p <= 5; p++ {
		var idx []int
		w := 0
		for i, c := range connColumns {
			if c.prio <= p {
				idx = append(idx, i)
				w += c.width + 1
			}
		}
		if p > 0 && w-1 > width {
			break
		}
		best = idx
	}
	return best
}
