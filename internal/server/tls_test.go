package server_test

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

// newTestPKI makes a CA, server and client certificates for the TLS tests.
func newTestPKI(t testing.TB) *testPKI { return &testPKI{servertest.NewPKI(t)} }

type testPKI struct{ *servertest.PKI }

func (p *testPKI) clientConfig(t testing.TB, cert, key string) *tls.Config {
	return p.ClientConfig(t, cert, key)
}
func (p *testPKI) tlsConf(extra string) string  { return p.ServerConf(extra) }
func (p *testPKI) tlsOptions(o *server.Options) { p.Options(o) }

// tlsRaw is a raw client that reads INFO in plain text, or (first) starts
// TLS at once, then speaks over TLS.
type tlsRaw struct {
	*rawConn
	info string
}

func dialTLSRaw(t *testing.T, addr string, cfg *tls.Config, first bool) (*tlsRaw, error) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	var info string
	if !first {
		r := bufio.NewReader(nc)
		if info, err = r.ReadString('\n'); err != nil {
			t.Fatalf("read plain INFO: %v", err)
		}
		if r.Buffered() > 0 {
			t.Fatalf("server sent %d bytes after INFO before TLS", r.Buffered())
		}
	}
	tc := tls.Client(nc, cfg)
	if err := tc.Handshake(); err != nil {
		return nil, err
	}
	rc := &rawConn{t: t, c: tc, r: bufio.NewReader(tc)}
	if first {
		info = rc.line()
	}
	nc.SetDeadline(time.Time{})
	return &tlsRaw{rawConn: rc, info: info}, nil
}

func TestTLS_Wire(t *testing.T) {
	pki := newTestPKI(t)
	modes := []struct {
		name  string
		opts  func(o *server.Options)
		conf  string
		first bool
	}{
		{"info then upgrade", pki.tlsOptions, pki.tlsConf(""), false},
		{"handshake first", func(o *server.Options) { pki.tlsOptions(o); o.TLS.HandshakeFirst = true }, pki.tlsConf("handshake_first: true"), true},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			bothServers(t, m.opts, m.conf, func(t *testing.T, addr string) {
				c, err := dialTLSRaw(t, addr, pki.clientConfig(t, "", ""), m.first)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(c.info, "INFO {") || !strings.Contains(c.info, `"tls_required":true`) || strings.Contains(c.info, "tls_verify") {
					t.Errorf("INFO %s: want tls_required, no tls_verify", c.info)
				}
				c.send(`CONNECT {"verbose":false}` + "\r\nSUB a 1\r\nPUB a 2\r\nhi\r\nPING\r\n")
				c.expect("MSG a 1 2\r\nhi\r\nPONG\r\n")
			})
		})
	}
}

func TestTLS_PlainClientIsDropped(t *testing.T) {
	pki := newTestPKI(t)
	bothServers(t, pki.tlsOptions, pki.tlsConf(""), func(t *testing.T, addr string) {
		rc := dialAddr(t, addr) // reads the plain INFO
		if !strings.Contains(rc.info, `"tls_required":true`) {
			t.Fatalf("INFO %s", rc.info)
		}
		rc.send(`CONNECT {"verbose":false}` + "\r\nSUB a 1\r\nPING\r\n")
		if got := rc.expectClosed(); got != "" {
			t.Fatalf("a plain client got %q", got)
		}
	})
}

func TestTLS_HandshakeFirstSendsNothingInPlain(t *testing.T) {
	pki := newTestPKI(t)
	opts := func(o *server.Options) {
		pki.tlsOptions(o)
		o.TLS.HandshakeFirst, o.TLS.Timeout = true, 300*time.Millisecond
	}
	bothServers(t, opts, pki.tlsConf("handshake_first: true\n  timeout: 0.3"), func(t *testing.T, addr string) {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		b, err := io.ReadAll(nc) // the server gives up after the TLS timeout
		if len(b) != 0 {
			t.Fatalf("server sent %q in plain text before TLS (err %v)", b, err)
		}
	})
}

func TestTLS_Verify(t *testing.T) {
	pki := newTestPKI(t)
	opts := func(o *server.Options) { pki.tlsOptions(o); o.TLS.Verify = true }
	bothServers(t, opts, pki.tlsConf("verify: true"), func(t *testing.T, addr string) {
		c, err := dialTLSRaw(t, addr, pki.clientConfig(t, pki.ClientCert, pki.ClientK), false)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(c.info, `"tls_required":true,"tls_verify":true`) || strings.Contains(c.info, "auth_required") {
			t.Errorf("INFO %s: want tls_required and tls_verify", c.info)
		}
		c.send("CONNECT {}\r\nPING\r\n")
		c.expect("+OK\r\nPONG\r\n")

		for name, cfg := range map[string]*tls.Config{
			"no client certificate":     pki.clientConfig(t, "", ""),
			"untrusted self-signed one": pki.clientConfig(t, pki.RogueCert, pki.RogueK),
		} {
			t.Run(name, func(t *testing.T) {
				c, err := dialTLSRaw(t, addr, cfg, false)
				if err != nil {
					return // refused in the handshake (TLS 1.2 style)
				}
				// TLS 1.3: the client learns of the refusal on its first read.
				c.send("CONNECT {}\r\nPING\r\n")
				c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
				if b, err := io.ReadAll(c.r); err == nil || len(b) > 0 {
					t.Fatalf("connection without a valid certificate got %q (err %v)", b, err)
				}
			})
		}
	})
}

func TestTLS_VerifyAndMap(t *testing.T) {
	pki := newTestPKI(t)
	opts := func(o *server.Options) {
		pki.tlsOptions(o)
		o.TLS.VerifyAndMap = true
		o.Auth.Users = []server.User{
			{Username: "CN=alice,O=Acme", Permissions: &server.Permissions{Publish: &server.SubjectPermission{Deny: []string{"x"}}}},
		}
	}
	conf := pki.tlsConf("verify_and_map: true") +
		"authorization { users = [ {user: \"CN=alice,O=Acme\", permissions: {publish: {deny: \"x\"}}} ] }\n"
	bothServers(t, opts, conf, func(t *testing.T, addr string) {
		c, err := dialTLSRaw(t, addr, pki.clientConfig(t, pki.ClientCert, pki.ClientK), false)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(c.info, `"auth_required":true,"tls_required":true,"tls_verify":true`) {
			t.Errorf("INFO %s", c.info)
		}
		c.send(`CONNECT {"verbose":false}` + "\r\nPUB x 1\r\na\r\nPING\r\n")
		c.expect(`-ERR 'Permissions Violation for Publish to "x"'` + "\r\nPONG\r\n")

		// A valid certificate for no configured user.
		c, err = dialTLSRaw(t, addr, pki.clientConfig(t, pki.OtherCert, pki.OtherK), false)
		if err != nil {
			t.Fatal(err)
		}
		c.send("CONNECT {}\r\n")
		if got := c.expectClosed(); got != authViolation {
			t.Fatalf("unmapped certificate: got %q", got)
		}
	})
}

func TestTLS_MapByEmail(t *testing.T) {
	pki := newTestPKI(t)
	opts := func(o *server.Options) {
		pki.tlsOptions(o)
		o.TLS.VerifyAndMap = true
		o.Auth.Users = []server.User{{Username: "alice@example.com"}}
	}
	conf := pki.tlsConf("verify_and_map: true") + "authorization { users = [ {user: \"alice@example.com\"} ] }\n"
	bothServers(t, opts, conf, func(t *testing.T, addr string) {
		c, err := dialTLSRaw(t, addr, pki.clientConfig(t, pki.ClientCert, pki.ClientK), false)
		if err != nil {
			t.Fatal(err)
		}
		c.send(`CONNECT {"verbose":false}` + "\r\nPING\r\n")
		c.expect("PONG\r\n")
	})
}

func TestTLS_MinVersion(t *testing.T) {
	pki := newTestPKI(t)
	opts := func(o *server.Options) { pki.tlsOptions(o); o.TLS.MinVersion = "1.3" }
	bothServers(t, opts, pki.tlsConf(`min_version: "1.3"`), func(t *testing.T, addr string) {
		cfg := pki.clientConfig(t, "", "")
		cfg.MaxVersion = tls.VersionTLS12
		if _, err := dialTLSRaw(t, addr, cfg, false); err == nil {
			t.Fatal("a TLS 1.2 client completed a handshake with min_version 1.3")
		}
	})
}

func TestTLS_ServerConfigForMonitoring(t *testing.T) {
	pki := newTestPKI(t)
	o := server.TLSOptions{CertFile: pki.Cert, KeyFile: pki.Key}
	cfg, err := o.ServerConfig()
	if err != nil || cfg == nil || len(cfg.Certificates) != 1 || cfg.MinVersion != tls.VersionTLS12 {
		t.Fatalf("ServerConfig: %v %+v", err, cfg)
	}
	if cfg, err := (&server.TLSOptions{}).ServerConfig(); cfg != nil || err != nil {
		t.Fatalf("no TLS: got %v %v", cfg, err)
	}
	if _, err := (&server.TLSOptions{CertFile: pki.Cert, KeyFile: pki.Key, MinVersion: "1.1"}).ServerConfig(); err == nil {
		t.Fatal("min_version 1.1 accepted")
	}
}

func TestTLS_MonitoringOverHTTPS(t *testing.T) {
	pki := newTestPKI(t)
	s := servertest.Run(t, func(o *server.Options) { pki.tlsOptions(o); o.HTTPSPort = -1 })
	if !strings.HasPrefix(s.MonitorURL(), "https://") {
		t.Fatalf("MonitorURL %q", s.MonitorURL())
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: pki.clientConfig(t, "", "")}, Timeout: 5 * time.Second}
	resp, err := hc.Get(s.MonitorURL() + "/varz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"server_id"`) {
		t.Fatalf("GET /varz over HTTPS: %d %s", resp.StatusCode, body)
	}
	// Plain HTTP on the HTTPS port gets nothing useful.
	if resp, err := http.Get("http://" + s.MonitorAddr().String() + "/varz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP served on the HTTPS monitoring port")
		}
	}
}

func TestTLS_MonitoringHTTPSOptionErrors(t *testing.T) {
	pki := newTestPKI(t)
	for name, f := range map[string]func(o *server.Options){
		"without TLS":     func(o *server.Options) { o.HTTPSPort = -1 },
		"with http_port":  func(o *server.Options) { pki.tlsOptions(o); o.HTTPSPort, o.HTTPPort = -1, -1 },
		"port over range": func(o *server.Options) { pki.tlsOptions(o); o.HTTPSPort = 70000 },
	} {
		o := server.Options{Host: "127.0.0.1", Port: -1}
		f(&o)
		if s, err := server.New(o); err == nil {
			s.Shutdown(t.Context())
			t.Errorf("%s: accepted", name)
		} else if !strings.Contains(err.Error(), "https_port") {
			t.Errorf("%s: error %q does not name https_port", name, err)
		}
	}
}
