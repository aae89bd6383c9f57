package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"golang.org/x/crypto/bcrypt"

	"github.com/natsctl/natsctl/internal/iostreams"
	"github.com/natsctl/natsctl/internal/server"
)

const authConf = `
authorization {
  timeout: 0.5
  users = [
    {user: alice, password: "$2a$11$abc", permissions: {
      publish: {allow: ["orders.>"], deny: "orders.secret"}
      subscribe: ["_INBOX.>", "jobs.* workers"]
      allow_responses: {max: 3, expires: "1m"}}}
    {nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4, permissions: {sub: "svc.>", allow_responses: true}}
  ]
  default_permissions: {publish: {deny: ">"}}
}
tls {
  cert_file: "s.pem"
  key_file: "k.pem"
  ca_file: "ca.pem"
  verify: true
  min_version: "1.3"
  handshake_first: true
  timeout: 3
}
require_auth: true
`

var wantUsers = []server.User{
	{Username: "alice", Password: "$2a$11$abc", Permissions: &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: []string{"orders.>"}, Deny: []string{"orders.secret"}},
		Subscribe: &server.SubjectPermission{Allow: []string{"_INBOX.>", "jobs.* workers"}},
		Response:  &server.ResponsePermission{MaxMsgs: 3, Expires: time.Minute},
	}},
	{Nkey: "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4", Permissions: &server.Permissions{
		Subscribe: &server.SubjectPermission{Allow: []string{"svc.>"}},
		Response:  &server.ResponsePermission{},
	}},
}

func TestServeAuthConfig_ConfFile(t *testing.T) {
	cfg, err := parseServe(t, nil, "-c", writeFile(t, "s.conf", authConf))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg.Auth.Users, wantUsers) {
		t.Errorf("users:\n got %+v\nwant %+v", cfg.Auth.Users, wantUsers)
	}
	if dp := cfg.Auth.DefaultPermissions; dp == nil || !reflect.DeepEqual(dp.Publish.Deny, []string{">"}) {
		t.Errorf("default permissions %+v", dp)
	}
	wantTLS := server.TLSOptions{CertFile: "s.pem", KeyFile: "k.pem", CAFile: "ca.pem", Verify: true, MinVersion: "1.3", HandshakeFirst: true, Timeout: 3 * time.Second}
	if cfg.TLS != wantTLS {
		t.Errorf("tls %+v, want %+v", cfg.TLS, wantTLS)
	}
	if cfg.AuthTimeout != 500*time.Millisecond || !cfg.RequireAuth {
		t.Errorf("auth timeout %v, require_auth %v", cfg.AuthTimeout, cfg.RequireAuth)
	}
}

func TestServeAuthConfig_YAML(t *testing.T) {
	yaml := `authorization:
  users:
    - user: alice
      password: pw
      permissions:
        publish: {allow: ["a.>"]}
tls:
  cert_file: s.pem
  key_file: k.pem
`
	cfg, err := parseServe(t, nil, "-c", writeFile(t, "s.yaml", yaml))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Auth.Users) != 1 || cfg.Auth.Users[0].Username != "alice" || cfg.Auth.Users[0].Permissions.Publish.Allow[0] != "a.>" {
		t.Errorf("users %+v", cfg.Auth.Users)
	}
	if cfg.TLS.CertFile != "s.pem" || cfg.TLS.KeyFile != "k.pem" {
		t.Errorf("tls %+v", cfg.TLS)
	}
}

func TestServeAuthConfig_Flags(t *testing.T) {
	cfg, err := parseServe(t, nil, "--user", "u", "--pass", "p", "--tls", "--tlscert", "c.pem", "--tlskey", "k.pem",
		"--tlscacert", "ca.pem", "--tlsverify", "--require_auth")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Auth.Username != "u" || cfg.Auth.Password != "p" || cfg.TLS.CertFile != "c.pem" || cfg.TLS.KeyFile != "k.pem" ||
		cfg.TLS.CAFile != "ca.pem" || !cfg.TLS.Verify || !cfg.RequireAuth {
		t.Errorf("got %+v", cfg.Options)
	}
	cfg, err = parseServe(t, nil, "--auth", "tok")
	if err != nil || cfg.Auth.Token != "tok" {
		t.Fatalf("--auth: %v %+v", err, cfg)
	}
}

func TestServeAuthConfig_Precedence(t *testing.T) {
	file := writeFile(t, "s.conf", "authorization { user: fileuser, password: filepass }\ntls { cert_file: f.pem, key_file: k.pem }\n")
	env := map[string]string{"NATSCTL_AUTHORIZATION_PASSWORD": "envpass", "NATSCTL_TLS_CERT_FILE": "e.pem"}
	cfg, err := parseServe(t, env, "-c", file, "--user", "flaguser")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Auth.Username != "flaguser" || cfg.Auth.Password != "envpass" || cfg.TLS.CertFile != "e.pem" || cfg.TLS.KeyFile != "k.pem" {
		t.Fatalf("got %+v %+v", cfg.Auth, cfg.TLS)
	}
	// Structured options come from the environment as JSON.
	env = map[string]string{"NATSCTL_AUTHORIZATION_USERS": `[{"user":"a","password":"b","permissions":{"publish":"x"}}]`}
	cfg, err = parseServe(t, env)
	if err != nil || len(cfg.Auth.Users) != 1 || cfg.Auth.Users[0].Permissions.Publish.Allow[0] != "x" {
		t.Fatalf("users from env: %v %+v", err, cfg)
	}
}

func TestServeAuthConfig_Errors(t *testing.T) {
	cases := []struct {
		name string
		conf string
		args []string
		want []string
	}{
		{"unknown auth key", "authorization { usres = [] }\n", nil, []string{`"authorization.usres"`, "not supported"}},
		{"unknown tls key", "tls { cert_file: a, key_file: b, ocsp_peer: true }\n", nil, []string{`"tls.ocsp_peer"`}},
		{"unknown user key", "authorization { users = [ {user: a, pasword: b} ] }\n", nil, []string{"users[0]", `"pasword"`}},
		{"unknown permission key", "authorization { users = [ {user: a, password: b, permissions: {publsh: x}} ] }\n", nil, []string{`"publsh"`}},
		{"unknown allow/deny key", "authorization { users = [ {user: a, password: b, permissions: {publish: {alow: x}}} ] }\n", nil, []string{`"alow"`}},
		{"users not a list", "authorization { users: 5 }\n", nil, []string{"list of users"}},
		{"block not a block", "authorization: 5\n", nil, []string{"authorization", "block"}},
		{"bad allow_responses", "authorization { users = [ {user: a, password: b, permissions: {allow_responses: 5}} ] }\n", nil, []string{"allow_responses"}},
		{"tls without cert", "", []string{"--tls"}, []string{"--tlscert"}},
		{"tlsverify without cert", "", []string{"--tlsverify"}, []string{"--tlscert"}},
		{"top-level user", "user: a\n", nil, []string{`"user"`, "not supported"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if tc.conf != "" {
				args = append(args, "-c", writeFile(t, "s.conf", tc.conf))
			}
			_, err := parseServe(t, nil, args...)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestServeHelp_ExplainsAuth(t *testing.T) {
	cmd := newServeCmd(&deps{}, nil)
	help := cmd.Long + cmd.Example
	for _, w := range []string{"--auth", "--user", "--pass", "bcrypt", "nkey", "--tls", "--tlsverify", "--tlscacert", "verify_and_map", "handshake_first", "--require_auth", "permissions", "allow_responses"} {
		if !strings.Contains(help, w) {
			t.Errorf("serve --help does not explain %s", w)
		}
	}
	for _, f := range []string{"user", "pass", "auth", "tls", "tlscert", "tlskey", "tlscacert", "tlsverify", "require_auth"} {
		if cmd.Flags().Lookup(f) == nil {
			t.Errorf("no --%s flag", f)
		}
	}
}

// serveInProcess runs `natsctl serve args...` in this process until the test
// ends; it returns the started server and the command's stderr.
func serveInProcess(t *testing.T, args ...string) (*server.Server, *bytes.Buffer, error) {
	t.Helper()
	ios, _, _, errOut := iostreams.Test()
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan *server.Server, 1)
	done := make(chan error, 1)
	cmd := newServeCmd(&deps{IO: ios}, func(ctx context.Context, so *serveOptions) error {
		so.ready = func(s *server.Server) { started <- s }
		return runServe(ctx, so)
	})
	cmd.SetArgs(append([]string{"-m", "0"}, args...)) // no monitoring: tests run in parallel
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	select {
	case s := <-started:
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve returned %v", err)
			}
		})
		return s, errOut, nil
	case err := <-done:
		cancel()
		return nil, errOut, err
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("serve did not start")
	}
	return nil, nil, nil
}

func TestServe_OpenNetworkWarning(t *testing.T) {
	_, errOut, err := serveInProcess(t, "-a", "0.0.0.0", "-p", "-1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "SECURITY WARNING") || !strings.Contains(errOut.String(), "WITHOUT AUTHENTICATION") {
		t.Fatalf("no warning for an open server on 0.0.0.0:\n%s", errOut)
	}
	for _, args := range [][]string{{"-p", "-1"}, {"-a", "0.0.0.0", "-p", "-1", "--auth", "t"}} {
		_, errOut, err := serveInProcess(t, args...)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(errOut.String(), "SECURITY WARNING") {
			t.Fatalf("%v: warning where none is due:\n%s", args, errOut)
		}
	}
}

func TestServe_RequireAuthRefusesOpenServer(t *testing.T) {
	_, _, err := serveInProcess(t, "-a", "0.0.0.0", "-p", "-1", "--require_auth")
	if err == nil || !strings.Contains(err.Error(), "require_auth") {
		t.Fatalf("got %v, want a refusal naming require_auth", err)
	}
}

func TestServe_UsersFromConfigFile(t *testing.T) {
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	h, _ := bcrypt.GenerateFromPassword([]byte("hunter2"), bcrypt.MinCost)
	conf := writeFile(t, "auth.conf", fmt.Sprintf(`authorization {
  users = [
    {user: alice, password: %q, permissions: {publish: "orders.>", subscribe: "orders.>"}}
    {nkey: %s}
  ]
}
`, h, pub))
	s, _, err := serveInProcess(t, "-c", conf, "-p", "-1")
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(s.ClientURL(), nats.UserInfo("alice", "hunter2"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.SubscribeSync("secret"); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := nc.LastError(); err == nil || !strings.Contains(err.Error(), "Permissions Violation") {
		t.Fatalf("subscription outside permissions: last error %v", err)
	}
	nk, err := nats.Connect(s.ClientURL(), nats.Nkey(pub, kp.Sign))
	if err != nil {
		t.Fatal(err)
	}
	nk.Close()
	if _, err := nats.Connect(s.ClientURL(), nats.UserInfo("alice", "wrong")); err == nil {
		t.Fatal("wrong password accepted")
	}
}

// TestSecurityDoc_ConfigExamplesParse keeps docs/security.md's config
// examples loadable.
func TestSecurityDoc_ConfigExamplesParse(t *testing.T) {
	b, err := os.ReadFile("../../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range regexp.MustCompile("(?s)```(\\w*)\n(.*?)```").FindAllStringSubmatch(string(b), -1) {
		body := m[2]
		if m[1] != "" {
			continue // shell
		}
		if !strings.Contains(body, "authorization {") && !strings.Contains(body, "tls {") {
			continue
		}
		n++
		if _, err := parseServe(t, nil, "-c", writeFile(t, "doc.conf", body)); err != nil {
			t.Errorf("docs/security.md example %d does not load: %v\n%s", n, err, body)
		}
	}
	if n < 3 {
		t.Fatalf("found %d config examples in docs/security.md", n)
	}
}

// FuzzServeConfig_SecurityDecoders feeds arbitrary structured values (as
// JSON, the shape every config reader produces) to the authorization and tls
// decoders: errors are fine, panics are not.
func FuzzServeConfig_SecurityDecoders(f *testing.F) {
	f.Add(`[{"user":"a","password":"b","permissions":{"publish":{"allow":["a"],"deny":"b"},"allow_responses":{"max":2,"expires":3}}}]`)
	f.Add(`{"publish":"x","subscribe":["y","z q"],"allow_responses":true}`)
	f.Add(`[{"nkey":"U","perms":{"sub":{"deny":[1]}}}]`)
	f.Fuzz(func(t *testing.T, doc string) {
		var v any
		if json.Unmarshal([]byte(doc), &v) != nil {
			return
		}
		decodeUsers(v)
		decodePermissionsOpt(v)
		decodeUsers(doc) // as an environment value
		vals := map[string]any{"authorization": v, "tls": v}
		if flattenBlocks(vals) == nil {
			for i := range serveSpecs {
				if x, ok := vals[serveSpecs[i].key]; ok {
					serveSpecs[i].parse(x)
				}
			}
		}
	})
}

func TestServeAuthConfig_HTTPSPortReplacesHTTP(t *testing.T) {
	cfg, err := parseServe(t, nil, "--https_port", "8443")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPSPort != 8443 || cfg.HTTPPort != 0 {
		t.Fatalf("https_port %d http_port %d", cfg.HTTPSPort, cfg.HTTPPort)
	}
}
