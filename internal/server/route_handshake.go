package server

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
)

// The route handshake (nats-server route.go, processRouteConnect and
// processRouteInfo): a dialed route sends CONNECT, INFO and PING and is
// registered on the peer's PONG (its CONNECT was accepted); an accepted one
// gets CONNECT (credentials, cluster name) then INFO and is registered on
// it. A registered route gets our interest and is gossiped to the others.

// routeConnect handles the CONNECT of a peer that dialed us: it must come
// first, carry the credentials required and name our cluster.
func (c *conn) routeConnect(arg []byte) error {
	r := c.route
	if r.solicited || r.gotConnect {
		return errParseUnknownOp
	}
	var ci routeConnectJSON
	if err := json.Unmarshal(arg, &ci); err != nil {
		return errParseBadConnect
	}
	if ci.Lang != "" {
		c.log.Warn("a client connected to the route port; closing it")
		return &protoError{text: "Client connected to route port", reason: closeProtocolViolation}
	}
	o := &c.srv.opts.Cluster
	if o.Username != "" && (subtle.ConstantTimeCompare([]byte(ci.User), []byte(o.Username)) != 1 ||
		subtle.ConstantTimeCompare([]byte(ci.Pass), []byte(o.Password)) != 1) {
		c.log.Warn("route authorization failed", "user", ci.User)
		return &protoError{text: errAuthViolation, reason: closeAuthViolation}
	}
	if ours, ok := c.srv.checkClusterName(ci.Cluster, ci.Dynamic); !ok {
		text := fmt.Sprintf("Rejecting connection, cluster name %q does not match %q", ci.Cluster, ours)
		c.log.Error("route from another cluster rejected: set the same cluster name on both servers", "remote_cluster", ci.Cluster, "cluster", ours)
		return &protoError{text: text, reason: closeClusterNameConflict}
	}
	c.headers.Store(ci.Headers)
	r.gotConnect = true
	c.mu.Lock()
	r.remoteID = ci.Name
	c.mu.Unlock()
	return nil
}

// checkClusterName compares a peer's cluster name with ours; a generated
// name of ours gives way to a configured one (or to a larger generated
// one), as in nats-server. Having adopted a name, we tell our routes, so
// that a cluster of generated names converges on one.
func (s *Server) checkClusterName(remote string, remoteDynamic bool) (string, bool) {
	cl := s.cluster
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if remote == cl.name || remote == "" {
		return cl.name, true
	}
	if cl.dynamic && (!remoteDynamic || cl.name < remote) {
		cl.name, cl.dynamic = remote, remoteDynamic
		info := s.routeInfoLocked()
		line := routeInfoLine(&info)
		for _, rc := range cl.routes {
			rc.enqueue(line)
		}
		return cl.name, true
	}
	return cl.name, false
}

// routeInfo handles the peer's INFO: the first one completes the handshake,
// later ones carry gossip (another server's ID: connect to it), lame duck
// notices and connect_urls updates.
func (c *conn) routeInfo(arg []byte) error {
	r := c.route
	if !r.solicited && !r.gotConnect {
		return errParseUnknownOp
	}
	var info routeInfoJSON
	if err := json.Unmarshal(arg, &info); err != nil {
		return errParseBadArgs
	}
	s := c.srv
	if r.gotInfo {
		c.mu.Lock()
		remoteID := r.remoteID
		c.mu.Unlock()
		if info.ID != remoteID {
			s.gossipReceived(&info)
			return nil
		}
		if info.Cluster != "" {
			s.checkClusterName(info.Cluster, info.Dynamic) // a peer adopted a name
		}
		s.peerURLsChanged(c, info.ConnectURLs, info.LameDuckMode)
		return nil
	}
	if info.ID == s.id {
		c.mu.Lock()
		r.self = true
		c.mu.Unlock()
		if r.url != nil {
			s.cluster.mu.Lock()
			s.cluster.selfURLs[r.url.Host] = true
			s.cluster.mu.Unlock()
			c.log.Debug("route seed is this server; not dialing it again", "url", r.url.Redacted())
		}
		c.closeConn(closeDuplicateRoute, false)
		return nil
	}
	if info.RouteAccount != "" {
		// nats-server dials one of these next to the shared route and
		// drops it itself once it sees we do not pool routes.
		c.log.Debug("per-account route not supported; the shared route carries every account", "account", info.RouteAccount)
		c.closeConn(closeDuplicateRoute, false)
		return nil
	}
	if ours, ok := s.checkClusterName(info.Cluster, info.Dynamic); !ok {
		c.log.Error("route peer is in another cluster: set the same cluster name on both servers; retrying",
			"remote_cluster", info.Cluster, "cluster", ours, "remote_id", info.ID)
		c.closeConn(closeClusterNameConflict, false)
		return nil
	}
	if !r.solicited && r.remoteID != "" && r.remoteID != info.ID {
		return errParseBadArgs // CONNECT and INFO name different servers
	}
	routeURL := info.IP
	if routeURL == "" {
		// Without advertise, the peer's route address is the one it
		// reached us from, with its route port (nats-server does the same).
		host := c.host
		if r.url != nil {
			host = r.url.Hostname()
		}
		routeURL = "nats-route://" + net.JoinHostPort(host, strconv.Itoa(info.Port)) + "/"
	}
	if info.JetStream && s.info.JetStream {
		c.log.Error("two servers of the cluster run JetStream: streams are not clustered yet, so both answer every stream API request; run --jetstream on one server only",
			"remote_id", info.ID, "remote_name", info.Name)
	}
	r.gotInfo = true
	c.headers.Store(info.Headers)
	c.mu.Lock()
	r.remoteID, r.remoteName, r.routeURL, r.connectURLs = info.ID, info.Name, routeURL, info.ConnectURLs
	r.traces = info.Proto >= routeProtoTrace
	c.mu.Unlock()
	if r.solicited {
		r.awaitPong = true // registered once the peer has accepted our CONNECT
		return nil
	}
	s.addRoute(c)
	return nil
}

// routePong handles PONG on a route: keep-alive, and for a route we dialed
// the first PONG after the peer's INFO completes the handshake.
func (c *conn) routePong() error {
	c.processPong()
	if r := c.route; r.awaitPong {
		r.awaitPong = false
		c.srv.addRoute(c)
	}
	return nil
}

// addRoute registers a route after its handshake. Of two routes to the same
// server (both dialed each other at once) both servers keep the one dialed
// by the server with the smaller ID, so they agree without talking.
func (s *Server) addRoute(c *conn) {
	cl := s.cluster
	r := c.route
	id := r.remoteID
	var drop *conn
	cl.mu.Lock()
	if cl.closed {
		cl.mu.Unlock()
		c.closeConn(closeServerShutdown, true)
		return
	}
	if r.url != nil {
		cl.urlIDs[r.url.Host] = id
	}
	if old := cl.routes[id]; old != nil {
		preferred := r.solicited == (s.id < id)
		if !preferred {
			cl.mu.Unlock()
			c.log.Debug("duplicate route; keeping the existing one", "remote_id", id)
			c.closeConn(closeDuplicateRoute, true)
			return
		}
		drop = old
		old.mu.Lock()
		old.route.registered = false
		old.mu.Unlock()
	}
	delete(cl.pending, c)
	cl.routes[id] = c
	c.mu.Lock()
	r.registered = true
	r.handshake.Stop()
	connectURLs := r.connectURLs
	c.mu.Unlock()
	if dump := cl.interestDumpLocked(); len(dump) > 0 {
		c.enqueue(dump)
	}
	// Gossip: tell the other routes about the new server so that they
	// connect to it (full mesh). Not for a route we dialed because of
	// gossip: the server that told us has told the others.
	if r.explicit || !r.solicited {
		g := routeInfoJSON{ID: id, Name: r.remoteName, Cluster: cl.name, IP: r.routeURL, Headers: true, Version: ProtocolVersion, Proto: routeProto}
		line := routeInfoLine(&g)
		for oid, oc := range cl.routes {
			if oid != id {
				oc.enqueue(line)
			}
		}
	}
	n := len(cl.routes)
	cl.mu.Unlock()
	if drop != nil {
		drop.log.Debug("duplicate route replaced", "remote_id", id)
		drop.closeConn(closeDuplicateRoute, true)
	}
	s.setPeerURLs(id, connectURLs)
	s.log.Info("route registered", "remote_id", id, "remote_name", r.remoteName, "solicited", r.solicited, "routes", n)
}

// routeClosed unregisters a closed route (called by closeConn).
func (s *Server) routeClosed(c *conn) {
	cl := s.cluster
	c.mu.Lock()
	id := c.route.remoteID
	if c.route.handshake != nil {
		c.route.handshake.Stop()
	}
	reason := c.reason
	c.mu.Unlock()
	cl.mu.Lock()
	delete(cl.pending, c)
	removed := id != "" && cl.routes[id] == c
	if removed {
		delete(cl.routes, id)
		close(cl.changed)
		cl.changed = make(chan struct{})
	}
	cl.mu.Unlock()
	if removed {
		s.log.Info("route closed", "remote_id", id, "reason", reason.String())
		s.setPeerURLs(id, nil)
	}
}

// gossipReceived connects to a server another route told us about, unless
// we have (or are making) a route to it.
func (s *Server) gossipReceived(info *routeInfoJSON) {
	cl := s.cluster
	if info.ID == "" || info.ID == s.id || info.IP == "" {
		return
	}
	u, err := parseRouteURL(info.IP)
	if err != nil {
		return
	}
	cl.mu.Lock()
	// Not filtered by cluster name: generated names may still be
	// converging; the handshake checks it.
	if cl.closed || cl.routes[info.ID] != nil || cl.dialing[info.ID] || cl.selfURLs[u.Host] {
		cl.mu.Unlock()
		return
	}
	cl.dialing[info.ID] = true
	cl.mu.Unlock()
	s.log.Debug("connecting to a cluster member learned by gossip", "remote_id", info.ID, "url", u.Redacted())
	s.wg.Add(1)
	go s.solicitRoute(u, false, info.ID)
}

// routeErr logs an -ERR from a peer; the peer closes the route if it must.
func (c *conn) routeErr(text []byte) error {
	c.log.Warn("route peer reported an error", "err", string(text))
	return nil
}
