package client

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"time"
)

// server is one entry of the server pool.
type server struct {
	url       *url.URL
	implicit  bool // learned from INFO connect_urls, not configured
	didConn   bool
	failures  int // consecutive failed attempts
	lastTry   time.Time
	lameDuck  bool // announced shutdown: try others first
	tlsForced bool // tls:// scheme
}

func (s *server) String() string { return s.url.Redacted() }

// hostport is the dial address.
func (s *server) hostport() string { return s.url.Host }

// parseServerURL accepts nats://, tls://, bare host:port and bare host.
func parseServerURL(raw string) (*server, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, fmt.Errorf("empty server URL")
	}
	if !strings.Contains(raw, "://") {
		raw = "nats://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("bad server URL %q: %w", raw, err)
	}
	switch u.Scheme {
	case "nats", "tls":
	default:
		return nil, fmt.Errorf("bad server URL %q: scheme must be nats:// or tls://", raw)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("bad server URL %q: no host", raw)
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), "4222")
	}
	return &server{url: u, tlsForced: u.Scheme == "tls"}, nil
}

// splitServers splits comma-separated URL lists.
func splitServers(list []string) []string {
	var out []string
	for _, s := range list {
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// addImplicitLocked adds servers announced in INFO connect_urls. c.mu held.
func (c *Conn) addImplicitLocked(urls []string) {
	var added []*server
	for _, raw := range urls {
		s, err := parseServerURL(raw)
		if err != nil {
			continue
		}
		if c.cur != nil {
			// Announced servers share the cluster's scheme and credentials.
			if c.cur.url.Scheme == "tls" {
				s.url.Scheme = "tls"
				s.tlsForced = true
			}
			if s.url.User == nil {
				s.url.User = c.cur.url.User
			}
		}
		known := false
		for _, p := range c.pool {
			if p.hostport() == s.hostport() {
				known = true
				break
			}
		}
		if !known {
			s.implicit = true
			added = append(added, s)
		}
	}
	if len(added) > 1 && !c.opts.NoRandomize {
		rand.Shuffle(len(added), func(i, j int) { added[i], added[j] = added[j], added[i] })
	}
	c.pool = append(c.pool, added...)
}

// backoff is how long to wait after n consecutive failures of one server.
func (o *Options) backoff(n int) time.Duration {
	if n <= 0 {
		return 0
	}
	d := o.ReconnectWait << min(n-1, 3)
	if o.ReconnectJitter > 0 {
		d += rand.N(o.ReconnectJitter)
	}
	return d
}
