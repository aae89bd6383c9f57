package server

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/natsctl/natsctl/internal/monitorapi"
)

// Monitoring documents are built here from snapshots: each connection is
// copied under its own mu for a moment, counters are read atomically, and
// everything else (sorting, paging, encoding) happens with no lock held. The
// message path does no work for them. The HTTP side (monitor_http.go) only
// maps query parameters and JSON.

// badRequest is an invalid monitoring query; HTTP answers it with 400.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func nowUTC() time.Time { return time.Now().UTC() }

// Varz returns the server's identity, configuration summary and totals.
func (s *Server) Varz() *monitorapi.Varz {
	now := time.Now()
	cpu, rss := s.mon.proc.sample()
	s.mu.Lock()
	start, conns := s.start, len(s.conns)
	s.mu.Unlock()
	if start.IsZero() {
		start = now
	}
	o := &s.opts
	in, inB := s.stats.inMsgs.Load(), s.stats.inBytes.Load()
	out, outB := s.stats.outMsgs.Load(), s.stats.outBytes.Load()
	slow := s.stats.slowConsumers.Load()
	v := &monitorapi.Varz{
		ID:                 s.id,
		Name:               s.name,
		Version:            s.info.Version,
		Proto:              s.info.Proto,
		GoVersion:          runtime.Version(),
		Host:               o.Host,
		Port:               s.Addr().Port,
		MaxConn:            o.MaxConnections,
		MaxSubs:            o.MaxSubscriptions,
		PingInterval:       o.PingInterval,
		MaxPingsOut:        o.PingMax,
		HTTPHost:           o.HTTPHost,
		AuthTimeout:        o.AuthTimeout.Seconds(),
		MaxControlLine:     o.MaxControlLine,
		MaxPayload:         int(o.MaxPayload),
		MaxPending:         o.MaxPending,
		WriteDeadline:      o.WriteDeadline,
		Start:              start.UTC(),
		Now:                now.UTC(),
		Uptime:             monitorapi.FormatUptime(now.Sub(start)),
		Mem:                rss,
		Cores:              runtime.NumCPU(),
		MaxProcs:           runtime.GOMAXPROCS(0),
		CPU:                cpu,
		Connections:        conns,
		TotalConnections:   uint64(s.stats.totalConns.Load()),
		InMsgs:             in,
		InBytes:            inB,
		InClientMsgs:       in,
		InClientBytes:      inB,
		OutMsgs:            out,
		OutBytes:           outB,
		OutClientMsgs:      out,
		OutClientBytes:     outB,
		SlowConsumers:      slow,
		StaleConnections:   s.mon.stale.Load(),
		Subscriptions:      uint32(s.numSubs()),
		Cluster:            s.ClusterVarz(),
		Routes:             s.NumRoutes(),
		HTTPReqStats:       s.mon.reqStats(),
		ConfigLoadTime:     start.UTC(),
		SlowConsumersStats: &monitorapi.SlowConsumersStats{Clients: uint64(slow)},
		// natscli's server info shows these three.
		AuthRequired: s.AuthRequired(),
		TLSRequired:  s.tlsConf != nil,
		TLSVerify:    s.tlsConf != nil && o.TLS.verify(),
		TLSTimeout:   o.TLS.timeout().Seconds(),
	}
	if a := s.MonitorAddr(); a != nil {
		v.HTTPPort = a.Port
	}
	if js := s.JSInfo(); !js.Disabled {
		// nats-server's varz "jetstream": natscli's server info prints its
		// JetStream section from config and stats.
		v.JetStream = monitorapi.JetStreamVarz{Config: &js.Config, Stats: &js.JetStreamStats}
	}
	return v
}

// connRow is one connection as /connz lists it, plus what sorting needs.
type connRow struct {
	info *monitorapi.ConnInfo
	subs []monitorapi.SubDetail // only when asked for
	rtt  time.Duration
	acc  string // account name
	user string // authenticated user
}

// snapshot copies c's monitoring view, under c.mu for the fields it guards.
// A closed connection is described as of its stop time.
func (c *conn) snapshot(now time.Time, withSubs bool) connRow {
	ci := &monitorapi.ConnInfo{
		Cid:     c.cid,
		Kind:    "Client",
		Type:    "nats",
		IP:      c.host,
		Port:    c.port,
		Start:   c.start,
		InMsgs:  c.stats.inMsgs.Load(),
		InBytes: c.stats.inBytes.Load(),
	}
	last := time.Unix(0, c.stats.last.Load())
	var row connRow
	c.mu.Lock()
	ci.Pending = int(c.pending)
	ci.NumSubs = uint32(len(c.subs))
	ci.Name, ci.Lang, ci.Version = c.name, c.lang, c.version
	ci.OutMsgs, ci.OutBytes = c.sent.msgs, c.sent.bytes
	row.rtt = c.rtt
	row.acc, row.user = c.acc.Name, c.sec.user
	closed, reason, stop := c.closed, c.reason, c.stop
	if withSubs && len(c.subs) > 0 {
		row.subs = make([]monitorapi.SubDetail, 0, len(c.subs))
		for _, sub := range c.subs {
			row.subs = append(row.subs, subDetail(sub))
		}
	}
	c.mu.Unlock()
	if closed {
		now = stop
		ci.Stop = &stop
		ci.Reason = reason.String()
	}
	ci.LastActivity = last
	ci.Uptime = monitorapi.FormatUptime(now.Sub(c.start))
	ci.Idle = monitorapi.FormatUptime(now.Sub(last))
	ci.RTT = row.rtt.String()
	slices.SortFunc(row.subs, func(a, b monitorapi.SubDetail) int { return cmp.Compare(a.Sid, b.Sid) })
	row.info = ci
	return row
}

// subDetail describes sub; its fields are immutable or atomic.
func subDetail(sub *subscription) monitorapi.SubDetail {
	return monitorapi.SubDetail{
		Account:    sub.acc.Name,
		AccountTag: sub.acc.Name,
		Subject:    sub.subject,
		Queue:      sub.queue,
		Sid:        sub.sid,
		Msgs:       sub.nm.Load(),
		Max:        sub.max.Load(),
		Cid:        sub.c.cid,
	}
}

// ConnzOptions select what Connz returns; the fields mirror /connz's query.
type ConnzOptions struct {
	Sort       monitorapi.SortOpt
	Subs       bool // subscriptions_list
	SubsDetail bool // subscriptions_list_detail
	Offset     int
	Limit      int    // <= 0: monitorapi.DefaultConnListSize
	CID        uint64 // one connection, open or closed as State allows
	State      monitorapi.ConnState
	Auth       bool   // fill authorized_user and account
	Account    string // only connections of this account
}

// Connz returns one page of connections, sorted as asked.
func (s *Server) Connz(o ConnzOptions) (*monitorapi.Connz, error) {
	sortOpt, err := monitorapi.ParseSortOpt(string(o.Sort), o.State == monitorapi.ConnClosed)
	if err != nil {
		return nil, &badRequest{err.Error()}
	}
	if o.Offset < 0 {
		o.Offset = 0
	}
	if o.Limit <= 0 {
		o.Limit = monitorapi.DefaultConnListSize
	}
	if o.CID > 0 {
		o.Limit = 1
	}
	now := time.Now()
	cz := &monitorapi.Connz{ID: s.id, Now: now.UTC(), Offset: o.Offset, Limit: o.Limit}
	withSubs := o.Subs || o.SubsDetail

	var rows []connRow
	if o.State == monitorapi.ConnOpen || o.State == monitorapi.ConnAll {
		conns := s.snapshotConns()
		cz.Total += len(conns)
		for _, c := range conns {
			if (o.CID == 0 || c.cid == o.CID) && (o.Account == "" || c.accountName() == o.Account) {
				rows = append(rows, c.snapshot(now, withSubs))
			}
		}
	}
	if o.State == monitorapi.ConnClosed || o.State == monitorapi.ConnAll {
		closed := s.mon.closed.list()
		cz.Total += len(closed)
		// A cid found open is not looked for among the closed.
		for _, cc := range closed {
			if o.CID != 0 && (cc.info.Cid != o.CID || len(rows) > 0) {
				continue
			}
			if o.Account != "" && cc.acc != o.Account {
				continue
			}
			rows = append(rows, s.closedRow(cc, withSubs))
		}
	}
	sortRows(rows, sortOpt, now)
	lo := min(o.Offset, len(rows))
	hi := lo + min(o.Limit, len(rows)-lo)
	cz.Conns = make([]*monitorapi.ConnInfo, 0, hi-lo)
	for _, r := range rows[lo:hi] {
		if o.Auth {
			r.info.AuthorizedUser = r.user
			if r.acc != GlobalAccountName {
				r.info.Account = r.acc
			}
		}
		switch {
		case o.SubsDetail:
			r.info.SubsDetail = r.subs
		case o.Subs && len(r.subs) > 0:
			r.info.Subs = make([]string, len(r.subs))
			for i, sd := range r.subs {
				r.info.Subs[i] = sd.Subject
			}
		}
		cz.Conns = append(cz.Conns, r.info)
	}
	cz.NumConns = len(cz.Conns)
	return cz, nil
}

// closedRow copies a remembered closed connection (the ring's entry is
// shared and may still receive its slow-consumer attribution).
func (s *Server) closedRow(cc *closedConn, withSubs bool) connRow {
	s.mon.closed.mu.Lock()
	info := cc.info
	s.mon.closed.mu.Unlock()
	row := connRow{info: &info, rtt: cc.rtt, acc: cc.acc, user: cc.user}
	if withSubs {
		row.subs = cc.subs
	}
	return row
}

// sortRows orders rows as nats-server does for key: cid, start, uptime and
// reason ascending, the rest descending; ties by cid.
func sortRows(rows []connRow, key monitorapi.SortOpt, now time.Time) {
	uptime := func(ci *monitorapi.ConnInfo) time.Duration {
		if ci.Stop != nil {
			return ci.Stop.Sub(ci.Start)
		}
		return now.Sub(ci.Start)
	}
	val := func(r connRow) int64 {
		ci := r.info
		switch key {
		case monitorapi.BySubs:
			return int64(ci.NumSubs)
		case monitorapi.ByPending:
			return int64(ci.Pending)
		case monitorapi.ByOutMsgs:
			return ci.OutMsgs
		case monitorapi.ByInMsgs:
			return ci.InMsgs
		case monitorapi.ByOutBytes:
			return ci.OutBytes
		case monitorapi.ByInBytes:
			return ci.InBytes
		case monitorapi.ByLast:
			return ci.LastActivity.UnixNano()
		case monitorapi.ByIdle:
			return int64(now.Sub(ci.LastActivity))
		case monitorapi.ByUptime:
			return int64(uptime(ci))
		case monitorapi.ByStop:
			if ci.Stop != nil {
				return ci.Stop.UnixNano()
			}
		case monitorapi.ByRTT:
			return int64(r.rtt)
		}
		return 0
	}
	slices.SortStableFunc(rows, func(a, b connRow) int {
		var c int
		switch key {
		case monitorapi.ByCid, monitorapi.ByStart:
		case monitorapi.ByReason:
			c = strings.Compare(a.info.Reason, b.info.Reason)
		default:
			c = cmp.Compare(val(a), val(b))
			if key.Descending() {
				c = -c
			}
		}
		if c == 0 {
			c = cmp.Compare(a.info.Cid, b.info.Cid)
		}
		return c
	})
}

// SubszOptions select what Subsz returns; they mirror /subsz's query.
type SubszOptions struct {
	Subs   bool   // list subscriptions
	Offset int    //
	Limit  int    // <= 0: 1024
	Test   string // only subscriptions a publish on this subject would reach
}

// Subsz returns the subject index's statistics and, when asked, a page of
// subscriptions.
func (s *Server) Subsz(o SubszOptions) (*monitorapi.Subsz, error) {
	if o.Offset < 0 {
		o.Offset = 0
	}
	if o.Limit <= 0 {
		o.Limit = 1024
	}
	if o.Test != "" && !validLiteralSubject([]byte(o.Test)) {
		return nil, &badRequest{"invalid test subject, must be valid publish subject: " + o.Test}
	}
	sz := &monitorapi.Subsz{ID: s.id, Now: nowUTC(), SublistStats: s.subStats(), Offset: o.Offset, Limit: o.Limit}
	if !o.Subs {
		return sz, nil
	}
	var details []monitorapi.SubDetail
	var all []*subscription
	for _, a := range s.allAccounts() {
		all = a.sl.All(all)
	}
	for _, sub := range all {
		if o.Test != "" && !matchLiteral(o.Test, sub.subject) {
			continue
		}
		details = append(details, subDetail(sub))
	}
	slices.SortFunc(details, func(a, b monitorapi.SubDetail) int {
		return cmp.Or(cmp.Compare(a.Cid, b.Cid), cmp.Compare(a.Sid, b.Sid))
	})
	sz.Total = len(details)
	lo := min(o.Offset, len(details))
	hi := lo + min(o.Limit, len(details)-lo)
	sz.Subs = details[lo:hi]
	return sz, nil
}

// Accountz lists the accounts or, with acc, describes one.
func (s *Server) Accountz(acc string) (*monitorapi.Accountz, error) {
	az := &monitorapi.Accountz{ID: s.id, Now: nowUTC(), SystemAccount: s.SystemAccount().Name}
	if acc == "" {
		az.Accounts = s.accs.Load().names()
		return az, nil
	}
	a := s.lookupAccount(acc)
	if a == nil {
		return nil, &badRequest{fmt.Sprintf("Account %s does not exist", acc)}
	}
	az.Account = &monitorapi.AccountInfo{
		AccountName: a.Name,
		LastUpdate:  a.created.UTC(),
		IsSystem:    a == s.SystemAccount(),
		Complete:    true,
		ClientCnt:   int(a.nconns.Load()),
		Sublist:     a.sl.stats(),
		SubCnt:      uint32(a.sl.Count()),
	}
	return az, nil
}

// Healthz reports readiness: ok once started, unavailable (503) while
// starting, in lame duck mode or shutting down.
func (s *Server) Healthz() *monitorapi.HealthStatus {
	s.mu.Lock()
	running, closing, ldm := s.running, s.closing, s.ldm
	s.mu.Unlock()
	var why string
	switch {
	case ldm:
		why = "server is in lame duck mode"
	case closing:
		why = "server is shutting down"
	case !running:
		why = "server is not ready for connections yet"
	default:
		return &monitorapi.HealthStatus{Status: "ok", StatusCode: 200}
	}
	return &monitorapi.HealthStatus{Status: "unavailable", StatusCode: 503, Error: why}
}
