package tui

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/natsctl/natsctl/internal/monitorapi"
)

// The cluster view (`natsctl top --server A --server B ...`): every server
// of a cluster at once, one row each, the routes between them with their
// rates, and whether the routes form a full mesh — what nats-top, which
// watches one server, cannot show.

// ServerSnap is one server's part of a ClusterSnapshot.
type ServerSnap struct {
	URL    string             `json:"url"`
	Varz   *monitorapi.Varz   `json:"varz,omitempty"`
	Routez *monitorapi.Routez `json:"routez,omitempty"`
	Err    string             `json:"error,omitempty"`
}

// ClusterSnapshot is one poll of every watched server.
type ClusterSnapshot struct {
	Servers []ServerSnap `json:"servers"`
}

// ClusterSource polls several monitoring endpoints.
type ClusterSource interface {
	FetchCluster(ctx context.Context) *ClusterSnapshot
}

// MultiSource polls HTTP monitoring endpoints in parallel.
type MultiSource []*HTTPSource

// FetchCluster gets /varz and /routez of every server; a server that does
// not answer has Err set (it is shown as down, the others still are).
func (ms MultiSource) FetchCluster(ctx context.Context) *ClusterSnapshot {
	snap := &ClusterSnapshot{Servers: make([]ServerSnap, len(ms))}
	var wg sync.WaitGroup
	for i, s := range ms {
		wg.Go(func() {
			ss := ServerSnap{URL: s.Name(), Varz: &monitorapi.Varz{}, Routez: &monitorapi.Routez{}}
			if err := s.get(ctx, monitorapi.VarzPath, nil, ss.Varz); err != nil {
				ss.Varz, ss.Routez, ss.Err = nil, nil, err.Error()
			} else if err := s.get(ctx, monitorapi.RoutezPath, nil, ss.Routez); err != nil {
				ss.Routez, ss.Err = nil, err.Error()
			}
			snap.Servers[i] = ss
		})
	}
	wg.Wait()
	return snap
}

// ServerRow is one line of the server table.
type ServerRow struct {
	URL, Name, Cluster string
	Up                 bool
	Conns, Routes      int
	Rates              Rates
	SlowConsumers      int64
	Err                string
}

// RouteRow is the routes from one server to another (nats-server pools
// several connections per peer: they are summed into one row).
type RouteRow struct {
	Conns           int
	From, To        string // server names
	InRate, OutRate float64
	Pending         int
	RTT             string
	InMsgs, OutMsgs int64
}

// ClusterView is what the cluster table shows, derived from two snapshots.
type ClusterView struct {
	Servers []ServerRow
	Routes  []RouteRow
	// Missing lists pairs of watched, running servers with no route
	// between them ("A - B"); empty means a full mesh.
	Missing []string
}

// ComputeClusterView is a pure function of the previous and the current
// snapshot (rates use each server's clock, as the single-server view).
func ComputeClusterView(prev, cur *ClusterSnapshot) ClusterView {
	var v ClusterView
	prevBy := map[string]ServerSnap{}
	if prev != nil {
		for _, s := range prev.Servers {
			prevBy[s.URL] = s
		}
	}
	names := map[string]string{} // server ID -> name
	for _, s := range cur.Servers {
		if s.Varz != nil {
			names[s.Varz.ID] = orID(s.Varz.Name, s.Varz.ID)
		}
	}
	var up []*monitorapi.Varz
	linked := map[[2]string]bool{}
	for _, s := range cur.Servers {
		row := ServerRow{URL: s.URL, Err: s.Err}
		if s.Varz != nil {
			z := s.Varz
			row.Up, row.Name, row.Cluster = true, orID(z.Name, z.ID), z.Cluster.Name
			row.Conns, row.Routes, row.SlowConsumers = z.Connections, z.Routes, z.SlowConsumers
			row.Rates = ComputeRates(prevBy[s.URL].Varz, z)
			up = append(up, z)
		}
		v.Servers = append(v.Servers, row)
		if s.Routez == nil || s.Varz == nil {
			continue
		}
		prevRoutes := map[uint64]*monitorapi.RouteInfo{}
		if p := prevBy[s.URL].Routez; p != nil && prevBy[s.URL].Varz != nil && sameServerRun(prevBy[s.URL].Varz, s.Varz) {
			for _, r := range p.Routes {
				prevRoutes[r.Rid] = r
			}
		}
		var dt time.Duration
		if p := prevBy[s.URL].Routez; p != nil {
			dt = s.Routez.Now.Sub(p.Now)
		}
		byPeer := map[string]int{} // remote ID -> index in v.Routes
		for _, r := range s.Routez.Routes {
			i, ok := byPeer[r.RemoteID]
			if !ok {
				to := r.RemoteName
				if to == "" {
					to = orID(names[r.RemoteID], r.RemoteID)
				}
				i = len(v.Routes)
				byPeer[r.RemoteID] = i
				v.Routes = append(v.Routes, RouteRow{From: row.Name, To: to, RTT: r.RTT})
			}
			rr := &v.Routes[i]
			rr.Conns++
			rr.Pending += r.Pending
			rr.InMsgs += r.InMsgs
			rr.OutMsgs += r.OutMsgs
			if p := prevRoutes[r.Rid]; p != nil {
				rr.InRate += rate(p.InMsgs, r.InMsgs, dt)
				rr.OutRate += rate(p.OutMsgs, r.OutMsgs, dt)
			}
			linked[[2]string{s.Varz.ID, r.RemoteID}] = true
		}
	}
	for i, a := range up {
		for _, b := range up[i+1:] {
			if !linked[[2]string{a.ID, b.ID}] && !linked[[2]string{b.ID, a.ID}] {
				v.Missing = append(v.Missing, names[a.ID]+" - "+names[b.ID])
			}
		}
	}
	return v
}

func orID(name, id string) string {
	if name == "" {
		return id
	}
	return name
}

// WriteClusterReport writes one cluster snapshot as plain text (`top --once`
// with several --server): the servers, the routes, the mesh check.
func WriteClusterReport(w io.Writer, snap *ClusterSnapshot) error {
	v := ComputeClusterView(nil, snap)
	_, err := io.WriteString(w, strings.Join(clusterLines(v, false), "\n")+"\n")
	return err
}

// clusterLines renders the view; rates are left out of a one-shot report.
func clusterLines(v ClusterView, rates bool) []string {
	var out []string
	up := 0
	for _, s := range v.Servers {
		if s.Up {
			up++
		}
	}
	mesh := "full mesh"
	if len(v.Missing) > 0 {
		mesh = "MISSING ROUTES: " + strings.Join(v.Missing, ", ")
	}
	out = append(out, fmt.Sprintf("Cluster: %d of %d servers up, %s", up, len(v.Servers), mesh), "")
	hdr := fmt.Sprintf("%-22s %-24s %-10s %6s %6s", "SERVER", "URL", "CLUSTER", "CONNS", "ROUTES")
	if rates {
		hdr += fmt.Sprintf(" %10s %10s %10s %10s", "MSGS_IN/s", "MSGS_OUT/s", "BYTES_IN/s", "BYTES_OUT/s")
	}
	out = append(out, hdr+"  SLOW")
	for _, s := range v.Servers {
		if !s.Up {
			out = append(out, fmt.Sprintf("%-22s %-24s down: %s", "-", clip(s.URL, 24), s.Err))
			continue
		}
		l := fmt.Sprintf("%-22s %-24s %-10s %6d %6d", clip(s.Name, 22), clip(s.URL, 24), clip(s.Cluster, 10), s.Conns, s.Routes)
		if rates {
			l += fmt.Sprintf(" %10s %10s %10s %10s", formatCount(s.Rates.InMsgs), formatCount(s.Rates.OutMsgs),
				formatBytes(s.Rates.InBytes), formatBytes(s.Rates.OutBytes))
		}
		out = append(out, l+fmt.Sprintf("  %d", s.SlowConsumers))
	}
	out = append(out, "", fmt.Sprintf("%-22s %-22s %5s %10s %10s %9s %8s", "ROUTE FROM", "TO", "CONNS", "MSGS_IN", "MSGS_OUT", "PENDING", "RTT"))
	for _, r := range v.Routes {
		in, outm := fmt.Sprint(r.InMsgs), fmt.Sprint(r.OutMsgs)
		if rates {
			in, outm = formatCount(r.InRate)+"/s", formatCount(r.OutRate)+"/s"
		}
		out = append(out, fmt.Sprintf("%-22s %-22s %5d %10s %10s %9d %8s", clip(r.From, 22), clip(r.To, 22), r.Conns, in, outm, r.Pending, orDash(r.RTT)))
	}
	return out
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// ClusterModel is the interactive cluster view. Update does no I/O.
type ClusterModel struct {
	src           ClusterSource
	interval      time.Duration
	prev, cur     *ClusterSnapshot
	view          ClusterView
	width, height int
}

// NewCluster returns a cluster view polling src every interval.
func NewCluster(src ClusterSource, interval time.Duration) ClusterModel {
	if interval <= 0 {
		interval = DefaultInterval
	}
	return ClusterModel{src: src, interval: interval}
}

type clusterMsg struct{ snap *ClusterSnapshot }
type clusterTickMsg struct{}

func fetchCluster(src ClusterSource, timeout time.Duration) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return clusterMsg{src.FetchCluster(ctx)}
	}
}

func (m ClusterModel) timeout() time.Duration {
	return min(max(m.interval, time.Second), 5*time.Second)
}

// Init polls at once.
func (m ClusterModel) Init() tea.Cmd { return fetchCluster(m.src, m.timeout()) }

// Update applies one message.
func (m ClusterModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case clusterTickMsg:
		return m, fetchCluster(m.src, m.timeout())
	case clusterMsg:
		m.prev, m.cur = m.cur, msg.snap
		m.view = ComputeClusterView(m.prev, m.cur)
		return m, tea.Tick(m.interval, func(time.Time) tea.Msg { return clusterTickMsg{} })
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case tea.KeyPressMsg:
		if key.Matches(msg, defaultKeys().Quit) {
			return m, tea.Quit
		}
	}
	return m, nil
}

// View renders the last poll.
func (m ClusterModel) View() tea.View {
	lines := []string{"natsctl top: cluster (q to quit)", ""}
	if m.cur == nil {
		lines = append(lines, "polling...")
	} else {
		lines = append(lines, clusterLines(m.view, true)...)
	}
	if m.height > 0 && len(lines) > m.height {
		lines = lines[:m.height]
	}
	if m.width > 0 {
		for i, l := range lines {
			if r := []rune(l); len(r) > m.width {
				lines[i] = string(r[:m.width])
			}
		}
	}
	v := tea.NewView(strings.Join(lines, "\n"))
	v.AltScreen = true
	return v
}

// View returns the computed view (tests).
func (m ClusterModel) ClusterView() ClusterView { return m.view }
