package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/url"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// cluster is a server's route state: the route listener, the registered
// routes by peer server ID, the local interest sent to them and the client
// connect URLs of the cluster. Lock order: Server.mu -> cluster.mu ->
// conn.mu (cluster.mu is never held while taking Server.mu).
type cluster struct {
	ln      net.Listener
	ctx     context.Context // cancelled on shutdown: ends dials and retry waits
	cancel  context.CancelFunc
	seeds   []*url.URL
	routeIP string // nats-route://host:port/ when advertised

	mu       sync.Mutex
	name     string
	dynamic  bool // generated name: adopt a configured peer's name
	closed   bool
	routes   map[string]*conn   // registered, by remote server ID
	pending  map[*conn]struct{} // in handshake
	dialing  map[string]bool    // server IDs being dialed after gossip
	urlIDs   map[string]string  // seed host:port -> server ID behind it
	selfURLs map[string]bool    // seed host:port that turned out to be this server
	interest map[string]int32   // local interest sent to routes (route_interest.go)
	peerURLs map[string][]string
	changed  chan struct{} // closed and replaced when a route goes away
	ldm      bool
}

// route is the route-specific state of a conn of kind route.
type route struct {
	rp        routeParser
	solicited bool
	explicit  bool     // a configured seed (retried forever)
	url       *url.URL // what we dialed, for a solicited route
	// Set by the read goroutine during the handshake; read by others under
	// conn.mu.
	gotConnect, gotInfo bool
	awaitPong           bool // dialed route: INFO checked, waiting for PONG
	registered          bool
	self                bool // the peer is this server
	remoteID            string
	remoteName          string
	traces              bool   // the peer's route protocol has message tracing
	routeURL            string // where the peer accepts routes
	connectURLs         []string
	handshake           *time.Timer
}

// routeInfoJSON is the route INFO, in nats-server's field names.
type routeInfoJSON struct {
	ID             string   `json:"server_id"`
	Name           string   `json:"server_name"`
	Version        string   `json:"version"`
	Proto          int      `json:"proto"`
	GoVersion      string   `json:"go,omitempty"`
	Host           string   `json:"host"`
	Port           int      `json:"port"`
	Headers        bool     `json:"headers"`
	AuthRequired   bool     `json:"auth_required,omitempty"`
	TLSRequired    bool     `json:"tls_required,omitempty"`
	TLSVerify      bool     `json:"tls_verify,omitempty"`
	MaxPayload     int32    `json:"max_payload"`
	IP             string   `json:"ip,omitempty"`
	Cluster        string   `json:"cluster,omitempty"`
	Dynamic        bool     `json:"cluster_dynamic,omitempty"`
	ConnectURLs    []string `json:"connect_urls,omitempty"`
	LameDuckMode   bool     `json:"ldm,omitempty"`
	NatsctlVersion string   `json:"natsctl_version,omitempty"`
	JetStream      bool     `json:"jetstream,omitempty"`
	// RouteAccount is set by nats-server on a route dedicated to one
	// account (pinned accounts, $SYS by default); we have no such routes.
	RouteAccount string `json:"route_account,omitempty"`
}

// routeConnectJSON is the CONNECT a soliciting server sends.
type routeConnectJSON struct {
	Echo     bool   `json:"echo"`
	Verbose  bool   `json:"verbose"`
	Pedantic bool   `json:"pedantic"`
	User     string `json:"user,omitempty"`
	Pass     string `json:"pass,omitempty"`
	TLS      bool   `json:"tls_required"`
	Headers  bool   `json:"headers"`
	Name     string `json:"name"`
	Cluster  string `json:"cluster"`
	Dynamic  bool   `json:"cluster_dynamic,omitempty"`
	Lang     string `json:"lang,omitempty"` // set only by clients dialing the wrong port
}

// routeProto is the route protocol level announced: accounts in the
// protocol and message tracing (nats-server MsgTraceProto, after
// RouteProtoV2): a traced message's next server sends its own event.
const routeProto = 3

// routeProtoTrace is the level from which a peer traces routed messages.
const routeProtoTrace = 3

const routeDialTimeout = 2 * time.Second

// newCluster binds the route listener (so its port is known after New).
func (s *Server) newCluster() error {
	o := &s.opts.Cluster
	if !o.Enabled() {
		return nil
	}
	port := max(o.Port, 0)
	ln, err := net.Listen("tcp", net.JoinHostPort(o.Host, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("listen for routes on %s:%d: %w", o.Host, o.Port, err)
	}
	cl := &cluster{
		ln:       ln,
		name:     o.Name,
		routes:   make(map[string]*conn),
		pending:  make(map[*conn]struct{}),
		dialing:  make(map[string]bool),
		urlIDs:   make(map[string]string),
		selfURLs: make(map[string]bool),
		interest: make(map[string]int32),
		peerURLs: make(map[string][]string),
		changed:  make(chan struct{}),
	}
	if cl.name == "" {
		cl.name, cl.dynamic = randomName(), true
	}
	for _, r := range o.Routes {
		u, _ := parseRouteURL(r) // validated with the options
		cl.seeds = append(cl.seeds, u)
	}
	if o.Advertise != "" {
		h, p, _ := splitAdvertise(o.Advertise, ln.Addr().(*net.TCPAddr).Port)
		cl.routeIP = "nats-route://" + net.JoinHostPort(h, strconv.Itoa(p)) + "/"
	}
	cl.ctx, cl.cancel = context.WithCancel(context.Background())
	s.cluster = cl
	for _, a := range s.allAccounts() {
		a.sl.onChange = s.localInterestChanged
	}
	s.setLocalConnectURLs()
	return nil
}

func randomName() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])
}

// ClusterAddr is the bound route listener address, nil without clustering.
func (s *Server) ClusterAddr() *net.TCPAddr {
	if s.cluster == nil {
		return nil
	}
	return s.cluster.ln.Addr().(*net.TCPAddr)
}

// ClusterName is the cluster's name ("" without clustering).
func (s *Server) ClusterName() string {
	if s.cluster == nil {
		return ""
	}
	s.cluster.mu.Lock()
	defer s.cluster.mu.Unlock()
	return s.cluster.name
}

// NumRoutes is the number of registered routes.
func (s *Server) NumRoutes() int {
	if s.cluster == nil {
		return 0
	}
	s.cluster.mu.Lock()
	defer s.cluster.mu.Unlock()
	return len(s.cluster.routes)
}

// startCluster starts the route accept loop and dials the seeds.
func (s *Server) startCluster() {
	cl := s.cluster
	if cl == nil {
		return
	}
	s.log.Info("listening for route connections", "addr", cl.ln.Addr().String(), "cluster", s.ClusterName())
	s.wg.Add(1)
	go s.routeAcceptLoop()
	for _, u := range cl.seeds {
		s.wg.Add(1)
		go s.solicitRoute(u, true, "")
	}
}

// stopCluster closes the route listener and every route.
func (s *Server) stopCluster() {
	cl := s.cluster
	if cl == nil {
		return
	}
	cl.mu.Lock()
	cl.closed = true
	conns := make([]*conn, 0, len(cl.routes)+len(cl.pending))
	for _, c := range cl.routes {
		conns = append(conns, c)
	}
	for c := range cl.pending {
		conns = append(conns, c)
	}
	cl.mu.Unlock()
	cl.cancel()
	cl.ln.Close()
	for _, c := range conns {
		c.closeConn(closeServerShutdown, true)
	}
}

func (s *Server) routeAcceptLoop() {
	defer s.wg.Done()
	backoff := 5 * time.Millisecond
	for {
		nc, err := s.cluster.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("route accept error", "err", err)
			if !sleepCtx(s.cluster.ctx, backoff) {
				return
			}
			backoff = min(backoff*2, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		s.newRoute(nc, nil, false)
	}
}

// solicitRoute dials u until a route to the server behind it is up, and
// again whenever that route goes away. Configured seeds are retried forever
// with exponential backoff; servers learned by gossip a few times.
func (s *Server) solicitRoute(u *url.URL, explicit bool, wantID string) {
	defer s.wg.Done()
	cl := s.cluster
	if wantID != "" {
		defer func() {
			cl.mu.Lock()
			delete(cl.dialing, wantID)
			cl.mu.Unlock()
		}()
	}
	o := &s.opts.Cluster
	delay := o.ConnectWait
	failures := 0
	d := net.Dialer{Timeout: routeDialTimeout}
	for {
		cl.mu.Lock()
		if cl.closed || cl.selfURLs[u.Host] {
			cl.mu.Unlock()
			return
		}
		id := wantID
		if id == "" {
			id = cl.urlIDs[u.Host]
		}
		_, connected := cl.routes[id]
		changed := cl.changed
		cl.mu.Unlock()
		if id != "" && connected {
			if !explicit {
				return // a route to that server exists: nothing to do
			}
			// Wait until some route goes away, then check again.
			select {
			case <-changed:
				continue
			case <-cl.ctx.Done():
				return
			}
		}
		nc, err := d.DialContext(cl.ctx, "tcp", u.Host)
		if err == nil {
			c := s.newRoute(nc, u, explicit)
			if c == nil {
				return
			}
			select {
			case <-c.done:
			case <-cl.ctx.Done():
				return
			}
			c.mu.Lock()
			registered, self := c.route.registered, c.route.self
			c.mu.Unlock()
			if self {
				return
			}
			if registered {
				delay, failures = o.ConnectWait, 0
				continue // check at once whether to reconnect
			}
			err = errors.New("route closed during handshake")
		}
		failures++
		if failures == 1 || failures%10 == 0 {
			s.log.Warn("route connect failed; retrying", "url", u.Redacted(), "attempt", failures, "err", err, "retry_in", delay)
		} else {
			s.log.Debug("route connect failed; retrying", "url", u.Redacted(), "attempt", failures, "err", err)
		}
		if !explicit && failures >= implicitRouteRetries {
			return
		}
		// Jitter so that two servers dialing each other do not stay in step.
		wait := delay/2 + mrand.N(delay/2+1)
		if !sleepCtx(cl.ctx, wait) {
			return
		}
		delay = min(delay*2, o.ConnectMax)
	}
}

// newRoute starts a route connection: a dialed one (u set) sends CONNECT
// then INFO, an accepted one INFO; both then wait for the peer's side.
func (s *Server) newRoute(nc net.Conn, u *url.URL, explicit bool) *conn {
	cl := s.cluster
	o := &s.opts.Cluster
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	if o.TLS != nil {
		if u != nil {
			cfg := o.TLS.Clone()
			if cfg.ServerName == "" {
				cfg.ServerName = u.Hostname()
			}
			nc = tls.Client(nc, cfg)
		} else {
			nc = tls.Server(nc, o.TLS)
		}
	}
	c := newConn(s, nc, s.nextCID.Add(1))
	c.route = &route{solicited: u != nil, explicit: explicit, url: u}
	c.route.rp.maxControl = int(s.opts.MaxControlLine)
	c.log = s.log.With("rid", c.cid, "remote", nc.RemoteAddr().String())

	cl.mu.Lock()
	info := s.routeInfoLocked()
	cl.mu.Unlock()
	var out []byte
	if u != nil {
		// CONNECT, INFO, then PING: the peer checks our CONNECT before it
		// answers PONG, so its PONG tells us we were accepted (routePong).
		out = s.routeConnectLine(u)
		out = append(out, routeInfoLine(&info)...)
		out = append(out, protoPing...)
	} else {
		out = routeInfoLine(&info)
	}
	c.out.write(out)
	c.pending = int64(len(out))
	// A peer that does not finish the handshake in time is dropped.
	c.route.handshake = time.AfterFunc(routeHandshakeTimeout(o), func() {
		c.mu.Lock()
		done := c.route.registered
		c.mu.Unlock()
		if !done {
			c.log.Warn("route handshake timed out")
			c.closeConn(closeAuthTimeout, true)
		}
	})

	cl.mu.Lock()
	if cl.closed {
		cl.mu.Unlock()
		c.route.handshake.Stop()
		nc.Close()
		return nil
	}
	if len(cl.routes)+len(cl.pending) >= o.MaxRoutes {
		cl.mu.Unlock()
		c.route.handshake.Stop()
		s.log.Warn("maximum routes exceeded; closing the new route", "max_routes", o.MaxRoutes, "remote", nc.RemoteAddr().String())
		nc.SetWriteDeadline(time.Now().Add(time.Second))
		nc.Write(errLine("maximum routes exceeded"))
		nc.Close()
		return nil
	}
	cl.pending[c] = struct{}{}
	s.wg.Add(2)
	cl.mu.Unlock()
	c.startRoutePings()
	go c.writeLoop()
	c.wake()
	go c.routeReadLoop()
	if u != nil {
		c.log.Debug("route connection dialed", "url", u.Redacted())
	} else {
		c.log.Debug("route connection accepted")
	}
	return c
}

func routeHandshakeTimeout(o *ClusterOptions) time.Duration {
	return max(2*o.AuthTimeout, 2*time.Second) + routeDialTimeout
}

// routeInfoLocked returns this server's route INFO. cluster.mu held.
func (s *Server) routeInfoLocked() routeInfoJSON {
	cl, o := s.cluster, &s.opts.Cluster
	addr := cl.ln.Addr().(*net.TCPAddr)
	info := routeInfoJSON{
		ID: s.id, Name: s.name, Version: ProtocolVersion, Proto: routeProto,
		GoVersion: runtime.Version(), Host: o.Host, Port: addr.Port, Headers: true,
		AuthRequired: o.Username != "", TLSRequired: o.TLS != nil, TLSVerify: o.TLS != nil,
		MaxPayload: s.opts.MaxPayload, IP: cl.routeIP, Cluster: cl.name, Dynamic: cl.dynamic,
		LameDuckMode: cl.ldm, NatsctlVersion: Version, JetStream: s.info.JetStream,
	}
	if o.Advertise != "" {
		info.Host, info.Port, _ = splitAdvertise(o.Advertise, addr.Port)
	}
	if !o.NoAdvertise && !cl.ldm {
		info.ConnectURLs = s.localURLs
	}
	return info
}

func routeInfoLine(info *routeInfoJSON) []byte {
	b, _ := json.Marshal(info)
	return append(append([]byte("INFO "), b...), "\r\n"...)
}

// routeConnectLine is the CONNECT for a route we dial: credentials from the
// URL, else this server's own cluster credentials (peers of one cluster
// usually share them, and gossiped URLs carry none).
func (s *Server) routeConnectLine(u *url.URL) []byte {
	o := &s.opts.Cluster
	s.cluster.mu.Lock()
	ci := routeConnectJSON{Echo: true, TLS: o.TLS != nil, Headers: true, Name: s.id, Cluster: s.cluster.name, Dynamic: s.cluster.dynamic}
	s.cluster.mu.Unlock()
	if u.User != nil {
		ci.User = u.User.Username()
		ci.Pass, _ = u.User.Password()
	} else if o.Username != "" {
		ci.User, ci.Pass = o.Username, o.Password
	}
	b, _ := json.Marshal(ci)
	return append(append([]byte("CONNECT "), b...), "\r\n"...)
}

// routeReadLoop reads and handles route operations until the route ends.
func (c *conn) routeReadLoop() {
	defer c.srv.wg.Done()
	buf := make([]byte, maxReadBuf)
	for {
		n, err := c.nc.Read(buf)
		if n > 0 {
			perr := c.route.rp.parse(buf[:n], c)
			c.flushBatch()
			c.waitStall()
			if perr != nil {
				c.routeFail(perr)
				return
			}
		}
		if err != nil {
			c.closeConn(closeReadError, false)
			return
		}
		if c.isClosed() {
			return
		}
	}
}

// routeFail ends a route after a protocol error; the clients are unaffected.
func (c *conn) routeFail(err error) {
	var pe *protoError
	if !errors.As(err, &pe) {
		pe = &protoError{reason: closeProtocolViolation}
	}
	c.log.Warn("route protocol error; closing the route", "err", err.Error())
	if pe.text != "" {
		c.enqueue(errLine(pe.text))
	}
	c.closeConn(pe.reason, true)
}

// startRoutePings arms the route keep-alive timer.
func (c *conn) startRoutePings() {
	c.mu.Lock()
	c.pingTimer = time.AfterFunc(c.srv.opts.Cluster.PingInterval, c.routePingTick)
	c.mu.Unlock()
}

// routePingTick sends a PING, or ends a route that left ping_max unanswered
// (a dead peer or a partition).
func (c *conn) routePingTick() {
	o := &c.srv.opts.Cluster
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if c.pingsOut >= o.PingMax {
		c.mu.Unlock()
		c.log.Warn("stale route: pings unanswered; closing it")
		c.enqueue(errLine(errStale))
		c.closeConn(closeStale, true)
		return
	}
	c.pingsOut++
	c.pingSent = time.Now()
	c.out.write(protoPing)
	c.pending += int64(len(protoPing))
	c.pingTimer.Reset(o.PingInterval)
	c.mu.Unlock()
	c.wake()
}

// Close reasons of routes, after the shared ones in closereason.go.
const (
	closeDuplicateRoute closeReason = 200 + iota
	closeClusterNameConflict
)

func routeCloseReasonString(r closeReason) string {
	switch r {
	case closeDuplicateRoute:
		return "Duplicate Route"
	case closeClusterNameConflict:
		return "Cluster Name Conflict"
	}
	return ""
}
