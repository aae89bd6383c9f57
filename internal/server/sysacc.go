package server

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/natsctl/natsctl/internal/monitorapi"
)

// The system account (nats-server events.go): clients of the system account
// may send $SYS.REQ.SERVER.PING.<X> (every server answers) or
// $SYS.REQ.SERVER.<id>.<X> (this one) for X in VARZ, CONNZ, SUBSZ, ROUTEZ,
// ACCOUNTZ, JSZ, HEALTHZ, STATSZ, IDZ (and LEAFZ, GATEWAYZ, always empty;
// KICK closes a client, RELOAD re-reads the configuration); the reply is {"server":..,"data":..}
// with the same data as the monitoring endpoint (monitor.go builds both).
// The server publishes $SYS.ACCOUNT.<acc>.CONNECT / DISCONNECT advisories
// and a $SYS.SERVER.<id>.STATSZ heartbeat. Clients of other accounts see
// none of it: the subscriptions live in the system account's Sublist.
//
// Handlers run on the requester's read goroutine (in-process delivery), hold
// no lock while they publish, and build the documents from snapshots.

// Subjects of the system account.
const (
	sysPingPrefix   = "$SYS.REQ.SERVER.PING"
	sysServerPrefix = "$SYS.REQ.SERVER."
	statszInterval  = 10 * time.Second
)

// Event schema types, as nats-server names them.
const (
	connectEventType    = "io.nats.server.advisory.v1.client_connect"
	disconnectEventType = "io.nats.server.advisory.v1.client_disconnect"
)

// sysState is the server's system-account machinery.
type sysState struct {
	ic       *InternalClient
	seq      atomic.Uint64
	mu       sync.Mutex
	timer    *time.Timer // STATSZ heartbeat; nil once stopped
	interval time.Duration
}

// serverInfo is the "server" object of events and responses (nats-server
// ServerInfo).
type eventServerInfo struct {
	Name      string    `json:"name"`
	Host      string    `json:"host"`
	ID        string    `json:"id"`
	Cluster   string    `json:"cluster,omitempty"`
	Version   string    `json:"ver"`
	JetStream bool      `json:"jetstream"`
	Flags     uint64    `json:"flags"`
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
}

type apiError struct {
	Code        int    `json:"code"`
	Description string `json:"description,omitempty"`
}

// serverAPIResponse is nats-server's ServerAPIResponse envelope.
type serverAPIResponse struct {
	Server *eventServerInfo `json:"server"`
	Data   any              `json:"data,omitempty"`
	Error  *apiError        `json:"error,omitempty"`
}

// eventFilter is nats-server's EventFilterOptions: a request names the
// servers that should answer.
type eventFilter struct {
	Name       string   `json:"server_name,omitempty"`
	Cluster    string   `json:"cluster,omitempty"`
	Host       string   `json:"host,omitempty"`
	ExactMatch bool     `json:"exact_match,omitempty"`
	Tags       []string `json:"tags,omitempty"`
	Domain     string   `json:"domain,omitempty"`
}

// skip reports whether this server is filtered out.
func (f *eventFilter) skip(s *Server) bool {
	match := func(want, have string) bool {
		if want == "" {
			return true
		}
		if f.ExactMatch {
			return want == have
		}
		return strings.Contains(have, want)
	}
	return !match(f.Name, s.name) || !match(f.Host, s.opts.Host) || !match(f.Cluster, s.ClusterName()) ||
		len(f.Tags) > 0 || f.Domain != ""
}

func (s *Server) eventServer() *eventServerInfo {
	_, js := s.opts.Engine.(JSZProvider)
	si := &eventServerInfo{Name: s.name, Host: s.opts.Host, ID: s.id, Cluster: s.ClusterName(),
		Version: s.info.Version, JetStream: js, Seq: s.sys.seq.Add(1), Time: time.Now().UTC()}
	if js {
		si.Flags = 1
	}
	return si
}

// startSystem subscribes the system account's request handlers and starts
// the STATSZ heartbeat.
//
// Only a system account someone can log in to gets them (system_account
// set, an account named $SYS configured, or operator mode): otherwise
// nobody could send a request, and the server keeps no subscriptions of
// its own (its /subsz and route interest stay those of its clients).
func (s *Server) startSystem() {
	sys := s.SystemAccount()
	if sys == nil || !s.systemUsable() {
		return
	}
	s.sys.ic = s.newAccountInternalClient("$SYS", sys)
	_, _ = s.sys.ic.Subscribe(sysPingPrefix, "", s.sysRequest)
	_, _ = s.sys.ic.Subscribe(sysPingPrefix+".*", "", s.sysRequest)
	_, _ = s.sys.ic.Subscribe(sysServerPrefix+s.id+".*", "", s.sysRequest)
	_, _ = s.sys.ic.Subscribe("$SYS.REQ.ACCOUNT.*.CLAIMS.UPDATE", "", s.claimsUpdate)
	_, _ = s.sys.ic.Subscribe("$SYS.ACCOUNT.*.CLAIMS.UPDATE", "", s.claimsUpdate)
	s.sys.mu.Lock()
	if s.sys.interval == 0 {
		s.sys.interval = statszInterval
	}
	s.sys.timer = time.AfterFunc(0, s.statszTick)
	s.sys.mu.Unlock()
}

func (s *Server) systemUsable() bool {
	if s.opts.SystemAccount != "" || s.opts.operatorMode() {
		return true
	}
	for _, a := range s.opts.Accounts {
		if a.Name == systemAccount {
			return true
		}
	}
	return false
}

// stopSystem stops the heartbeat (Shutdown).
func (s *Server) stopSystem() {
	s.sys.mu.Lock()
	if s.sys.timer != nil {
		s.sys.timer.Stop()
		s.sys.timer = nil
	}
	s.sys.mu.Unlock()
}

func (s *Server) statszTick() {
	s.sendStatsz("$SYS.SERVER." + s.id + ".STATSZ")
	s.sys.mu.Lock()
	if s.sys.timer != nil {
		s.sys.timer.Reset(s.sys.interval)
	}
	s.sys.mu.Unlock()
}

func (s *Server) sendStatsz(subject string) {
	if ic := s.sys.ic; ic != nil && ic.HasInterest(subject) {
		s.sendStatszTo(subject)
	}
}

func (s *Server) sendStatszTo(subject string) {
	msg := struct {
		Server *eventServerInfo `json:"server"`
		Stats  any              `json:"statsz"`
	}{s.eventServer(), s.statsz()}
	b, err := json.Marshal(msg)
	if err == nil {
		_ = s.sys.ic.Publish(subject, "", nil, b)
	}
}

// sysPublish publishes v as JSON in the system account when anyone listens.
func (s *Server) sysPublish(subject string, v any) {
	ic := s.sys.ic
	if ic == nil || !ic.HasInterest(subject) {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		s.log.Warn("system event not encoded", "subject", subject, "err", err)
		return
	}
	_ = ic.Publish(subject, "", nil, b)
}

// dataStats is nats-server's DataStats.
type dataStats struct {
	Msgs  int64 `json:"msgs"`
	Bytes int64 `json:"bytes"`
}

// serverStats is the subset of nats-server's ServerStats natsctl fills.
type serverStats struct {
	Start               time.Time `json:"start"`
	Mem                 int64     `json:"mem"`
	Cores               int       `json:"cores"`
	CPU                 float64   `json:"cpu"`
	Connections         int       `json:"connections"`
	TotalConnections    uint64    `json:"total_connections"`
	ActiveAccounts      int       `json:"active_accounts"`
	NumSubs             uint32    `json:"subscriptions"`
	Sent                dataStats `json:"sent"`
	SentToClients       dataStats `json:"sent_to_clients"`
	Received            dataStats `json:"received"`
	ReceivedFromClients dataStats `json:"received_from_clients"`
	SlowConsumers       int64     `json:"slow_consumers"`
	MaxProcs            int       `json:"gomaxprocs,omitempty"`
}

func (s *Server) statsz() *serverStats {
	v := s.Varz()
	active := 0
	for _, a := range s.accs.Load().byName {
		if a.nconns.Load() > 0 {
			active++
		}
	}
	return &serverStats{
		Start: v.Start, Mem: v.Mem, Cores: v.Cores, CPU: v.CPU,
		Connections: v.Connections, TotalConnections: v.TotalConnections,
		ActiveAccounts: active, NumSubs: v.Subscriptions,
		Sent:                dataStats{v.OutMsgs, v.OutBytes},
		SentToClients:       dataStats{v.OutMsgs, v.OutBytes},
		Received:            dataStats{v.InMsgs, v.InBytes},
		ReceivedFromClients: dataStats{v.InMsgs, v.InBytes},
		SlowConsumers:       v.SlowConsumers, MaxProcs: v.MaxProcs,
	}
}

// sysRequest answers $SYS.REQ.SERVER.PING[.X] and $SYS.REQ.SERVER.<id>.X.
func (s *Server) sysRequest(subject, reply string, _, data []byte) {
	if reply == "" {
		return
	}
	kind := "STATSZ"
	if i := strings.LastIndexByte(subject, '.'); subject != sysPingPrefix && i >= 0 {
		kind = subject[i+1:]
	}
	var req struct {
		eventFilter
		// CONNZ
		Sort       string `json:"sort"`
		Auth       bool   `json:"auth"`
		Subs       bool   `json:"subscriptions"`
		SubsDetail bool   `json:"subscriptions_detail"`
		Offset     int    `json:"offset"`
		Limit      int    `json:"limit"`
		CID        uint64 `json:"cid"`
		State      int    `json:"state"`
		Acc        string `json:"acc"`
		// SUBSZ, ACCOUNTZ
		Test    string `json:"test"`
		Account string `json:"account"`
		// JSZ
		Accounts  bool `json:"accounts"`
		Streams   bool `json:"streams"`
		Consumers bool `json:"consumer"`
		Config    bool `json:"config"`
	}
	resp := serverAPIResponse{}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &req); err != nil {
			resp.Server = s.eventServer()
			resp.Error = &apiError{Code: 400, Description: err.Error()}
			s.sysReply(reply, &resp)
			return
		}
		if req.skip(s) {
			return
		}
	}
	var err error
	switch kind {
	case "STATSZ": // answered like the heartbeat: {"server":..,"statsz":..}
		s.sendStatszTo(reply)
		return
	case "VARZ":
		resp.Data = s.Varz()
	case "CONNZ":
		resp.Data, err = s.Connz(ConnzOptions{Sort: monitorapi.SortOpt(req.Sort), Subs: req.Subs, SubsDetail: req.SubsDetail,
			Offset: req.Offset, Limit: req.Limit, CID: req.CID, State: monitorapi.ConnState(req.State), Auth: req.Auth, Account: req.Acc})
	case "SUBSZ":
		resp.Data, err = s.Subsz(SubszOptions{Subs: req.Subs, Offset: req.Offset, Limit: req.Limit, Test: req.Test})
	case "ROUTEZ":
		resp.Data = s.Routez(RoutezOptions{Subs: req.Subs, SubsDetail: req.SubsDetail})
	case "ACCOUNTZ":
		resp.Data, err = s.Accountz(req.Account)
	case "JSZ":
		resp.Data = s.JSZ(JSZOptions{Account: req.Account, Accounts: req.Accounts, Streams: req.Streams,
			Consumers: req.Consumers, Config: req.Config, Offset: req.Offset, Limit: req.Limit})
	case "HEALTHZ":
		resp.Data = s.Healthz()
	case "IDZ":
		resp.Data = map[string]string{"server_id": s.id, "server_name": s.name}
	case "KICK":
		err = s.kick(data)
	case "RELOAD":
		err = s.reloadRequest()
	case "LEAFZ", "GATEWAYZ":
		// natsctl has neither: say so at once, as a nats-server without them
		// does, instead of leaving natscli's server report leafnodes and
		// gateways to wait out their timeout.
		resp.Data = noLinks(kind, s.id)
	default:
		return // a request this server does not serve
	}
	resp.Server = s.eventServer()
	if err != nil {
		code := 500
		if _, ok := err.(*badRequest); ok {
			code = 400
		}
		resp.Data, resp.Error = nil, &apiError{Code: code, Description: err.Error()}
	}
	s.sysReply(reply, &resp)
}

func (s *Server) sysReply(reply string, resp *serverAPIResponse) {
	b, err := json.Marshal(resp)
	if err != nil {
		s.log.Warn("system response not encoded", "err", err)
		return
	}
	_ = s.sys.ic.Publish(reply, "", nil, b)
}

// clientInfo is nats-server's ClientInfo in advisories.
type clientInfo struct {
	Start   *time.Time    `json:"start,omitempty"`
	Host    string        `json:"host,omitempty"`
	ID      uint64        `json:"id,omitempty"`
	Account string        `json:"acc,omitempty"`
	User    string        `json:"user,omitempty"`
	Name    string        `json:"name,omitempty"`
	Lang    string        `json:"lang,omitempty"`
	Version string        `json:"ver,omitempty"`
	RTT     time.Duration `json:"rtt,omitempty"`
	Server  string        `json:"server,omitempty"`
	Cluster string        `json:"cluster,omitempty"`
	Stop    *time.Time    `json:"stop,omitempty"`
	Jwt     string        `json:"jwt,omitempty"`
	Kind    string        `json:"kind,omitempty"`
	Type    string        `json:"client_type,omitempty"`
}

type typedEvent struct {
	Type string    `json:"type"`
	ID   string    `json:"id"`
	Time time.Time `json:"timestamp"`
}

func (c *conn) clientInfo(stop bool) clientInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	start := c.start.UTC()
	ci := clientInfo{Start: &start, Host: c.host, ID: c.cid, Account: c.acc.Name, User: c.sec.user,
		Name: c.name, Lang: c.lang, Version: c.version, RTT: c.rtt, Server: c.srv.name,
		Cluster: c.srv.ClusterName(), Kind: "Client", Type: "nats", Jwt: c.sec.jwt}
	if stop {
		st := c.stop.UTC()
		ci.Stop = &st
	}
	return ci
}

// connectAdvisory publishes $SYS.ACCOUNT.<acc>.CONNECT for a client that
// completed CONNECT.
func (s *Server) connectAdvisory(c *conn) {
	if s.sys.ic == nil || c.route != nil {
		return
	}
	c.advised.Store(true)
	ci := c.clientInfo(false)
	subj := "$SYS.ACCOUNT." + ci.Account + ".CONNECT"
	if !s.sys.ic.HasInterest(subj) {
		return
	}
	s.sysPublish(subj, struct {
		typedEvent
		Server *eventServerInfo `json:"server"`
		Client clientInfo       `json:"client"`
	}{typedEvent{connectEventType, string(newNonce()), time.Now().UTC()}, s.eventServer(), ci})
}

// disconnectAdvisory publishes $SYS.ACCOUNT.<acc>.DISCONNECT for a client
// that had been announced.
func (s *Server) disconnectAdvisory(c *conn, reason closeReason) {
	if s.sys.ic == nil || !c.advised.Load() {
		return
	}
	ci := c.clientInfo(true)
	subj := "$SYS.ACCOUNT." + ci.Account + ".DISCONNECT"
	if !s.sys.ic.HasInterest(subj) {
		return
	}
	c.mu.Lock()
	sent := dataStats{c.sent.msgs, c.sent.bytes}
	c.mu.Unlock()
	s.sysPublish(subj, struct {
		typedEvent
		Server   *eventServerInfo `json:"server"`
		Client   clientInfo       `json:"client"`
		Sent     dataStats        `json:"sent"`
		Received dataStats        `json:"received"`
		Reason   string           `json:"reason"`
	}{typedEvent{disconnectEventType, string(newNonce()), time.Now().UTC()}, s.eventServer(), ci,
		sent, dataStats{c.stats.inMsgs.Load(), c.stats.inBytes.Load()}, reason.String()})
}

// noLinks is nats-server's empty Leafz or Gatewayz document.
func noLinks(kind, id string) any {
	now := time.Now().UTC()
	if kind == "LEAFZ" {
		return struct {
			ID       string    `json:"server_id"`
			Now      time.Time `json:"now"`
			NumLeafs int       `json:"leafnodes"`
			Leafs    []any     `json:"leafs"`
		}{ID: id, Now: now, Leafs: []any{}}
	}
	return struct {
		ID       string         `json:"server_id"`
		Now      time.Time      `json:"now"`
		Outbound map[string]any `json:"outbound_gateways"`
		Inbound  map[string]any `json:"inbound_gateways"`
	}{ID: id, Now: now, Outbound: map[string]any{}, Inbound: map[string]any{}}
}

// errNoSuchClient is nats-server's answer to a KICK for an unknown id.
var errNoSuchClient = errors.New("no such client or leafnode id")

// kick closes the client named by {"cid": N} (nats-server's KICK request,
// natscli's server request kick).
func (s *Server) kick(data []byte) error {
	var req struct {
		CID uint64 `json:"cid"`
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return &badRequest{err.Error()}
	}
	s.mu.Lock()
	c := s.conns[req.CID]
	s.mu.Unlock()
	if c == nil || c.route != nil {
		return errNoSuchClient
	}
	c.closeConn(closeKicked, true)
	return nil
}

// errNoConfigReload answers RELOAD on a server started without
// Options.ConfigReload (embedded, tests).
var errNoConfigReload = errors.New("config reload is not available: this server was not started from a configuration")

// reloadRequest re-reads and applies the configuration (RELOAD), as
// SIGHUP does for natsctl serve.
func (s *Server) reloadRequest() error {
	if s.opts.ConfigReload == nil {
		return errNoConfigReload
	}
	o, err := s.opts.ConfigReload()
	if err == nil {
		err = s.Reload(o)
	}
	if err != nil {
		s.log.Error("config reload requested through the system account failed; the running configuration is unchanged", "err", err)
		return err
	}
	s.log.Info("config reloaded through the system account")
	return nil
}
