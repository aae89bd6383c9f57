package server

// closeReason records why a connection ended; /connz shows it.
type closeReason uint8

const (
	closeNone closeReason = iota
	closeClientClosed
	closeWriteError
	closeReadError
	closeSlowConsumerPending
	closeSlowConsumerDeadline
	closeStale
	closeProtocolViolation
	closeMaxControlLine
	closeMaxPayload
	closeMaxConnections
	closeAuthTimeout
	closeAuthViolation
	closeServerShutdown
	closeLameDuck
	closeTLSHandshake
	closeKicked // $SYS.REQ.SERVER.<id>.KICK (sysacc.go)
)

// String uses nats-server's ClosedState texts where it has one.
func (r closeReason) String() string {
	switch r {
	case closeClientClosed:
		return "Client Closed"
	case closeWriteError:
		return "Write Error"
	case closeReadError:
		return "Read Error"
	case closeSlowConsumerPending:
		return "Slow Consumer (Pending Bytes)"
	case closeSlowConsumerDeadline:
		return "Slow Consumer (Write Deadline)"
	case closeStale:
		return "Stale Connection"
	case closeProtocolViolation:
		return "Protocol Violation"
	case closeMaxControlLine:
		return "Maximum Control Line Exceeded"
	case closeMaxPayload:
		return "Maximum Message Payload Exceeded"
	case closeMaxConnections:
		return "Maximum Connections Exceeded"
	case closeAuthTimeout:
		return "Authentication Timeout"
	case closeAuthViolation:
		return "Authentication Failure"
	case closeServerShutdown:
		return "Server Shutdown"
	case closeLameDuck:
		return "Lame Duck Mode"
	case closeTLSHandshake:
		return "TLS Handshake Failure"
	case closeKicked:
		return "Kicked"
	}
	if s := accountCloseReasonString(r); s != "" {
		return s
	}
	return routeCloseReasonString(r)
}
