package server

import (
	"fmt"
	"log/slog"
	"time"
)

// Defaults are nats-server's.
const (
	DefaultHost                = "127.0.0.1"
	DefaultPort                = 4222
	DefaultMaxPayload          = 1 << 20
	DefaultMaxControlLine      = 4096
	DefaultMaxPending          = 64 << 20
	DefaultWriteDeadline       = 10 * time.Second
	DefaultPingInterval        = 2 * time.Minute
	DefaultPingMax             = 2
	DefaultMaxConnections      = 64 * 1024
	DefaultAuthTimeout         = 2 * time.Second
	DefaultLameDuckDuration    = 2 * time.Minute
	DefaultLameDuckGracePeriod = 10 * time.Second
)

// Options configure a Server. The zero value of a field means its default;
// use DefaultOptions to see them filled in.
type Options struct {
	Host       string
	Port       int // 0 or -1: a random free port
	ServerName string

	// HTTPHost and HTTPPort are the monitoring listener (/varz, /connz, ...,
	// /metrics). HTTPPort 0 means no monitoring, -1 a random free port;
	// HTTPHost defaults to Host.
	HTTPHost string
	HTTPPort int

	MaxPayload       int32
	MaxControlLine   int32
	MaxPending       int64
	WriteDeadline    time.Duration
	PingInterval     time.Duration
	PingMax          int
	MaxConnections   int
	MaxSubscriptions int // per connection; 0 = unlimited
	AuthTimeout      time.Duration

	LameDuckDuration    time.Duration
	LameDuckGracePeriod time.Duration

	// Security: auth.go, perms.go, tls.go.
	Auth AuthOptions
	TLS  TLSOptions
	// RequireAuth refuses to start on a non-loopback address without
	// authentication (otherwise the server starts with a warning).
	RequireAuth bool
	// HTTPSPort serves monitoring over HTTPS with the TLS certificate
	// instead of HTTP (nats-server's https_port); -1 for a random port.
	HTTPSPort int
	// ClientAdvertise is the host[:port] put in connect_urls for this
	// server instead of its bound address (behind NAT, or bound to 0.0.0.0).
	ClientAdvertise string
	// Cluster configures routes to other servers (see ClusterOptions).
	Cluster ClusterOptions

	// Accounts (account.go, imports.go): each has its own subject space and
	// users. SystemAccount names the one for advisories and $SYS requests
	// (default "$SYS"); NoAuthUser is the user a client that presents no
	// credentials is taken to be.
	Accounts      []AccountOptions
	SystemAccount string
	NoAuthUser    string
	// Operators, when set, switch to operator mode (jwt.go): operator JWTs,
	// inline or as file paths, whose keys sign the account JWTs that
	// Resolver supplies; users connect with user JWTs (.creds files).
	Operators []string
	Resolver  ResolverOptions

	// Logger receives lifecycle logs at Info, connection events at Debug and
	// protocol traces (when Trace is set) at Debug. Nil discards.
	Logger *slog.Logger
	Trace  bool

	// Engine, when set, is started with the server (streaming); see Engine.
	Engine Engine

	// ConfigReload re-reads the configuration the server was started
	// with, for $SYS.REQ.SERVER.<id>.RELOAD (natscli's server config
	// reload), which then applies it like Reload. Nil: that request is
	// answered with an error.
	ConfigReload func() (Options, error)
}

// DefaultOptions returns Options with every default filled in.
func DefaultOptions() Options {
	o := Options{Host: DefaultHost, Port: DefaultPort}
	o.setDefaults()
	return o
}

func (o *Options) setDefaults() {
	if o.Host == "" {
		o.Host = DefaultHost
	}
	if o.Port < 0 {
		o.Port = 0
	}
	if o.HTTPHost == "" {
		o.HTTPHost = o.Host
	}
	if o.MaxPayload == 0 {
		o.MaxPayload = DefaultMaxPayload
	}
	if o.MaxControlLine == 0 {
		o.MaxControlLine = DefaultMaxControlLine
	}
	if o.MaxPending == 0 {
		o.MaxPending = DefaultMaxPending
	}
	if o.WriteDeadline == 0 {
		o.WriteDeadline = DefaultWriteDeadline
	}
	if o.PingInterval == 0 {
		o.PingInterval = DefaultPingInterval
	}
	if o.PingMax == 0 {
		o.PingMax = DefaultPingMax
	}
	if o.MaxConnections == 0 {
		o.MaxConnections = DefaultMaxConnections
	}
	if o.AuthTimeout == 0 {
		o.AuthTimeout = DefaultAuthTimeout
		if o.TLS.Enabled() { // nats-server: the TLS timeout plus a second
			o.AuthTimeout = o.TLS.timeout() + time.Second
		}
	}
	if o.LameDuckDuration == 0 {
		o.LameDuckDuration = DefaultLameDuckDuration
	}
	if o.LameDuckGracePeriod == 0 {
		o.LameDuckGracePeriod = DefaultLameDuckGracePeriod
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Cluster.setDefaults(o.Host, o.PingMax)
}

// validate reports the first option out of range, naming its config key.
func (o *Options) validate() error {
	switch {
	case o.Port > 65535:
		return fmt.Errorf("port: %d is out of range (0-65535, or -1 for a random port)", o.Port)
	case o.HTTPPort < -1 || o.HTTPPort > 65535:
		return fmt.Errorf("http_port: %d is out of range (0 for off, -1 for a random port, or 1-65535)", o.HTTPPort)
	case o.MaxPayload < 0:
		return fmt.Errorf("max_payload: %d must be positive", o.MaxPayload)
	case o.MaxControlLine < 0:
		return fmt.Errorf("max_control_line: %d must be positive", o.MaxControlLine)
	case o.MaxPending < 0:
		return fmt.Errorf("max_pending: %d must be positive", o.MaxPending)
	case int64(o.MaxPayload) > o.MaxPending:
		return fmt.Errorf("max_payload: %d cannot exceed max_pending (%d)", o.MaxPayload, o.MaxPending)
	case o.WriteDeadline < 0, o.PingInterval < 0, o.AuthTimeout < 0:
		return fmt.Errorf("write_deadline, ping_interval and auth_timeout must be positive durations")
	case o.PingMax < 0:
		return fmt.Errorf("ping_max: %d must be positive", o.PingMax)
	case o.MaxConnections < 0:
		return fmt.Errorf("max_connections: %d must be positive", o.MaxConnections)
	case o.MaxSubscriptions < 0:
		return fmt.Errorf("max_subscriptions: %d must be 0 (unlimited) or positive", o.MaxSubscriptions)
	}
	if o.ClientAdvertise != "" {
		if _, _, err := splitAdvertise(o.ClientAdvertise, 1); err != nil {
			return fmt.Errorf("client_advertise: %w", err)
		}
	}
	return o.Cluster.validate()
}
