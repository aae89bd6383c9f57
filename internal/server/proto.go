package server

import (
	"encoding/json"
	"strconv"
)

// ProtocolVersion is the nats-server version whose client-visible behaviour
// this server implements. Clients gate features on it (nats.go: headers from
// 2.2.0, the current consumer API from 2.9.0), so it is raised only as those
// features land, never to claim what we lack.
const ProtocolVersion = "2.2.0"

// serverInfo is the INFO JSON, in nats-server's field order.
type serverInfo struct {
	ID             string   `json:"server_id"`
	Name           string   `json:"server_name"`
	Version        string   `json:"version"`
	Proto          int      `json:"proto"`
	GoVersion      string   `json:"go"`
	Host           string   `json:"host"`
	Port           int      `json:"port"`
	Headers        bool     `json:"headers"`
	AuthRequired   bool     `json:"auth_required,omitempty"`
	TLSRequired    bool     `json:"tls_required,omitempty"`
	TLSVerify      bool     `json:"tls_verify,omitempty"`
	MaxPayload     int32    `json:"max_payload"`
	JetStream      bool     `json:"jetstream,omitempty"`
	ClientID       uint64   `json:"client_id,omitempty"`
	ClientIP       string   `json:"client_ip,omitempty"`
	Nonce          string   `json:"nonce,omitempty"`
	Cluster        string   `json:"cluster,omitempty"`
	ConnectURLs    []string `json:"connect_urls,omitempty"`
	LameDuckMode   bool     `json:"ldm,omitempty"`
	NatsctlVersion string   `json:"natsctl_version,omitempty"`
}

// infoLine renders "INFO {...} \r\n" (nats-server puts a space before CRLF).
func infoLine(info *serverInfo) []byte {
	b, _ := json.Marshal(info) // a struct of plain fields cannot fail
	out := make([]byte, 0, len(b)+8)
	out = append(out, "INFO "...)
	out = append(out, b...)
	return append(out, " \r\n"...)
}

// connectOpts are the CONNECT fields we act on. Absent fields take
// nats-server's defaults: verbose and pedantic true, echo true.
type connectOpts struct {
	Verbose      bool   `json:"verbose"`
	Pedantic     bool   `json:"pedantic"`
	Echo         bool   `json:"echo"`
	Headers      bool   `json:"headers"`
	NoResponders bool   `json:"no_responders"`
	Name         string `json:"name"`
	Lang         string `json:"lang"`
	Version      string `json:"version"`
	Protocol     int    `json:"protocol"`
	User         string `json:"user"`
	Pass         string `json:"pass"`
	Token        string `json:"auth_token"`
	Nkey         string `json:"nkey"`
	Sig          string `json:"sig"`
	JWT          string `json:"jwt"`
	TLSRequired  bool   `json:"tls_required"`
}

func defaultConnectOpts() connectOpts {
	return connectOpts{Verbose: true, Pedantic: true, Echo: true}
}

var (
	protoOK   = []byte("+OK\r\n")
	protoPing = []byte("PING\r\n")
	protoPong = []byte("PONG\r\n")
	crlf      = []byte("\r\n")
)

func errLine(text string) []byte {
	return []byte("-ERR '" + text + "'\r\n")
}

// appendMsgHeader appends "MSG subj sid [reply] size\r\n", or for headers
// "HMSG subj sid [reply] hdr size\r\n", to dst without allocating.
func appendMsgHeader(dst, subject []byte, sid string, reply []byte, hdr, size int) []byte {
	if hdr >= 0 {
		dst = append(dst, "HMSG "...)
	} else {
		dst = append(dst, "MSG "...)
	}
	dst = append(dst, subject...)
	dst = append(dst, ' ')
	dst = append(dst, sid...)
	dst = append(dst, ' ')
	if len(reply) > 0 {
		dst = append(dst, reply...)
		dst = append(dst, ' ')
	}
	if hdr >= 0 {
		dst = strconv.AppendInt(dst, int64(hdr), 10)
		dst = append(dst, ' ')
	}
	dst = strconv.AppendInt(dst, int64(size), 10)
	return append(dst, "\r\n"...)
}
