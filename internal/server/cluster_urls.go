package server

import (
	"net"
	"slices"
	"strconv"
)

// Client connect URLs (nats-server: connect_urls in INFO). A clustered
// server tells its clients where every server of the cluster accepts
// clients, and sends an updated INFO when a server joins or leaves, so that
// clients fail over to servers they were never configured with.

// setLocalConnectURLs computes this server's own client URLs: the client
// advertise address, or the bound address, with 0.0.0.0/:: expanded to every
// global unicast address of the host (as nats-server does).
func (s *Server) setLocalConnectURLs() {
	port := s.Addr().Port
	if a := s.opts.ClientAdvertise; a != "" {
		h, p, _ := splitAdvertise(a, port)
		s.localURLs = []string{net.JoinHostPort(h, strconv.Itoa(p))}
	} else if ip := net.ParseIP(s.opts.Host); ip != nil && ip.IsUnspecified() {
		// No address at all is better than 0.0.0.0, which clients would
		// dial locally (nats-server does the same).
		for _, a := range globalUnicastIPs() {
			s.localURLs = append(s.localURLs, net.JoinHostPort(a, strconv.Itoa(port)))
		}
		if len(s.localURLs) == 0 {
			s.log.Warn("bound to an unspecified address and no global unicast address found: this server is not in connect_urls; set client_advertise", "host", s.opts.Host)
		}
	} else {
		s.localURLs = []string{net.JoinHostPort(s.opts.Host, strconv.Itoa(port))}
	}
	urls := slices.Clone(s.localURLs)
	s.connectURLs.Store(&urls)
}

func globalUnicastIPs() []string {
	var out []string
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.IsGlobalUnicast() {
			out = append(out, n.IP.String())
		}
	}
	return out
}

// clientConnectURLs is the connect_urls list for the INFO sent to clients;
// nil without clustering.
func (s *Server) clientConnectURLs() []string {
	if p := s.connectURLs.Load(); p != nil {
		return *p
	}
	return nil
}

// setPeerURLs records the client URLs of the server behind route id (nil:
// the route is gone) and, if the cluster's list changed, sends INFO to the
// clients.
func (s *Server) setPeerURLs(id string, urls []string) {
	cl := s.cluster
	if s.opts.Cluster.NoAdvertise {
		return
	}
	cl.mu.Lock()
	if len(urls) == 0 {
		delete(cl.peerURLs, id)
	} else {
		cl.peerURLs[id] = slices.Clone(urls)
	}
	all := s.connectURLsLocked()
	changed := !slices.Equal(s.clientConnectURLs(), all)
	if changed {
		s.connectURLs.Store(&all)
	}
	cl.mu.Unlock()
	if changed {
		// The latest list, should another change have raced this one.
		s.sendInfoToClients(s.clientConnectURLs(), false)
	}
}

// peerURLsChanged handles a later INFO from a route peer: new connect_urls,
// or lame duck mode (its clients are about to move to us: drop its URLs).
func (s *Server) peerURLsChanged(c *conn, urls []string, ldm bool) {
	c.mu.Lock()
	id := c.route.remoteID
	if ldm {
		urls = nil
	}
	c.route.connectURLs = urls
	c.mu.Unlock()
	s.setPeerURLs(id, urls)
}

// connectURLsLocked joins our URLs (first) and the peers' (sorted, without
// duplicates). cluster.mu held.
func (s *Server) connectURLsLocked() []string {
	cl := s.cluster
	var peers []string
	for _, urls := range cl.peerURLs {
		peers = append(peers, urls...)
	}
	slices.Sort(peers)
	peers = slices.Compact(peers)
	all := []string{}
	if !cl.ldm {
		all = append(all, s.localURLs...)
	}
	for _, u := range peers {
		if !slices.Contains(all, u) && !slices.Contains(s.localURLs, u) {
			all = append(all, u)
		}
	}
	return all
}

// sendInfoToClients sends an INFO with urls as connect_urls to every client
// that takes INFO updates.
func (s *Server) sendInfoToClients(urls []string, ldm bool) {
	info := s.info
	info.ConnectURLs = urls
	info.LameDuckMode = ldm
	if cl := s.cluster; cl != nil {
		info.Cluster = s.ClusterName()
	}
	cur := s.connectURLs.Load()
	for _, c := range s.snapshotConns() {
		c.mu.Lock()
		ok := c.asyncInfo && !c.closed
		if ok {
			c.infoURLs = cur
		}
		c.mu.Unlock()
		if !ok {
			continue
		}
		ci := info
		ci.ClientID, ci.ClientIP = c.cid, c.host
		c.enqueue(infoLine(&ci))
	}
}

// firstPong runs on a client's read goroutine once it has queued the first
// PONG: from then on the client takes INFO updates (nats.go expects PONG
// right after its CONNECT, so none may come earlier), and it gets one now if
// the cluster changed since its first INFO.
func (c *conn) firstPong() {
	if !c.gotConn || c.opts.Protocol < 1 {
		return
	}
	s := c.srv
	c.mu.Lock()
	c.asyncInfo = true
	sent := c.infoURLs
	cur := s.connectURLs.Load()
	c.infoURLs = cur
	c.mu.Unlock()
	if cur == sent || cur == nil {
		return
	}
	info := s.info
	info.ConnectURLs, info.Cluster = *cur, s.ClusterName()
	info.ClientID, info.ClientIP = c.cid, c.host
	c.sendSelf(infoLine(&info))
}

// clusterLameDuck tells the routes that this server enters lame duck mode
// (their clients stop being offered this server) and returns the
// connect_urls its own clients should move to: the other servers'.
func (s *Server) clusterLameDuck() []string {
	cl := s.cluster
	if cl == nil {
		return nil
	}
	cl.mu.Lock()
	cl.ldm = true
	info := s.routeInfoLocked()
	line := routeInfoLine(&info)
	for _, rc := range cl.routes {
		rc.enqueue(line)
	}
	var urls []string
	if !s.opts.Cluster.NoAdvertise {
		urls = s.connectURLsLocked()
	}
	cl.mu.Unlock()
	s.connectURLs.Store(&urls)
	return urls
}
