package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestServeConfig_ClusterBlock(t *testing.T) {
	cases := map[string]string{
		"s.conf": `cluster {
  name: c1
  listen: 127.0.0.1:6222
  advertise: "10.0.0.1:16222"
  no_advertise: true
  routes: [nats://127.0.0.1:6223, nats://u:p@127.0.0.1:6224]
  authorization { user: ru, password: rp, timeout: 3 }
  ping_interval: "5s"
  connect_retries: 10
}
client_advertise: "example.com:4333"
`,
		"s.yaml": `cluster:
  name: c1
  host: 127.0.0.1
  port: 6222
  advertise: "10.0.0.1:16222"
  no_advertise: true
  routes: ["nats://127.0.0.1:6223", "nats://u:p@127.0.0.1:6224"]
  authorization: {user: ru, password: rp, timeout: 3}
  ping_interval: 5s
client_advertise: "example.com:4333"
`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			cfg, err := parseServe(t, nil, "-c", writeFile(t, name, body))
			if err != nil {
				t.Fatal(err)
			}
			cl := cfg.Cluster
			if cl.Name != "c1" || cl.Host != "127.0.0.1" || cl.Port != 6222 || cl.Advertise != "10.0.0.1:16222" || !cl.NoAdvertise ||
				!slices.Equal(cl.Routes, []string{"nats://127.0.0.1:6223", "nats://u:p@127.0.0.1:6224"}) ||
				cl.Username != "ru" || cl.Password != "rp" || cl.AuthTimeout != 3*time.Second || cl.PingInterval != 5*time.Second ||
				cfg.ClientAdvertise != "example.com:4333" {
				t.Fatalf("got %+v (client_advertise %q)", cl, cfg.ClientAdvertise)
			}
		})
	}
}

func TestServeConfig_ClusterFlags(t *testing.T) {
	cfg, err := parseServe(t, nil, "--cluster_name", "c2", "--cluster", "nats://127.0.0.1:-1",
		"--routes", "nats://127.0.0.1:7001, nats://127.0.0.1:7002", "--cluster_advertise", "1.2.3.4:7000", "--no_advertise")
	if err != nil {
		t.Fatal(err)
	}
	cl := cfg.Cluster
	if cl.Name != "c2" || cl.Host != "127.0.0.1" || cl.Port != -1 || len(cl.Routes) != 2 || cl.Routes[1] != "nats://127.0.0.1:7002" ||
		cl.Advertise != "1.2.3.4:7000" || !cl.NoAdvertise {
		t.Fatalf("got %+v", cl)
	}
	for _, bad := range [][]string{{"--cluster", "6222"}, {"--cluster", "nats://h:0"}, {"--cluster_tls_ca", "x.pem"}} {
		if _, err := parseServe(t, nil, bad...); err == nil || !strings.Contains(err.Error(), "cluster") {
			t.Errorf("%v: got %v, want a cluster error", bad, err)
		}
	}
}
