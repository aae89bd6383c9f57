package server

import "errors"

// -ERR texts sent to clients, exactly as nats-server v2.15 sends them.
const (
	errUnknownOp       = "Unknown Protocol Operation"
	errMaxPayload      = "Maximum Payload Violation"
	errMaxControlLine  = "maximum control line exceeded"
	errInvalidPubSubj  = "Invalid Publish Subject"
	errInvalidSubject  = "Invalid Subject"
	errMaxConnections  = "maximum connections exceeded"
	errMaxSubs         = "maximum subscriptions exceeded"
	errStale           = "Stale Connection"
	errAuthTimeout     = "Authentication Timeout"
	errAuthViolation   = "Authorization Violation"
	errNoRespNoHeaders = "no responders requires headers support"

	// Permission violations keep the connection open (perms.go).
	errPubViolation      = `Permissions Violation for Publish to "%s"`
	errSubViolation      = `Permissions Violation for Subscription to "%s"`
	errSubQueueViolation = `Permissions Violation for Subscription to "%s" using queue "%s"`
)

// protoError is a protocol error that ends the connection: text (when not
// empty) is sent as -ERR first, reason is recorded as the close reason.
type protoError struct {
	text   string
	reason closeReason
}

func (e *protoError) Error() string {
	if e.text == "" {
		return e.reason.String()
	}
	return e.text
}

var (
	errParseUnknownOp   = &protoError{errUnknownOp, closeProtocolViolation}
	errParseMaxControl  = &protoError{errMaxControlLine, closeMaxControlLine}
	errParseMaxPayload  = &protoError{errMaxPayload, closeMaxPayload}
	errParseBadArgs     = &protoError{"", closeProtocolViolation} // nats-server closes without -ERR
	errParseClientError = &protoError{"", closeClientClosed}      // the client sent -ERR
	errParseBadConnect  = &protoError{"", closeProtocolViolation}
	errParseNoRespHdrs  = &protoError{errNoRespNoHeaders, closeProtocolViolation}
	// Failed authentication, or anything but CONNECT first when it is required.
	errParseAuthViolation = &protoError{errAuthViolation, closeAuthViolation}
)

// ErrServerClosed is returned by Start after Shutdown.
var ErrServerClosed = errors.New("server: closed")
