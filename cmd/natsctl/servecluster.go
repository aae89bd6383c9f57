package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
)

// clusterConfig holds the cluster values that need more than one spec to
// resolve (the listen URL, the seed list, the TLS files).
type clusterConfig struct {
	listen                 string
	routes                 string
	tlsCert, tlsKey, tlsCA string
	explicit               []string // option keys set by flag, environment or file
	// jsOff: clustering turned the streaming default off (see finishCluster).
	jsOff bool
}

// finishCluster turns the raw cluster values into server.ClusterOptions.
func (c *serveConfig) finishCluster() error {
	cc := c.cluster
	if cc.listen != "" {
		hp := cc.listen
		if i := strings.Index(hp, "://"); i >= 0 {
			hp = hp[i+3:]
		}
		hp = strings.TrimSuffix(hp, "/")
		host, port, err := net.SplitHostPort(hp)
		if err != nil {
			return fmt.Errorf("cluster: %q: want nats://host:port", cc.listen)
		}
		p, err := strconv.Atoi(port)
		if err != nil || p < -1 || p == 0 || p > 65535 {
			return fmt.Errorf("cluster: %q: port must be 1-65535, or -1 for a random port", cc.listen)
		}
		c.Cluster.Host, c.Cluster.Port = host, p
		if host == "" {
			c.Cluster.Host = "0.0.0.0"
		}
	}
	for _, r := range strings.Split(cc.routes, ",") {
		if r = strings.TrimSpace(r); r != "" {
			c.Cluster.Routes = append(c.Cluster.Routes, r)
		}
	}
	if len(c.Cluster.Routes) > 0 && c.Cluster.Port == 0 {
		return fmt.Errorf("routes: seeds need a route listener: add --cluster nats://host:port (or cluster { listen: ... })")
	}
	// Streams are not clustered yet: each stream lives on the one server
	// that runs JetStream and is reached from the others over routes. Two
	// servers running it would both answer every API request, so in a
	// cluster it is on only where asked for (--jetstream).
	if c.Cluster.Port != 0 && c.JetStream && !slices.Contains(cc.explicit, "jetstream") {
		c.JetStream, c.cluster.jsOff = false, true
	}
	if cc.tlsCert == "" && cc.tlsKey == "" {
		if cc.tlsCA != "" {
			return fmt.Errorf("cluster_tls_ca: route TLS needs cluster_tls_cert and cluster_tls_key as well")
		}
		return nil
	}
	cert, err := tls.LoadX509KeyPair(cc.tlsCert, cc.tlsKey)
	if err != nil {
		return fmt.Errorf("cluster_tls_cert/cluster_tls_key: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if cc.tlsCA != "" {
		pem, err := os.ReadFile(cc.tlsCA)
		if err != nil {
			return fmt.Errorf("cluster_tls_ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("cluster_tls_ca: %s holds no PEM certificate", cc.tlsCA)
		}
		cfg.RootCAs, cfg.ClientCAs, cfg.ClientAuth = pool, pool, tls.RequireAndVerifyClientCert
	}
	c.Cluster.TLS = cfg
	return nil
}

// clusterBlockKeys maps the keys of nats-server's cluster { } block to our
// flat option keys; "" marks keys accepted and ignored.
var clusterBlockKeys = map[string]string{
	"name": "cluster_name", "listen": "cluster", "routes": "routes",
	"advertise": "cluster_advertise", "cluster_advertise": "cluster_advertise",
	"no_advertise": "no_advertise", "ping_interval": "cluster_ping_interval",
	"host": "", "net": "", "port": "", "authorization": "", "tls": "",
	// We always retry seeds forever with exponential backoff.
	"connect_retries": "", "connect_backoff": "",
}

// flattenClusterBlock rewrites a `cluster { ... }` map (from any config
// format) into flat option keys.
func flattenClusterBlock(file string, m map[string]any) (map[string]any, error) {
	var block map[string]any
	for k, v := range m {
		if strings.EqualFold(k, "cluster") {
			if b, ok := v.(map[string]any); ok {
				block = b
				delete(m, k)
			}
		}
	}
	if block == nil {
		return m, nil
	}
	var host, port string
	for k, v := range block {
		k = strings.ToLower(k)
		flat, known := clusterBlockKeys[k]
		if !known {
			why := ""
			switch k {
			case "pool_size", "compression", "accounts", "pinned_accounts":
				why = " (natsctl routes use one connection per peer, uncompressed)"
			}
			return nil, fmt.Errorf("config %s: cluster option %q is not supported by natsctl serve%s; remove it or see docs/CLUSTERING.md", file, k, why)
		}
		switch k {
		case "host", "net":
			host = fmt.Sprint(v)
		case "port":
			port = fmt.Sprint(v)
		case "routes":
			m["routes"] = joinList(v)
		case "authorization":
			a, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("config %s: cluster.authorization: want { user, password, timeout }", file)
			}
			for ak, av := range a {
				switch strings.ToLower(ak) {
				case "user", "username":
					m["cluster_user"] = fmt.Sprint(av)
				case "password":
					m["cluster_password"] = fmt.Sprint(av)
				case "timeout":
					m["cluster_auth_timeout"] = av
				default:
					return nil, fmt.Errorf("config %s: cluster.authorization.%s is not supported (only user, password, timeout)", file, ak)
				}
			}
		case "tls":
			t, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("config %s: cluster.tls: want { cert_file, key_file, ca_file }", file)
			}
			for tk, tv := range t {
				switch strings.ToLower(tk) {
				case "cert_file":
					m["cluster_tls_cert"] = fmt.Sprint(tv)
				case "key_file":
					m["cluster_tls_key"] = fmt.Sprint(tv)
				case "ca_file":
					m["cluster_tls_ca"] = fmt.Sprint(tv)
				case "verify", "timeout":
					// With a CA, peers are always verified both ways.
				default:
					return nil, fmt.Errorf("config %s: cluster.tls.%s is not supported (only cert_file, key_file, ca_file, verify)", file, tk)
				}
			}
		default:
			if flat != "" {
				m[flat] = v
			}
		}
	}
	if port != "" {
		if host == "" {
			host = "0.0.0.0" // nats-server's default route host
		}
		m["cluster"] = net.JoinHostPort(host, port)
	} else if host != "" {
		return nil, fmt.Errorf("config %s: cluster.host needs cluster.port", file)
	}
	if l, ok := m["cluster"].(string); ok && !strings.Contains(l, ":") {
		m["cluster"] = "0.0.0.0:" + l // listen: 6222
	}
	return m, nil
}

// joinList turns a config list (or a single string) into a comma list.
func joinList(v any) string {
	switch l := v.(type) {
	case []any:
		parts := make([]string, 0, len(l))
		for _, x := range l {
			parts = append(parts, fmt.Sprint(x))
		}
		return strings.Join(parts, ",")
	case []string:
		return strings.Join(l, ",")
	}
	return fmt.Sprint(v)
}
