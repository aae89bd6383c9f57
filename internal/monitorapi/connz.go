package monitorapi

import "time"

// Connz is the /connz document: one page of client connections.
type Connz struct {
	ID       string      `json:"server_id"`
	Now      time.Time   `json:"now"`
	NumConns int         `json:"num_connections"` // len(Conns)
	Total    int         `json:"total"`           // matching connections before offset/limit
	Offset   int         `json:"offset"`
	Limit    int         `json:"limit"`
	Conns    []*ConnInfo `json:"connections"`
}

// ConnInfo describes one client connection. Direction: In* counts what the
// client sent to the server, Out* what the server sent to the client.
type ConnInfo struct {
	Cid            uint64      `json:"cid"`
	Kind           string      `json:"kind,omitempty"`
	Type           string      `json:"type,omitempty"`
	IP             string      `json:"ip"`
	Port           int         `json:"port"`
	Start          time.Time   `json:"start"`
	LastActivity   time.Time   `json:"last_activity"`
	Stop           *time.Time  `json:"stop,omitempty"`   // closed connections only
	Reason         string      `json:"reason,omitempty"` // closed connections only, e.g. ReasonSlowConsumerPendingBytes
	RTT            string      `json:"rtt,omitempty"`    // time.Duration.String(), e.g. "1.234ms"
	Uptime         string      `json:"uptime"`           // FormatUptime
	Idle           string      `json:"idle"`             // FormatUptime
	Pending        int         `json:"pending_bytes"`
	InMsgs         int64       `json:"in_msgs"`
	OutMsgs        int64       `json:"out_msgs"`
	InBytes        int64       `json:"in_bytes"`
	OutBytes       int64       `json:"out_bytes"`
	Stalls         int64       `json:"stalls,omitempty"`
	NumSubs        uint32      `json:"subscriptions"`
	Name           string      `json:"name,omitempty"`
	Lang           string      `json:"lang,omitempty"`
	Version        string      `json:"version,omitempty"`
	TLSVersion     string      `json:"tls_version,omitempty"`
	TLSCipher      string      `json:"tls_cipher_suite,omitempty"`
	AuthorizedUser string      `json:"authorized_user,omitempty"`
	Account        string      `json:"account,omitempty"`
	Subs           []string    `json:"subscriptions_list,omitempty"`        // subs=1
	SubsDetail     []SubDetail `json:"subscriptions_list_detail,omitempty"` // subs=detail

	// SlowConsumer is a natsctl extension: on a connection closed as a slow
	// consumer, the subscription whose messages held the most pending bytes
	// when it was cut off. nats-server has no such field.
	SlowConsumer *SlowConsumerSub `json:"natsctl_slow_consumer,omitempty"`
}

// SubDetail is one subscription, as in /connz?subs=detail and /subsz.
type SubDetail struct {
	Account    string `json:"account,omitempty"`
	AccountTag string `json:"account_tag,omitempty"`
	Subject    string `json:"subject"`
	Queue      string `json:"qgroup,omitempty"`
	Sid        string `json:"sid"`
	Msgs       int64  `json:"msgs"`
	Max        int64  `json:"max,omitempty"`
	Cid        uint64 `json:"cid"`
}

// SlowConsumerSub (natsctl extension) attributes a slow-consumer disconnect
// to the subscription that held the most of the connection's pending bytes.
type SlowConsumerSub struct {
	Subject      string `json:"subject"`
	Queue        string `json:"qgroup,omitempty"`
	Sid          string `json:"sid"`
	PendingBytes int64  `json:"pending_bytes"` // bytes of this subscription's messages not yet written
	PendingMsgs  int64  `json:"pending_msgs"`
	// MsgSubject is the published subject that held most of those bytes
	// (for a wildcard subscription, which of its subjects backed up).
	MsgSubject string `json:"msg_subject,omitempty"`
}

// Close reasons written in ConnInfo.Reason that readers match on; the
// texts are nats-server's.
const (
	ReasonClientClosed              = "Client Closed"
	ReasonSlowConsumerPendingBytes  = "Slow Consumer (Pending Bytes)"
	ReasonSlowConsumerWriteDeadline = "Slow Consumer (Write Deadline)"
	ReasonStaleConnection           = "Stale Connection"
)

// ConnState selects open, closed or all connections in /connz (`state=`).
type ConnState int

// Connection states, with nats-server's numbering.
const (
	ConnOpen ConnState = iota
	ConnClosed
	ConnAll
)
