package server

import (
	"slices"
	"time"

	"github.com/natsctl/natsctl/internal/monitorapi"
)

// RoutezOptions select what Routez reports (nats-server's /routez query
// parameters subs=1 and subs=detail).
type RoutezOptions struct {
	Subs       bool
	SubsDetail bool
}

// Routez reports this server's registered routes in nats-server's /routez
// shape. Without clustering it reports no routes.
func (s *Server) Routez(opts RoutezOptions) *monitorapi.Routez {
	now := time.Now()
	rz := &monitorapi.Routez{ID: s.id, Name: s.name, Now: now, Routes: []*monitorapi.RouteInfo{}}
	cl := s.cluster
	if cl == nil {
		return rz
	}
	cl.mu.Lock()
	conns := make([]*conn, 0, len(cl.routes))
	for _, c := range cl.routes {
		conns = append(conns, c)
	}
	cl.mu.Unlock()
	slices.SortFunc(conns, func(a, b *conn) int { return int(a.cid) - int(b.cid) })
	for _, c := range conns {
		rz.Routes = append(rz.Routes, c.routeInfoz(now, opts))
	}
	rz.NumRoutes = len(rz.Routes)
	return rz
}

func (c *conn) routeInfoz(now time.Time, opts RoutezOptions) *monitorapi.RouteInfo {
	last := time.Unix(0, c.stats.last.Load())
	c.mu.Lock()
	r := c.route
	ri := &monitorapi.RouteInfo{
		Rid: c.cid, RemoteID: r.remoteID, RemoteName: r.remoteName,
		DidSolicit: r.solicited, IsConfigured: r.explicit,
		IP: c.host, Port: c.port, Start: c.start, LastActivity: last,
		Uptime: monitorapi.FormatUptime(now.Sub(c.start)), Idle: monitorapi.FormatUptime(now.Sub(last)),
		Pending: int(c.pending), OutMsgs: c.sent.msgs, OutBytes: c.sent.bytes,
		InMsgs: c.stats.inMsgs.Load(), InBytes: c.stats.inBytes.Load(),
		NumSubs: uint32(len(c.subs)), Account: GlobalAccountName,
	}
	if c.rtt > 0 {
		ri.RTT = c.rtt.String()
	}
	if opts.Subs || opts.SubsDetail {
		for _, sub := range c.subs {
			if opts.SubsDetail {
				ri.SubsDetail = append(ri.SubsDetail, monitorapi.SubDetail{Account: sub.acc.Name, Subject: sub.subject, Queue: sub.queue, Sid: sub.sid, Msgs: sub.nm.Load(), Cid: c.cid})
			} else {
				ri.Subs = append(ri.Subs, sub.subject)
			}
		}
		slices.Sort(ri.Subs)
	}
	c.mu.Unlock()
	return ri
}

// ClusterVarz is the /varz "cluster" object (empty without clustering).
func (s *Server) ClusterVarz() monitorapi.ClusterOptsVarz {
	cl := s.cluster
	if cl == nil {
		return monitorapi.ClusterOptsVarz{}
	}
	o := &s.opts.Cluster
	v := monitorapi.ClusterOptsVarz{
		Name: s.ClusterName(), Host: o.Host, Port: s.ClusterAddr().Port,
		AuthTimeout: o.AuthTimeout.Seconds(), TLSRequired: o.TLS != nil, TLSVerify: o.TLS != nil,
		WriteDeadline: s.opts.WriteDeadline,
	}
	if o.TLS != nil {
		v.TLSTimeout = o.AuthTimeout.Seconds()
	}
	for _, u := range cl.seeds {
		v.URLs = append(v.URLs, u.Host)
	}
	return v
}
