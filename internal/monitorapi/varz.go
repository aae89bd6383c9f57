package monitorapi

import "time"

// Varz is the /varz document: the server's identity, configuration summary
// and cumulative counters. It is the subset of nats-server's Varz that
// natsctl produces and reads, with nats-server's names and JSON types.
//
// Rates are not in /varz: a reader divides the difference of two counters by
// the difference of their Now (see natsctl top). Now must therefore advance
// on every request.
type Varz struct {
	ID                 string              `json:"server_id"`
	Name               string              `json:"server_name"`
	Version            string              `json:"version"`
	Proto              int                 `json:"proto"`
	GitCommit          string              `json:"git_commit,omitempty"`
	GoVersion          string              `json:"go"`
	Host               string              `json:"host"`
	Port               int                 `json:"port"`
	AuthRequired       bool                `json:"auth_required,omitempty"`
	TLSRequired        bool                `json:"tls_required,omitempty"`
	TLSVerify          bool                `json:"tls_verify,omitempty"`
	IP                 string              `json:"ip,omitempty"`
	ClientConnectURLs  []string            `json:"connect_urls,omitempty"`
	MaxConn            int                 `json:"max_connections"`
	MaxSubs            int                 `json:"max_subscriptions,omitempty"`
	PingInterval       time.Duration       `json:"ping_interval"` // integer nanoseconds
	MaxPingsOut        int                 `json:"ping_max"`
	HTTPHost           string              `json:"http_host"`
	HTTPPort           int                 `json:"http_port"`
	HTTPBasePath       string              `json:"http_base_path"`
	HTTPSPort          int                 `json:"https_port"`
	AuthTimeout        float64             `json:"auth_timeout"` // seconds
	MaxControlLine     int32               `json:"max_control_line"`
	MaxPayload         int                 `json:"max_payload"`
	MaxPending         int64               `json:"max_pending"`
	Cluster            ClusterOptsVarz     `json:"cluster"`
	Gateway            GatewayOptsVarz     `json:"gateway"`
	LeafNode           LeafNodeOptsVarz    `json:"leaf"`
	MQTT               MQTTOptsVarz        `json:"mqtt"`
	Websocket          WebsocketOptsVarz   `json:"websocket"`
	JetStream          JetStreamVarz       `json:"jetstream"`
	TLSTimeout         float64             `json:"tls_timeout"`    // seconds
	WriteDeadline      time.Duration       `json:"write_deadline"` // integer nanoseconds
	Start              time.Time           `json:"start"`
	Now                time.Time           `json:"now"`
	Uptime             string              `json:"uptime"` // FormatUptime(Now-Start)
	Mem                int64               `json:"mem"`    // resident set size, bytes
	Cores              int                 `json:"cores"`
	MaxProcs           int                 `json:"gomaxprocs"`
	MemLimit           int64               `json:"gomemlimit,omitempty"`
	CPU                float64             `json:"cpu"` // percent of one core
	Connections        int                 `json:"connections"`
	TotalConnections   uint64              `json:"total_connections"`
	Routes             int                 `json:"routes"`
	Remotes            int                 `json:"remotes"`
	Leafs              int                 `json:"leafnodes"`
	InMsgs             int64               `json:"in_msgs"`  // client->server, all connection kinds
	InBytes            int64               `json:"in_bytes"` //
	InClientMsgs       int64               `json:"in_client_msgs"`
	InClientBytes      int64               `json:"in_client_bytes"`
	OutMsgs            int64               `json:"out_msgs"` // server->client, all connection kinds
	OutBytes           int64               `json:"out_bytes"`
	OutClientMsgs      int64               `json:"out_client_msgs"`
	OutClientBytes     int64               `json:"out_client_bytes"`
	SlowConsumers      int64               `json:"slow_consumers"`
	StaleConnections   int64               `json:"stale_connections"`
	StalledClients     int64               `json:"stalled_clients"`
	Subscriptions      uint32              `json:"subscriptions"`
	HTTPReqStats       map[string]uint64   `json:"http_req_stats"`
	ConfigLoadTime     time.Time           `json:"config_load_time"`
	ConfigDigest       string              `json:"config_digest"`
	Tags               []string            `json:"tags,omitempty"`
	Metadata           map[string]string   `json:"metadata,omitempty"`
	SystemAccount      string              `json:"system_account,omitempty"`
	SlowConsumersStats *SlowConsumersStats `json:"slow_consumer_stats"`
}

// ClusterOptsVarz is /varz "cluster": the route listener's configuration.
type ClusterOptsVarz struct {
	Name          string        `json:"name,omitempty"`
	Host          string        `json:"addr,omitempty"`
	Port          int           `json:"cluster_port,omitempty"`
	AuthTimeout   float64       `json:"auth_timeout,omitempty"`
	URLs          []string      `json:"urls,omitempty"`
	TLSTimeout    float64       `json:"tls_timeout,omitempty"`
	TLSRequired   bool          `json:"tls_required,omitempty"`
	TLSVerify     bool          `json:"tls_verify,omitempty"`
	PoolSize      int           `json:"pool_size,omitempty"`
	WriteDeadline time.Duration `json:"write_deadline,omitempty"`
}

// GatewayOptsVarz is /varz "gateway". natsctl has no gateways; the object
// is still emitted (empty) because nats-server always emits it.
type GatewayOptsVarz struct {
	Name string `json:"name,omitempty"`
	Host string `json:"host,omitempty"`
	Port int    `json:"port,omitempty"`
}

// LeafNodeOptsVarz is /varz "leaf".
type LeafNodeOptsVarz struct {
	Host string `json:"host,omitempty"`
	Port int    `json:"port,omitempty"`
}

// MQTTOptsVarz is /varz "mqtt".
type MQTTOptsVarz struct {
	Host string `json:"host,omitempty"`
	Port int    `json:"port,omitempty"`
}

// WebsocketOptsVarz is /varz "websocket".
type WebsocketOptsVarz struct {
	Host string `json:"host,omitempty"`
	Port int    `json:"port,omitempty"`
}

// JetStreamVarz is /varz "jetstream"; both members are absent when
// streaming is off.
type JetStreamVarz struct {
	Config *JetStreamConfig `json:"config,omitempty"`
	Stats  *JetStreamStats  `json:"stats,omitempty"`
}

// SlowConsumersStats counts slow-consumer disconnects by connection kind.
type SlowConsumersStats struct {
	Clients  uint64 `json:"clients"`
	Routes   uint64 `json:"routes"`
	Gateways uint64 `json:"gateways"`
	Leafs    uint64 `json:"leafs"`
}
