package server

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Cluster defaults. Route pings are more frequent than client pings (as in
// nats-server, which caps them at 30 s) so that a dead peer is noticed soon.
const (
	DefaultRoutePingInterval = 30 * time.Second
	DefaultRouteConnectWait  = 250 * time.Millisecond // first retry delay
	DefaultRouteConnectMax   = 5 * time.Second        // backoff cap
	DefaultMaxRoutes         = 256
	DefaultRouteAuthTimeout  = 2 * time.Second
	implicitRouteRetries     = 8
)

// ClusterOptions configure the route listener and the routes (nats-server's
// `cluster { ... }` block). Port 0 means clustering is off; -1 picks a free
// port.
type ClusterOptions struct {
	Name      string   // cluster name; generated (and adopted from peers) when empty
	Host      string   // route listener address (default: the client Host)
	Port      int      // route listener port; 0 = no clustering, -1 = random
	Advertise string   // host[:port] peers should dial instead of the bound address
	Routes    []string // seeds: nats://[user:pass@]host:port
	// NoAdvertise keeps this server's client URLs out of route INFO and the
	// cluster's URLs out of the INFO sent to this server's clients.
	NoAdvertise bool
	Username    string // required of inbound routes, when set
	Password    string
	AuthTimeout time.Duration
	// TLS, when set, is required on the route listener and used to dial
	// peers (set ServerName/RootCAs for verification).
	TLS          *tls.Config
	PingInterval time.Duration
	PingMax      int
	ConnectWait  time.Duration // first reconnect delay; doubles up to ConnectMax
	ConnectMax   time.Duration
	MaxRoutes    int // most route connections at once (accepted and solicited)
}

// Enabled reports whether the server runs a route listener.
func (o *ClusterOptions) Enabled() bool { return o.Port != 0 }

func (o *ClusterOptions) setDefaults(clientHost string, pingMax int) {
	if o.Host == "" {
		o.Host = clientHost
	}
	if o.PingInterval == 0 {
		o.PingInterval = DefaultRoutePingInterval
	}
	if o.PingMax == 0 {
		o.PingMax = pingMax
	}
	if o.ConnectWait == 0 {
		o.ConnectWait = DefaultRouteConnectWait
	}
	if o.ConnectMax == 0 {
		o.ConnectMax = DefaultRouteConnectMax
	}
	if o.MaxRoutes == 0 {
		o.MaxRoutes = DefaultMaxRoutes
	}
	if o.AuthTimeout == 0 {
		o.AuthTimeout = DefaultRouteAuthTimeout
	}
}

func (o *ClusterOptions) validate() error {
	if !o.Enabled() {
		if len(o.Routes) > 0 {
			return fmt.Errorf("cluster.routes: seeds need a route listener: set cluster.port (or --cluster nats://host:port)")
		}
		return nil
	}
	switch {
	case o.Port < -1 || o.Port > 65535:
		return fmt.Errorf("cluster.port: %d is out of range (1-65535, or -1 for a random port)", o.Port)
	case strings.ContainsAny(o.Name, " \t\r\n"):
		return fmt.Errorf("cluster.name: %q must not contain spaces", o.Name)
	case o.PingInterval < 0 || o.PingMax < 0 || o.ConnectWait < 0 || o.ConnectMax < 0 || o.AuthTimeout < 0:
		return fmt.Errorf("cluster: ping_interval, ping_max, connect waits and auth_timeout must be positive")
	case o.MaxRoutes < 0:
		return fmt.Errorf("cluster.max_routes: %d must be positive", o.MaxRoutes)
	case o.Password != "" && o.Username == "":
		return fmt.Errorf("cluster.authorization: a password needs a user")
	}
	if o.Advertise != "" {
		if _, _, err := splitAdvertise(o.Advertise, 1); err != nil {
			return fmt.Errorf("cluster.advertise: %w", err)
		}
	}
	for _, r := range o.Routes {
		if _, err := parseRouteURL(r); err != nil {
			return fmt.Errorf("cluster.routes: %w", err)
		}
	}
	return nil
}

// parseRouteURL accepts nats://, nats-route:// and bare host:port seeds.
func parseRouteURL(s string) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		s = "nats-route://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("route %q: %w", s, err)
	}
	if u.Hostname() == "" || u.Port() == "" {
		return nil, fmt.Errorf("route %q: want nats://host:port", s)
	}
	if p, err := strconv.Atoi(u.Port()); err != nil || p <= 0 || p > 65535 {
		return nil, fmt.Errorf("route %q: bad port", s)
	}
	return u, nil
}

// splitAdvertise parses "host[:port]" (an advertise value); a missing port
// takes defPort.
func splitAdvertise(adv string, defPort int) (string, int, error) {
	adv = strings.TrimPrefix(strings.TrimPrefix(adv, "nats://"), "nats-route://")
	host, ps, err := net.SplitHostPort(adv)
	if err != nil {
		if strings.Contains(err.Error(), "missing port") {
			return adv, defPort, nil
		}
		return "", 0, fmt.Errorf("%q: want host[:port]", adv)
	}
	p, err := strconv.Atoi(ps)
	if err != nil || p <= 0 || p > 65535 {
		return "", 0, fmt.Errorf("%q: bad port", adv)
	}
	return host, p, nil
}
