package client

import (
	"errors"
	"fmt"
)

// Errors returned by the client. Compare with errors.Is: most are wrapped with
// the detail that caused them.
var (
	ErrConnectionClosed     = errors.New("nats: connection closed")
	ErrConnectionDraining   = errors.New("nats: connection draining")
	ErrNoServers            = errors.New("nats: no servers available for connection")
	ErrTimeout              = errors.New("nats: timeout")
	ErrNoResponders         = errors.New("nats: no responders available for request")
	ErrBadSubject           = errors.New("nats: invalid subject")
	ErrBadQueueName         = errors.New("nats: invalid queue name")
	ErrBadHeader            = errors.New("nats: invalid header")
	ErrMaxPayload           = errors.New("nats: maximum payload exceeded")
	ErrReconnectBufExceeded = errors.New("nats: outbound buffer limit exceeded while reconnecting")
	ErrSlowConsumer         = errors.New("nats: slow consumer, messages dropped")
	ErrStaleConnection      = errors.New("nats: stale connection")
	ErrBadSubscription      = errors.New("nats: invalid subscription")
	ErrSyncSubRequired      = errors.New("nats: NextMsg is only for synchronous subscriptions")
	ErrAuthorization        = errors.New("nats: authorization violation")
	ErrHeadersNotSupported  = errors.New("nats: headers not supported by this server")
	ErrProtocol             = errors.New("nats: protocol error")
	ErrLameDuck             = errors.New("nats: server entered lame duck mode")
)

// Errors of connecting and stopping, beside those above.
var (
	// ErrConnectionReconnecting: Drain found no server to flush to.
	ErrConnectionReconnecting = errors.New("nats: connection reconnecting")
	// ErrInterruptedDisconnected: FlushBeforeExit was interrupted with no
	// server to confirm the last publishes.
	ErrInterruptedDisconnected = errors.New("interrupted while disconnected from the server")
	// ErrNoInfo: the server sent no INFO line (wrapped with why: a timeout,
	// EOF). A server that does TLS first sends nothing until TLS starts.
	ErrNoInfo = errors.New("nats: no INFO from the server")
	// ErrTLSFirstRefused: with TLSHandshakeFirst, the server answered the
	// TLS handshake in plain text; it expects TLS after INFO, or no TLS.
	ErrTLSFirstRefused = errors.New("nats: the server does not do TLS first (it sent plain text)")
)

// ServerError is an -ERR the server sent. Text is the message without the
// quotes, for example "Permissions Violation for Publish to foo".
type ServerError struct {
	Text string
}

func (e *ServerError) Error() string { return "nats: server error: " + e.Text }

// Is makes errors.Is(err, ErrAuthorization) and errors.Is(err,
// ErrStaleConnection) work for the corresponding server texts.
func (e *ServerError) Is(target error) bool {
	switch target {
	case ErrAuthorization:
		return containsFold(e.Text, "authorization violation") || containsFold(e.Text, "authentication")
	case ErrStaleConnection:
		return containsFold(e.Text, "stale connection")
	}
	return false
}

func (e *ServerError) permission() bool { return containsFold(e.Text, "permissions violation") }

// containsFold is strings.Contains ignoring ASCII case (the server's texts
// vary in case between versions).
func containsFold(s, sub string) bool {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		match := true
		for j := 0; j < n; j++ {
			if lower(s[i+j]) != lower(sub[j]) {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// dialError names the server that could not be reached.
type dialError struct {
	url string
	err error
}

func (e *dialError) Error() string { return fmt.Sprintf("%s: %v", e.url, e.err) }
func (e *dialError) Unwrap() error { return e.err }
