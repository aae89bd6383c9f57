package tui

import (
	"time"

	"charm.land/bubbles/v2/help"

	"github.com/natsctl/natsctl/internal/monitorapi"
)

// Defaults for Options left zero.
const (
	DefaultInterval = time.Second
	DefaultLimit    = monitorapi.DefaultConnListSize
	// historyLen is how many rate samples the sparklines keep: ten minutes
	// at the default interval, more than any terminal is wide.
	historyLen = 600
)

// intervals are the steps +/- move through.
var intervals = []time.Duration{
	250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second,
	5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute,
}

// Options configure a Model.
type Options struct {
	Source   Source             // required
	Interval time.Duration      // poll period; DefaultInterval when 0
	Timeout  time.Duration      // per poll; the interval (at least 1 s, at most 5 s) when 0
	Sort     monitorapi.SortOpt // initial sort; cid when ""
	Limit    int                // connections per poll; DefaultLimit when <= 0
}

type tabID int

// Tabs, in display order. Routes come later: a value here, a title in
// tabTitles, a render function in view.go.
const (
	tabConns tabID = iota
	tabSubjects
	tabStreams
	numTabs
)

var tabTitles = [numTabs]string{tabConns: "Connections", tabSubjects: "Subjects", tabStreams: "Streams"}

// Model is the state of the top view. It is a value: Update returns a new
// one, so tests can keep and compare snapshots of it.
type Model struct {
	src      Source
	interval time.Duration
	timeout  time.Duration
	limit    int
	// gen numbers the current polling chain; messages of an older chain
	// still deliver their data but do not schedule further polls.
	gen    int
	paused bool

	width, height int

	// Data: the last two snapshots and what is derived from them.
	last, prev *Snapshot
	rates      Rates
	connRates  map[uint64]Rates
	subjects   []SubjectRate
	streams    []StreamRate
	// jszAt is the /jsz document the stream rates were computed from (the
	// snapshots without /jsz, polled while the tab was hidden, skip it).
	jszAt   *JSStreams
	inHist  []float64 // in msgs/s per poll, oldest first
	outHist []float64
	polls   int // successful polls

	// Errors: the last poll's error and when failures began.
	err      error
	errSince time.Time
	failures int

	tab  tabID
	conn connView
	subj struct{ offset int }
	strm struct{ offset int }
	// filter narrows the connections (name, host) and subjects shown;
	// filtering is true while the user types it after `/`.
	filter    string
	filtering bool

	showHelp bool
	keys     keyMap
	help     help.Model
	st       styles
}

// connView is the state of the connections tab.
type connView struct {
	sortCol   int  // index into connColumns
	desc      bool // sort direction
	serverKey monitorapi.SortOpt
	// selected is the cid of the highlighted row (0: none yet); it follows
	// the connection when rows move.
	selected uint64
	idx      int // the selected row's index, kept for when it disappears
	offset   int // first visible row
	detail   bool
}

// New returns a Model polling opts.Source.
func New(opts Options) Model {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Timeout <= 0 {
		opts.Timeout = min(max(opts.Interval, time.Second), 5*time.Second)
	}
	if opts.Limit <= 0 {
		opts.Limit = DefaultLimit
	}
	if opts.Sort == "" {
		opts.Sort = monitorapi.ByCid
	}
	m := Model{
		src:      opts.Source,
		interval: opts.Interval,
		timeout:  opts.Timeout,
		limit:    opts.Limit,
		keys:     defaultKeys(),
		help:     help.New(),
		st:       defaultStyles(),
		width:    80,
		height:   24,
	}
	m.conn.sortCol = columnForSort(opts.Sort)
	m.conn.desc = opts.Sort.Descending()
	m.conn.serverKey = opts.Sort
	if opts.Sort == monitorapi.ByLast { // most recent activity first = least idle first
		m.conn.desc = false
	}
	return m
}

// request is what the next poll asks for.
func (m Model) request() Request {
	return Request{
		Sort:     m.conn.serverKey,
		Limit:    m.limit,
		Subs:     true,
		Subjects: true,
		// /jsz with consumer details costs the server a walk of every
		// stream: only while the streams tab is shown.
		Streams: m.tab == tabStreams,
	}
}

// Interval returns the current poll period.
func (m Model) Interval() time.Duration { return m.interval }

// Err returns the last poll's error, nil when it succeeded.
func (m Model) Err() error { return m.err }

// Rates returns the server-wide rates of the last interval.
func (m Model) Rates() Rates { return m.rates }

// SortColumn returns the title of the sort column and whether it is
// descending.
func (m Model) SortColumn() (string, bool) { return connColumns[m.conn.sortCol].title, m.conn.desc }

// rows returns the connections to show: filtered and sorted.
func (m Model) rows() []connRow {
	if m.last == nil || m.last.Connz == nil {
		return nil
	}
	rows := make([]connRow, 0, len(m.last.Connz.Conns))
	for _, c := range m.last.Connz.Conns {
		if c == nil || !matchFilter(c, m.filter) {
			continue
		}
		rows = append(rows, connRow{c: c, r: m.connRates[c.Cid]})
	}
	sortRows(rows, m.conn.sortCol, m.conn.desc)
	return rows
}

// cursor returns the index of the selected row in rows (0 when the
// selected connection is gone).
func (m Model) cursor(rows []connRow) int {
	for i, r := range rows {
		if r.c.Cid == m.conn.selected {
			return i
		}
	}
	return 0
}
