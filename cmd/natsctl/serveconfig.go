package main

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	natsconf "github.com/nats-io/nats-server/v2/conf"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/natsctl/natsctl/internal/server"
)

// serveConfig is everything `natsctl serve` is configured with.
type serveConfig struct {
	server.Options
	Debug   bool
	LogFile string
	PidFile string
	TLSFlag bool          // --tls: TLS must be on (a certificate is required)
	cluster clusterConfig // raw cluster values, applied by finishCluster

	// Streaming (servejs.go).
	JetStream    bool
	StoreDir     string
	MaxMemStore  int64
	MaxFileStore int64
	SyncInterval string
}

type optKind int

const (
	kindString optKind = iota
	kindInt
	kindSize     // bytes: an integer or "64KB", "1MB", "1GB"
	kindDuration // a Go duration ("2m") or a bare integer of seconds
	kindBool
	kindRaw // structured config only (or JSON in the environment): decode does the work
)

// optSpec describes one server option: its config key (nats-server's name,
// also NATSCTL_<KEY> in the environment), its flag, default and range.
type optSpec struct {
	key     string
	aliases []string // other config keys nats-server accepts for it
	flag    string
	short   string
	kind    optKind
	def     string
	min     int64 // for ints, sizes and durations (in ns)
	max     int64
	usage   string
	set     func(c *serveConfig, v any)
	decode  func(raw any) (any, error) // kindRaw
}

// serveSpecs is the single list of server options: flags, config keys,
// environment variables and docs/configuration.md all come from it.
var serveSpecs = []optSpec{
	{key: "host", aliases: []string{"net", "addr"}, flag: "addr", short: "a", kind: kindString, def: server.DefaultHost,
		usage: "address to listen on for clients", set: func(c *serveConfig, v any) { c.Host = v.(string) }},
	{key: "port", flag: "port", short: "p", kind: kindInt, def: "4222", min: -1, max: 65535,
		usage: "port for clients (-1 or 0: a random free port)", set: func(c *serveConfig, v any) { c.Port = int(v.(int64)) }},
	{key: "http_port", aliases: []string{"monitor_port"}, flag: "http_port", short: "m", kind: kindInt, def: "8222", min: -1, max: 65535,
		usage: "port for monitoring over HTTP (/varz, /connz, /metrics, ...; 0: off, -1: a random free port)", set: func(c *serveConfig, v any) { c.HTTPPort = int(v.(int64)) }},
	{key: "http_host", flag: "http_host", kind: kindString,
		usage: "address for monitoring (default: the client address)", set: func(c *serveConfig, v any) { c.HTTPHost = v.(string) }},
	{key: "server_name", aliases: []string{"name"}, flag: "name", short: "n", kind: kindString,
		usage: "server name (default: the server ID)", set: func(c *serveConfig, v any) { c.ServerName = v.(string) }},
	{key: "max_payload", flag: "max_payload", kind: kindSize, def: "1MB", min: 1, max: 64 << 20,
		usage: "largest message payload accepted", set: func(c *serveConfig, v any) { c.MaxPayload = int32(v.(int64)) }},
	{key: "max_control_line", flag: "max_control_line", kind: kindSize, def: "4KB", min: 32, max: 1 << 20,
		usage: "longest protocol line accepted", set: func(c *serveConfig, v any) { c.MaxControlLine = int32(v.(int64)) }},
	{key: "max_pending", flag: "max_pending", kind: kindSize, def: "64MB", min: 1, max: math.MaxInt64,
		usage: "bytes queued for a client before it is cut off as a slow consumer", set: func(c *serveConfig, v any) { c.MaxPending = v.(int64) }},
	{key: "write_deadline", flag: "write_deadline", kind: kindDuration, def: "10s", min: int64(time.Millisecond), max: math.MaxInt64,
		usage: "longest a write to a client may block before it is a slow consumer", set: func(c *serveConfig, v any) { c.WriteDeadline = time.Duration(v.(int64)) }},
	{key: "ping_interval", flag: "ping_interval", kind: kindDuration, def: "2m", min: int64(time.Millisecond), max: math.MaxInt64,
		usage: "interval between server PINGs to each client", set: func(c *serveConfig, v any) { c.PingInterval = time.Duration(v.(int64)) }},
	{key: "ping_max", flag: "ping_max", kind: kindInt, def: "2", min: 1, max: 1 << 20,
		usage: "unanswered PINGs before a client is stale and closed", set: func(c *serveConfig, v any) { c.PingMax = int(v.(int64)) }},
	{key: "max_connections", aliases: []string{"max_conn"}, flag: "max_connections", kind: kindInt, def: "65536", min: 1, max: math.MaxInt32,
		usage: "most client connections at once", set: func(c *serveConfig, v any) { c.MaxConnections = int(v.(int64)) }},
	{key: "max_subscriptions", aliases: []string{"max_subs"}, flag: "max_subscriptions", kind: kindInt, def: "0", min: 0, max: math.MaxInt32,
		usage: "most subscriptions per connection (0: unlimited)", set: func(c *serveConfig, v any) { c.MaxSubscriptions = int(v.(int64)) }},
	{key: "lame_duck_duration", flag: "lame_duck_duration", kind: kindDuration, def: "2m", min: int64(time.Millisecond), max: math.MaxInt64,
		usage: "time over which lame duck mode closes clients", set: func(c *serveConfig, v any) { c.LameDuckDuration = time.Duration(v.(int64)) }},
	{key: "lame_duck_grace_period", flag: "lame_duck_grace_period", kind: kindDuration, def: "10s", min: 0, max: math.MaxInt64,
		usage: "wait before lame duck mode starts closing clients", set: func(c *serveConfig, v any) { c.LameDuckGracePeriod = time.Duration(v.(int64)) }},
	{key: "debug", flag: "debug", short: "D", kind: kindBool, def: "false",
		usage: "log debug messages (connections)", set: func(c *serveConfig, v any) { c.Debug = v.(bool) }},
	{key: "trace", flag: "trace", short: "V", kind: kindBool, def: "false",
		usage: "trace the raw protocol", set: func(c *serveConfig, v any) { c.Trace = v.(bool) }},
	{key: "log_file", aliases: []string{"logfile"}, flag: "log", short: "l", kind: kindString,
		usage: "log to this file instead of stderr", set: func(c *serveConfig, v any) { c.LogFile = v.(string) }},
	{key: "pid_file", flag: "pid", short: "P", kind: kindString,
		usage: "write the process ID to this file (used by --signal)", set: func(c *serveConfig, v any) { c.PidFile = v.(string) }},

	// Security (serveauth.go; docs/security.md). Keys with a dot live in a
	// block of the config file: authorization { user: a, password: b }.
	{key: "authorization.user", aliases: []string{"authorization.username"}, flag: "user", kind: kindString,
		usage: "user required for connections (with --pass)", set: func(c *serveConfig, v any) { c.Auth.Username = v.(string) }},
	{key: "authorization.password", aliases: []string{"authorization.pass"}, flag: "pass", kind: kindString,
		usage: "password required for connections (plain or bcrypt: natsctl hashes are $2a$...)", set: func(c *serveConfig, v any) { c.Auth.Password = v.(string) }},
	{key: "authorization.token", flag: "auth", kind: kindString,
		usage: "token required for connections (plain or bcrypt)", set: func(c *serveConfig, v any) { c.Auth.Token = v.(string) }},
	{key: "authorization.timeout", flag: "auth_timeout", kind: kindDuration, def: "0", min: 0, max: math.MaxInt64,
		usage: "time a client has to authenticate (default 2s, or the TLS timeout plus 1s)", set: func(c *serveConfig, v any) { c.AuthTimeout = time.Duration(v.(int64)) }},
	{key: "authorization.users", kind: kindRaw, decode: decodeUsers,
		usage: "users with passwords, nkeys and permissions (config file only)", set: func(c *serveConfig, v any) { c.Auth.Users = v.([]server.User) }},
	{key: "authorization.default_permissions", aliases: []string{"authorization.default_perms"}, kind: kindRaw, decode: decodePermissionsOpt,
		usage: "permissions of users that have none (config file only)", set: func(c *serveConfig, v any) { c.Auth.DefaultPermissions = v.(*server.Permissions) }},
	// Accounts (serveaccounts.go): nats-server's accounts block.
	{key: "accounts", kind: kindRaw, decode: decodeAccounts,
		usage: "accounts with their users, exports, imports and limits (config file only)", set: func(c *serveConfig, v any) { c.Accounts = v.([]server.AccountOptions) }},
	{key: "system_account", flag: "system_account", kind: kindString,
		usage: "account for advisories and $SYS requests (default $SYS)", set: func(c *serveConfig, v any) { c.SystemAccount = v.(string) }},
	{key: "operator", aliases: []string{"operators"}, kind: kindRaw, decode: decodeOperators,
		usage: "operator JWT (file or inline; a list for several): operator mode, users connect with .creds", set: func(c *serveConfig, v any) { c.Operators = v.([]string) }},
	{key: "resolver", kind: kindRaw, decode: decodeResolver,
		usage: "where account JWTs come from in operator mode: MEMORY or { type: full, dir: ... }", set: func(c *serveConfig, v any) {
			r := v.(server.ResolverOptions)
			c.Resolver.Type, c.Resolver.Dir = r.Type, r.Dir
		}},
	{key: "resolver_preload", kind: kindRaw, decode: decodePreload,
		usage: "account JWTs by account public key, for the resolver", set: func(c *serveConfig, v any) { c.Resolver.Preload = v.(map[string]string) }},
	{key: "no_auth_user", flag: "no_auth_user", kind: kindString,
		usage: "user a client that presents no credentials is taken to be", set: func(c *serveConfig, v any) { c.NoAuthUser = v.(string) }},
	{key: "require_auth", flag: "require_auth", kind: kindBool, def: "false",
		usage: "refuse to start on a non-loopback address without authentication", set: func(c *serveConfig, v any) { c.RequireAuth = v.(bool) }},
	{key: "https_port", flag: "https_port", kind: kindInt, def: "0", min: -1, max: 65535,
		usage: "serve monitoring over HTTPS on this port with the TLS certificate, instead of http_port", set: func(c *serveConfig, v any) { c.HTTPSPort = int(v.(int64)) }},
	{key: "tls", flag: "tls", kind: kindBool, def: "false",
		usage: "enable TLS (needs --tlscert and --tlskey)", set: func(c *serveConfig, v any) { c.TLSFlag = v.(bool) }},
	{key: "tls.cert_file", flag: "tlscert", kind: kindString,
		usage: "server certificate (PEM)", set: func(c *serveConfig, v any) { c.TLS.CertFile = v.(string) }},
	{key: "tls.key_file", flag: "tlskey", kind: kindString,
		usage: "server certificate's private key (PEM)", set: func(c *serveConfig, v any) { c.TLS.KeyFile = v.(string) }},
	{key: "tls.ca_file", flag: "tlscacert", kind: kindString,
		usage: "CA certificates that sign client certificates (PEM)", set: func(c *serveConfig, v any) { c.TLS.CAFile = v.(string) }},
	{key: "tls.verify", flag: "tlsverify", kind: kindBool, def: "false",
		usage: "require client certificates signed by --tlscacert (mutual TLS)", set: func(c *serveConfig, v any) { c.TLS.Verify = v.(bool) }},
	{key: "tls.verify_and_map", kind: kindBool, def: "false",
		usage: "require client certificates and use their subject/e-mail/DNS name as the user (config file only)", set: func(c *serveConfig, v any) { c.TLS.VerifyAndMap = v.(bool) }},
	{key: "tls.min_version", kind: kindString,
		usage: "lowest TLS version accepted: 1.2 (default) or 1.3", set: func(c *serveConfig, v any) { c.TLS.MinVersion = v.(string) }},
	{key: "tls.handshake_first", aliases: []string{"tls.first"}, kind: kindBool, def: "false",
		usage: "start TLS before INFO (clients use nats.TLSHandshakeFirst())", set: func(c *serveConfig, v any) { c.TLS.HandshakeFirst = v.(bool) }},
	{key: "tls.timeout", kind: kindDuration, def: "0", min: 0, max: math.MaxInt64,
		usage: "TLS handshake timeout (default 2s)", set: func(c *serveConfig, v any) { c.TLS.Timeout = time.Duration(v.(int64)) }},
	{key: "client_advertise", flag: "client_advertise", kind: kindString,
		usage: "host[:port] advertised to clients in connect_urls instead of the bound address", set: func(c *serveConfig, v any) { c.ClientAdvertise = v.(string) }},
	// Clustering: the keys of nats-server's cluster { ... } block, flattened
	// by flattenClusterBlock (cluster.name -> cluster_name, ...).
	{key: "cluster_name", flag: "cluster_name", kind: kindString,
		usage: "cluster name; every server of a cluster needs the same one", set: func(c *serveConfig, v any) { c.Cluster.Name = v.(string) }},
	{key: "cluster", flag: "cluster", kind: kindString,
		usage: "route listener URL, nats://host:port (port -1: a random port); enables clustering", set: func(c *serveConfig, v any) { c.cluster.listen = v.(string) }},
	{key: "routes", flag: "routes", kind: kindString,
		usage: "comma-separated seed routes, nats://[user:pass@]host:port", set: func(c *serveConfig, v any) { c.cluster.routes = v.(string) }},
	{key: "cluster_advertise", flag: "cluster_advertise", kind: kindString,
		usage: "host[:port] advertised to other servers for routes", set: func(c *serveConfig, v any) { c.Cluster.Advertise = v.(string) }},
	{key: "no_advertise", flag: "no_advertise", kind: kindBool, def: "false",
		usage: "do not advertise this server's and the cluster's client URLs to clients", set: func(c *serveConfig, v any) { c.Cluster.NoAdvertise = v.(bool) }},
	{key: "cluster_user", flag: "cluster_user", kind: kindString,
		usage: "user required of routes (and sent to seeds without credentials)", set: func(c *serveConfig, v any) { c.Cluster.Username = v.(string) }},
	{key: "cluster_password", flag: "cluster_password", kind: kindString,
		usage: "password required of routes", set: func(c *serveConfig, v any) { c.Cluster.Password = v.(string) }},
	{key: "cluster_auth_timeout", flag: "cluster_auth_timeout", kind: kindDuration, def: "2s", min: int64(time.Millisecond), max: math.MaxInt64,
		usage: "time a route has to authenticate", set: func(c *serveConfig, v any) { c.Cluster.AuthTimeout = time.Duration(v.(int64)) }},
	{key: "cluster_ping_interval", flag: "cluster_ping_interval", kind: kindDuration, def: "30s", min: int64(time.Millisecond), max: math.MaxInt64,
		usage: "interval between PINGs on routes (a dead peer is dropped after ping_max)", set: func(c *serveConfig, v any) { c.Cluster.PingInterval = time.Duration(v.(int64)) }},
	{key: "cluster_max_routes", flag: "cluster_max_routes", kind: kindInt, def: "256", min: 1, max: 1 << 16,
		usage: "most route connections at once", set: func(c *serveConfig, v any) { c.Cluster.MaxRoutes = int(v.(int64)) }},
	{key: "cluster_connect_backoff_max", flag: "cluster_connect_backoff_max", kind: kindDuration, def: "5s", min: int64(time.Millisecond), max: math.MaxInt64,
		usage: "longest wait between attempts to reach a route peer", set: func(c *serveConfig, v any) { c.Cluster.ConnectMax = time.Duration(v.(int64)) }},
	{key: "cluster_tls_cert", flag: "cluster_tls_cert", kind: kindString,
		usage: "route TLS certificate file (enables TLS on routes)", set: func(c *serveConfig, v any) { c.cluster.tlsCert = v.(string) }},
	{key: "cluster_tls_key", flag: "cluster_tls_key", kind: kindString,
		usage: "route TLS key file", set: func(c *serveConfig, v any) { c.cluster.tlsKey = v.(string) }},
	{key: "cluster_tls_ca", flag: "cluster_tls_ca", kind: kindString,
		usage: "CA file to verify route peers (both directions)", set: func(c *serveConfig, v any) { c.cluster.tlsCA = v.(string) }},
	{key: "jetstream", flag: "jetstream", short: "j", kind: kindBool, def: "true",
		usage: "enable persistent streams (JetStream API); --jetstream=false turns them off", set: func(c *serveConfig, v any) { c.JetStream = v.(bool) }},
	{key: "store_dir", aliases: []string{"storedir"}, flag: "store_dir", kind: kindString,
		usage: "directory for streams (default: one per client port under the user's data directory)", set: func(c *serveConfig, v any) { c.StoreDir = v.(string) }},
	{key: "max_memory_store", aliases: []string{"max_mem_store", "max_mem"}, flag: "max_memory_store", kind: kindSize, min: -1, max: math.MaxInt64,
		usage: "most bytes held by memory streams (default: unlimited)", set: func(c *serveConfig, v any) { c.MaxMemStore = v.(int64) }},
	{key: "max_file_store", aliases: []string{"max_file"}, flag: "max_file_store", kind: kindSize, min: -1, max: math.MaxInt64,
		usage: "most bytes held by file streams (default: unlimited)", set: func(c *serveConfig, v any) { c.MaxFileStore = v.(int64) }},
	{key: "sync_interval", flag: "sync_interval", kind: kindString, def: "always",
		usage: "\"always\": fsync before each publish ack (group commit, survives power loss); a duration such as 2m: fsync in the background like nats-server (a power cut loses up to that much)",
		set:   func(c *serveConfig, v any) { c.SyncInterval = v.(string) }},
}

// addServeFlags registers one flag per spec. Values are kept as strings and
// parsed with the config values, so every source gets the same checks.
func addServeFlags(f *pflag.FlagSet) {
	for _, s := range serveSpecs {
		if s.flag == "" {
			continue // config file and environment only
		}
		if s.kind == kindBool {
			f.BoolP(s.flag, s.short, s.def == "true", s.usage)
			continue
		}
		usage, typ := s.usage, "string"
		switch s.kind {
		case kindInt:
			typ = "int"
		case kindDuration:
			usage, typ = usage+" (a duration such as 2m, or seconds)", "duration"
		case kindSize:
			usage, typ = usage+" (bytes, or with KB/MB/GB)", "size"
		}
		f.VarP(&rawValue{s: s.def, typ: typ}, s.flag, s.short, usage)
	}
}

// rawValue holds a flag's text until loadServeConfig parses it with the
// same checks as config and environment values.
type rawValue struct{ s, typ string }

func (v *rawValue) String() string     { return v.s }
func (v *rawValue) Set(s string) error { v.s = s; return nil }
func (v *rawValue) Type() string       { return v.typ }

// loadServeConfig resolves every option: a flag set on the command line wins,
// then NATSCTL_<KEY> from getenv, then the config file, then the default.
func loadServeConfig(f *pflag.FlagSet, file string, getenv func(string) string) (*serveConfig, error) {
	fileVals := map[string]any{}
	if file != "" {
		var err error
		if fileVals, err = readConfigFile(file); err != nil {
			return nil, err
		}
		if fileVals, err = flattenJetStreamBlock(fileVals, file); err != nil {
			return nil, err
		}
		if err := flattenBlocks(fileVals); err != nil {
			return nil, fmt.Errorf("config %s: %w", file, err)
		}
	}
	known := map[string]*optSpec{}
	for i := range serveSpecs {
		s := &serveSpecs[i]
		known[s.key] = s
		for _, a := range s.aliases {
			known[a] = s
		}
	}
	for k := range fileVals {
		if known[strings.ToLower(k)] == nil {
			return nil, fmt.Errorf("config %s: option %q is not supported by natsctl serve (yet); remove it or see docs/configuration.md", file, k)
		}
	}
	c := &serveConfig{}
	for i := range serveSpecs {
		s := &serveSpecs[i]
		raw, src := any(s.def), "default"
		for k, v := range fileVals {
			if known[strings.ToLower(k)] == s {
				raw, src = v, "config "+file
			}
		}
		if e := getenv(envName(s.key)); e != "" {
			raw, src = e, "environment "+envName(s.key)
		}
		if fl := f.Lookup(s.flag); fl != nil && fl.Changed {
			raw, src = fl.Value.String(), "flag --"+s.flag
		}
		if s.kind != kindString && s.kind != kindBool && raw == "" {
			continue
		}
		v, err := s.parse(raw)
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", s.key, src, err)
		}
		s.set(c, v)
		if src != "default" {
			c.cluster.explicit = append(c.cluster.explicit, s.key)
		}
	}
	if err := finishSecurity(c); err != nil {
		return nil, err
	}
	return c, c.finishCluster()
}

// readConfigFile reads nats-server's .conf format, or YAML/TOML/JSON through
// viper, into a flat map of option keys.
func readConfigFile(file string) (map[string]any, error) {
	switch strings.ToLower(filepath.Ext(file)) {
	case ".conf", ".cfg", "":
		m, err := natsconf.ParseFile(file)
		if err != nil {
			return nil, fmt.Errorf("read config %s: %w", file, err)
		}
		// "listen: host:port" is nats-server's shorthand for host and port.
		if l, ok := m["listen"].(string); ok {
			delete(m, "listen")
			host, port, ok := strings.Cut(l, ":")
			if !ok {
				return nil, fmt.Errorf("config %s: listen %q: want host:port", file, l)
			}
			if host != "" {
				m["host"] = host
			}
			m["port"] = port
		}
		// "http: host:port" likewise sets the monitoring address.
		if h, ok := m["http"].(string); ok {
			delete(m, "http")
			host, port, ok := strings.Cut(h, ":")
			if !ok {
				return nil, fmt.Errorf("config %s: http %q: want host:port", file, h)
			}
			if host != "" {
				m["http_host"] = host
			}
			m["http_port"] = port
		}
		return flattenClusterBlock(file, m)
	}
	v := viper.New()
	v.SetConfigFile(file)
	if err := v.ReadInConfig(); err != nil {
		return nil, fmt.Errorf("read config %s: %w", file, err)
	}
	return flattenClusterBlock(file, v.AllSettings())
}

// parse converts a flag, environment or config value to the spec's type and
// checks its range.
func (s *optSpec) parse(raw any) (any, error) {
	switch s.kind {
	case kindString:
		str, ok := raw.(string)
		if !ok {
			return nil, fmt.Errorf("%v is not a string", raw)
		}
		return str, nil
	case kindRaw:
		return s.decode(raw)
	case kindBool:
		switch v := raw.(type) {
		case bool:
			return v, nil
		case string:
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("%q is not true or false", v)
			}
			return b, nil
		}
		return nil, fmt.Errorf("%v is not true or false", raw)
	}
	var n int64
	var err error
	switch s.kind {
	case kindInt:
		n, err = toInt(raw)
	case kindSize:
		n, err = toSize(raw)
	case kindDuration:
		n, err = toDuration(raw)
	}
	if err != nil {
		return nil, err
	}
	if n < s.min || n > s.max {
		return nil, fmt.Errorf("%v is out of range (%s)", raw, s.rangeText())
	}
	return n, nil
}

func (s *optSpec) rangeText() string {
	switch s.kind {
	case kindDuration:
		if s.max == math.MaxInt64 {
			return "at least " + time.Duration(s.min).String()
		}
		return time.Duration(s.min).String() + " to " + time.Duration(s.max).String()
	}
	if s.max == math.MaxInt64 || s.max == math.MaxInt32 {
		return fmt.Sprintf("at least %d", s.min)
	}
	return fmt.Sprintf("%d to %d", s.min, s.max)
}

func toInt(raw any) (int64, error) {
	switch v := raw.(type) {
	case int64:
		return v, nil
	case int:
		return int64(v), nil
	case float64:
		if v != math.Trunc(v) {
			return 0, fmt.Errorf("%v is not a whole number", v)
		}
		return int64(v), nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a whole number", v)
		}
		return n, nil
	}
	return 0, fmt.Errorf("%v is not a whole number", raw)
}

var sizeUnits = []struct {
	suffix string
	mult   int64
}{{"GB", 1 << 30}, {"G", 1 << 30}, {"MB", 1 << 20}, {"M", 1 << 20}, {"KB", 1 << 10}, {"K", 1 << 10}, {"B", 1}}

func toSize(raw any) (int64, error) {
	if s, ok := raw.(string); ok {
		u := strings.ToUpper(strings.TrimSpace(s))
		for _, unit := range sizeUnits {
			if num, ok := strings.CutSuffix(u, unit.suffix); ok {
				n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
				if err != nil {
					return 0, fmt.Errorf("%q is not a size (bytes, or with KB/MB/GB)", s)
				}
				return n * unit.mult, nil
			}
		}
	}
	n, err := toInt(raw)
	if err != nil {
		return 0, fmt.Errorf("%v is not a size (bytes, or with KB/MB/GB)", raw)
	}
	return n, nil
}

func toDuration(raw any) (int64, error) {
	if s, ok := raw.(string); ok {
		s = strings.TrimSpace(s)
		if d, err := time.ParseDuration(s); err == nil {
			return int64(d), nil
		}
	}
	if f, ok := raw.(float64); ok { // nats-server takes fractional seconds: timeout: 0.5
		return int64(f * float64(time.Second)), nil
	}
	n, err := toInt(raw)
	if err != nil {
		return 0, fmt.Errorf("%v is not a duration (such as 30s, 2m, or seconds)", raw)
	}
	return n * int64(time.Second), nil
}

// serveSpecKeys lists the config keys, for docs and their test.
func serveSpecKeys() []string {
	keys := make([]string, 0, len(serveSpecs))
	for _, s := range serveSpecs {
		keys = append(keys, s.key)
	}
	slices.Sort(keys)
	return keys
}
