package client

import (
	"crypto/tls"
	"time"
)

// Defaults, matching nats.go's where it has one.
const (
	DefaultURL               = "nats://127.0.0.1:4222"
	DefaultTimeout           = 2 * time.Second
	DefaultPingInterval      = 2 * time.Minute
	DefaultMaxPingsOut       = 2
	DefaultMaxReconnects     = 60
	DefaultReconnectWait     = 2 * time.Second
	DefaultReconnectJitter   = 100 * time.Millisecond
	DefaultReconnectBufSize  = 8 << 20
	DefaultPendingMsgsLimit  = 512 * 1024
	DefaultPendingBytesLimit = 64 << 20
	// maxOutBuf is how much unsent data a publisher may queue before it waits
	// for the flusher: back-pressure instead of unbounded memory.
	maxOutBuf = 1 << 20
)

// Options configure a connection. The zero value (plus Servers) is usable:
// zero fields take the defaults above.
type Options struct {
	// Servers are URLs such as nats://user:pass@host:4222, tls://host:4222 or
	// host:port; the first that answers is used, the others (and those the
	// cluster announces) for failover. Default DefaultURL.
	Servers []string
	// Name is shown by the server in /connz.
	Name string

	// Credentials. URL user info overrides User/Password/Token for that URL.
	User, Password string
	Token          string
	NkeySeedFile   string // a file holding an nkey user seed (SU...)
	CredsFile      string // a .creds file: user JWT plus nkey seed

	// TLS: CA file to verify the server, client certificate and key, and the
	// name to verify (default: the URL's host). TLSConfig, when set, is used
	// as the base. TLS is used for tls:// URLs, when any of these are set, or
	// when the server requires it.
	TLSCAFile, TLSCertFile, TLSKeyFile string
	TLSServerName                      string
	TLSConfig                          *tls.Config
	// TLSHandshakeFirst starts TLS right after the TCP connect, before the
	// server's INFO, for servers configured with tls { handshake_first: true }
	// (nats.go's TLSHandshakeFirst). It implies TLS. Against a server that
	// sends INFO in plain text the handshake fails at once with
	// ErrTLSFirstRefused.
	TLSHandshakeFirst bool

	// Timeout bounds dialling plus the INFO/CONNECT handshake, per server.
	Timeout time.Duration
	// PingInterval is how often a keep-alive PING is sent; after MaxPingsOut
	// unanswered ones the connection is considered dead and is replaced.
	PingInterval time.Duration
	MaxPingsOut  int

	// NoReconnect disables automatic reconnection.
	NoReconnect bool
	// MaxReconnects is the number of failed attempts per server before it is
	// dropped from the list; negative means try forever.
	MaxReconnects int
	// ReconnectWait is the pause before retrying a server that just failed;
	// it doubles with each consecutive failure up to 8x, plus a random jitter
	// of up to ReconnectJitter so that clients do not reconnect in lockstep.
	ReconnectWait   time.Duration
	ReconnectJitter time.Duration
	// ReconnectBufSize bounds the bytes of publishes held while disconnected;
	// beyond it Publish fails with ErrReconnectBufExceeded. Negative: no
	// buffering, publishes fail at once while disconnected.
	ReconnectBufSize int
	// NoRandomize keeps the announced servers in their order.
	NoRandomize bool

	// PendingMsgsLimit and PendingBytesLimit bound each subscription's queue
	// of messages not yet handed to the application; beyond them messages are
	// dropped and ErrSlowConsumer is reported. Negative: no limit.
	PendingMsgsLimit  int
	PendingBytesLimit int

	// NoEcho asks the server not to deliver our own publishes to us.
	NoEcho bool

	// Callbacks, each run on one event goroutine in order, never with a lock
	// held. DisconnectedHandler gets the reason.
	DisconnectedHandler func(*Conn, error)
	ReconnectedHandler  func(*Conn)
	ClosedHandler       func(*Conn)
	// ErrorHandler gets asynchronous errors: slow consumers (sub set),
	// permission violations and other -ERRs from the server.
	ErrorHandler func(*Conn, *Subscription, error)
	// LameDuckHandler is called when the server announces it is shutting
	// down; the client then moves to another server by itself.
	LameDuckHandler func(*Conn)
}

func (o *Options) setDefaults() {
	if len(o.Servers) == 0 {
		o.Servers = []string{DefaultURL}
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.PingInterval <= 0 {
		o.PingInterval = DefaultPingInterval
	}
	if o.MaxPingsOut <= 0 {
		o.MaxPingsOut = DefaultMaxPingsOut
	}
	if o.MaxReconnects == 0 {
		o.MaxReconnects = DefaultMaxReconnects
	}
	if o.ReconnectWait <= 0 {
		o.ReconnectWait = DefaultReconnectWait
	}
	if o.ReconnectJitter < 0 {
		o.ReconnectJitter = 0
	} else if o.ReconnectJitter == 0 {
		o.ReconnectJitter = DefaultReconnectJitter
	}
	if o.ReconnectBufSize == 0 {
		o.ReconnectBufSize = DefaultReconnectBufSize
	}
	if o.PendingMsgsLimit == 0 {
		o.PendingMsgsLimit = DefaultPendingMsgsLimit
	}
	if o.PendingBytesLimit == 0 {
		o.PendingBytesLimit = DefaultPendingBytesLimit
	}
}
