package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nkeys"
)

// Version is natsctl's own version, set by the command from its build info;
// it goes in INFO as natsctl_version.
var Version = "dev"

// Server is one NATS-compatible broker. Build it with New, run it with Start,
// stop it with Shutdown (or LameDuck).
type Server struct {
	opts Options
	id   string
	name string
	log  *slog.Logger
	ln   net.Listener
	accs atomic.Pointer[accountSet] // account.go; replaced whole on reload
	// fwdPool holds in-process connections that carry messages across
	// accounts (imports.go).
	fwdPool  sync.Pool
	sys      sysState       // the system account's requests and events (sysacc.go)
	op       *operatorState // operator mode (jwt.go); nil otherwise
	reloadMu sync.Mutex     // one Reload at a time (reload.go)
	start    time.Time
	info     serverInfo // template; per-connection fields filled on accept

	authp   atomic.Pointer[authenticator] // nil: no authentication (auth.go); swapped by Reload
	tlsConf *tls.Config                   // nil: no TLS (tls.go)

	mu      sync.Mutex
	conns   map[uint64]*conn
	running bool
	closing bool // Shutdown or lame duck started: no new connections
	ldm     bool

	nextCID  atomic.Uint64
	wg       sync.WaitGroup
	shutOnce sync.Once
	engOnce  sync.Once
	done     chan struct{} // closed when Shutdown completes

	stats struct {
		inMsgs, inBytes, outMsgs, outBytes atomic.Int64
		slowConsumers, totalConns          atomic.Int64
	}

	mon monitor // monitoring HTTP and its state (monitor_http.go)
	// Clustering (route*.go, cluster_urls.go); cluster is nil when off.
	cluster     *cluster
	localURLs   []string                 // this server's client URLs
	connectURLs atomic.Pointer[[]string] // connect_urls for client INFO
}

// New validates opts and binds the client listener, so that Addr is known
// before Start and a port in use fails here.
func New(opts Options) (*Server, error) {
	opts.setDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	auth, tlsConf, err := newSecurity(&opts)
	if err != nil {
		return nil, err
	}
	kp, err := nkeys.CreateServer()
	if err != nil {
		return nil, fmt.Errorf("create server identity: %w", err)
	}
	id, err := kp.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("create server identity: %w", err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port)))
	if err != nil {
		return nil, fmt.Errorf("listen for clients on %s:%d: %w", opts.Host, opts.Port, err)
	}
	s := &Server{
		opts:  opts,
		id:    id,
		name:  opts.ServerName,
		log:   opts.Logger,
		ln:    ln,
		conns: make(map[uint64]*conn),
		done:  make(chan struct{}),

		tlsConf: tlsConf,
	}
	s.authp.Store(auth)
	if s.name == "" {
		s.name = id
	}
	if err := s.initOperator(); err != nil {
		ln.Close()
		return nil, err
	}
	if s.op != nil && s.opts.SystemAccount == "" {
		s.opts.SystemAccount = s.op.systemAccount()
	}
	as, err := buildAccounts(&s.opts, nil)
	if err != nil {
		ln.Close()
		return nil, err
	}
	s.loadSystemClaims(as)
	s.accs.Store(as)
	s.fwdPool.New = func() any { return newInternalConn(s) }
	if err := s.listenMonitor(); err != nil {
		ln.Close()
		return nil, err
	}
	if err := s.newCluster(); err != nil {
		s.closeMonitor()
		ln.Close()
		return nil, err
	}
	s.adoptAccounts(as)
	s.info = serverInfo{
		ID:             id,
		Name:           s.name,
		Version:        ProtocolVersion,
		Proto:          1,
		GoVersion:      runtime.Version(),
		Host:           opts.Host,
		Port:           s.Addr().Port,
		Headers:        true,
		MaxPayload:     opts.MaxPayload,
		NatsctlVersion: Version,
	}
	s.info.AuthRequired, s.info.TLSRequired, s.info.TLSVerify = s.authn() != nil, tlsConf != nil, opts.TLS.verify()
	return s, nil
}

// Addr is the bound client address.
func (s *Server) Addr() *net.TCPAddr { return s.ln.Addr().(*net.TCPAddr) }

// ClientURL is a nats:// URL for the client listener.
func (s *Server) ClientURL() string { return "nats://" + s.Addr().String() }

// ID is the server's public nkey identity.
func (s *Server) ID() string { return s.id }

// Name is the server name (the ID unless configured).
func (s *Server) Name() string { return s.name }

// Start begins accepting clients in the background.
func (s *Server) Start() error {
	if err := s.startEngine(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return ErrServerClosed
	}
	if s.running {
		return nil
	}
	s.running, s.start = true, time.Now()
	s.startSystem()
	s.serveMonitor()
	s.wg.Add(1)
	go s.acceptLoop()
	s.log.Info("listening for client connections", "addr", s.Addr().String(), "server_id", s.id, "server_name", s.name)
	s.warnExposure()
	s.startCluster()
	return nil
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	backoff := 5 * time.Millisecond
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait and go on.
			s.log.Warn("accept error", "err", err)
			time.Sleep(backoff)
			backoff = min(backoff*2, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		s.accept(nc)
	}
}

// accept registers a new client, sends INFO and starts its goroutines.
func (s *Server) accept(nc net.Conn) {
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	c := newConn(s, nc, s.nextCID.Add(1))
	info := s.info
	info.ClientID, info.ClientIP = c.cid, c.host
	s.prepareSecurity(c, &info)
	s.mu.Lock()
	info.LameDuckMode = s.ldm
	if s.cluster != nil {
		c.infoURLs = s.connectURLs.Load()
		info.ConnectURLs, info.Cluster = *c.infoURLs, s.ClusterName()
	}
	if s.closing {
		s.mu.Unlock()
		nc.Close()
		return
	}
	if len(s.conns) >= s.opts.MaxConnections {
		s.mu.Unlock()
		// INFO first, then the error, as nats-server does.
		nc.SetWriteDeadline(time.Now().Add(time.Second))
		nc.Write(append(infoLine(&info), errLine(errMaxConnections)...))
		nc.Close()
		s.log.Warn("maximum connections exceeded", "max_connections", s.opts.MaxConnections, "remote", nc.RemoteAddr().String())
		return
	}
	s.conns[c.cid] = c
	c.acc.nconns.Add(1) // the global account until authentication (account.go)
	c.counted = true
	s.stats.totalConns.Add(1)
	s.wg.Add(2)
	s.mu.Unlock()

	il := infoLine(&info)
	c.out.write(il)
	c.pending = int64(len(il))
	c.startSecurity()
	c.log.Debug("client connected")
	c.startPings()
	go c.writeLoop()
	c.wake()
	go c.readLoop()
}

func (s *Server) removeConn(c *conn) {
	s.mu.Lock()
	delete(s.conns, c.cid)
	s.mu.Unlock()
}

// NumConns is the number of open client connections.
func (s *Server) NumConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// SlowConsumers counts connections cut off as slow consumers.
func (s *Server) SlowConsumers() int64 { return s.stats.slowConsumers.Load() }

// NumSubscriptions is the number of subscriptions of every account.
func (s *Server) NumSubscriptions() int { return s.numSubs() }

// snapshotConns returns the open connections.
func (s *Server) snapshotConns() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		out = append(out, c)
	}
	return out
}

// Shutdown stops accepting, flushes what is queued for each client, closes
// the connections and waits for every goroutine, or for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutOnce.Do(func() {
		s.mu.Lock()
		s.closing = true
		s.mu.Unlock()
		s.ln.Close()
		s.closeMonitor()
		s.stopSystem()
		s.stopCluster()
		for _, c := range s.snapshotConns() {
			c.closeConn(closeServerShutdown, true)
		}
		go func() {
			s.wg.Wait()
			s.stopEngine(context.Background())
			close(s.done)
		}()
	})
	select {
	case <-s.done:
		s.log.Info("server stopped")
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Done is closed once Shutdown has finished.
func (s *Server) Done() <-chan struct{} { return s.done }
