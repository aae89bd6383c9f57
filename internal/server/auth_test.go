package server_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"
	"golang.org/x/crypto/bcrypt"

	"github.com/natsctl/natsctl/internal/natsservertest"
	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

// authFixture is one set of credentials, configured identically on our
// server (Options) and on nats-server (a .conf file).
type authFixture struct {
	nkey     nkeys.KeyPair // the nkey user's key pair
	nkeyPub  string
	bcrypted string // bcrypt of "password"
	// fastTimeout sets a short auth timeout, for the test of it.
	fastTimeout bool
}

func newAuthFixture(t *testing.T) *authFixture {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	h, err := bcrypt.GenerateFromPassword([]byte("password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return &authFixture{nkey: kp, nkeyPub: pub, bcrypted: string(h)}
}

// conf is the nats-server configuration of the users below. The auth
// timeout is long so that a loaded test machine does not hit it, except in
// the test of the timeout itself (fastTimeout).
func (f *authFixture) conf() string {
	return fmt.Sprintf(`authorization {
  timeout: %v
  users = [
    {user: alice, password: secret, permissions: {
      publish: {allow: ["foo.>", "_INBOX.>"], deny: ["foo.bar"]}
      subscribe: {allow: ["foo.*", "q.>"], deny: ["foo.secret"]}}}
    {user: bob, password: "%s"}
    {user: svc, password: s, permissions: {subscribe: {allow: ["svc.>"], deny: ["svc.secret"]}, allow_responses: true}}
    {user: qq, password: q, permissions: {subscribe: {allow: ["q.> grp"]}}}
    {nkey: %s, permissions: {publish: {deny: ">"}}}
  ]
}
`, f.timeout().Seconds(), f.bcrypted, f.nkeyPub)
}

func (f *authFixture) timeout() time.Duration {
	if f.fastTimeout {
		return 500 * time.Millisecond
	}
	return 20 * time.Second
}

// options are the same users for our server.
func (f *authFixture) options(o *server.Options) {
	o.AuthTimeout = f.timeout()
	o.Auth.Users = []server.User{
		{Username: "alice", Password: "secret", Permissions: &server.Permissions{
			Publish:   &server.SubjectPermission{Allow: []string{"foo.>", "_INBOX.>"}, Deny: []string{"foo.bar"}},
			Subscribe: &server.SubjectPermission{Allow: []string{"foo.*", "q.>"}, Deny: []string{"foo.secret"}},
		}},
		{Username: "bob", Password: f.bcrypted},
		{Username: "svc", Password: "s", Permissions: &server.Permissions{
			Subscribe: &server.SubjectPermission{Allow: []string{"svc.>"}, Deny: []string{"svc.secret"}},
			Response:  &server.ResponsePermission{},
		}},
		{Username: "qq", Password: "q", Permissions: &server.Permissions{
			Subscribe: &server.SubjectPermission{Allow: []string{"q.> grp"}},
		}},
		{Nkey: f.nkeyPub, Permissions: &server.Permissions{Publish: &server.SubjectPermission{Deny: []string{">"}}}},
	}
}

// bothServers runs fn against our server and nats-server configured alike.
func bothServers(t *testing.T, opts func(*server.Options), conf string, fn func(t *testing.T, addr string)) {
	t.Run("natsctl", func(t *testing.T) {
		fn(t, servertest.Run(t, opts).Addr().String())
	})
	t.Run("nats-server", func(t *testing.T) {
		if testing.Short() {
			t.Skip("reference comparison skipped in -short")
		}
		file := filepath.Join(t.TempDir(), "s.conf")
		if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		p := natsservertest.Start(t, "-c", file)
		_, addr, _ := strings.Cut(p.ClientURL, "://") // nats:// or tls://
		fn(t, addr)
	})
}

func connectLine(fields map[string]any) string {
	b, _ := json.Marshal(fields)
	return "CONNECT " + string(b) + "\r\n"
}

const authViolation = "-ERR 'Authorization Violation'\r\n"

// authCases are single-connection exchanges with the users of authFixture.
var authCases = []struct {
	name   string
	send   []string
	want   string
	closed bool
}{
	{"ping before connect", []string{"PING\r\n"}, authViolation, true},
	{"sub before connect", []string{"SUB foo 1\r\n"}, authViolation, true},
	{"pub before connect fails at once", []string{"PUB foo 100\r\n"}, authViolation, true},
	{"partial op before connect", []string{"P"}, authViolation, true},
	{"info before connect", []string{"INFO {}\r\n"}, authViolation, true},
	{"no credentials", []string{"CONNECT {}\r\n"}, authViolation, true},
	{"wrong password", []string{`CONNECT {"user":"alice","pass":"nope"}` + "\r\n"}, authViolation, true},
	{"unknown user", []string{`CONNECT {"user":"mallory","pass":"secret"}` + "\r\n"}, authViolation, true},
	{"token instead of user", []string{`CONNECT {"auth_token":"secret"}` + "\r\n"}, authViolation, true},
	{"password", []string{`CONNECT {"user":"alice","pass":"secret"}` + "\r\nPING\r\n"}, "+OK\r\nPONG\r\n", false},
	{"bcrypt password", []string{`CONNECT {"user":"bob","pass":"password","verbose":false}` + "\r\nPING\r\n"}, "PONG\r\n", false},
	{"bcrypt wrong password", []string{`CONNECT {"user":"bob","pass":"Password"}` + "\r\n"}, authViolation, true},
	{"bcrypt hash as password", nil, authViolation, true}, // send filled in below
	{"permissions", []string{`CONNECT {"user":"alice","pass":"secret"}` + "\r\n",
		"SUB foo.x 1\r\n", "SUB foo.secret 2\r\n", "SUB bar 3\r\n",
		"PUB foo.x 1\r\na\r\n", "PUB foo.bar 1\r\nb\r\n", "PUB bar 1\r\nc\r\n", "PING\r\n"},
		"+OK\r\n+OK\r\n" +
			`-ERR 'Permissions Violation for Subscription to "foo.secret"'` + "\r\n" +
			`-ERR 'Permissions Violation for Subscription to "bar"'` + "\r\n" +
			"+OK\r\nMSG foo.x 1 1\r\na\r\n" +
			`-ERR 'Permissions Violation for Publish to "foo.bar"'` + "\r\n" +
			`-ERR 'Permissions Violation for Publish to "bar"'` + "\r\n" +
			"PONG\r\n", false},
	{"wildcards taken literally", []string{`CONNECT {"user":"alice","pass":"secret","verbose":false}` + "\r\n" +
		"SUB foo.> 1\r\nSUB foo.a.b 2\r\nSUB * 3\r\nPING\r\n"},
		`-ERR 'Permissions Violation for Subscription to "foo.a.b"'` + "\r\n" +
			`-ERR 'Permissions Violation for Subscription to "*"'` + "\r\nPONG\r\n", false},
	{"queue permissions", []string{`CONNECT {"user":"qq","pass":"q"}` + "\r\n",
		"SUB q.a 1\r\n", "SUB q.a grp 2\r\n", "SUB q.a other 3\r\n", "PING\r\n"},
		"+OK\r\n" + `-ERR 'Permissions Violation for Subscription to "q.a"'` + "\r\n+OK\r\n" +
			`-ERR 'Permissions Violation for Subscription to "q.a" using queue "other"'` + "\r\nPONG\r\n", false},
	{"allow_responses alone denies other publishes", []string{`CONNECT {"user":"svc","pass":"s","verbose":false}` + "\r\nPUB foo 1\r\na\r\nPING\r\n"},
		`-ERR 'Permissions Violation for Publish to "foo"'` + "\r\nPONG\r\n", false},
	{"deny filters wildcard deliveries", []string{`CONNECT {"user":"svc","pass":"s","verbose":false}` + "\r\nSUB svc.> 1\r\nPING\r\n"},
		"PONG\r\n", false}, // deliveries checked in TestAuth_Delivery
}

func TestAuth_Wire(t *testing.T) {
	f := newAuthFixture(t)
	bothServers(t, f.options, f.conf(), func(t *testing.T, addr string) {
		for _, tc := range authCases {
			t.Run(tc.name, func(t *testing.T) {
				rc := dialAddr(t, addr)
				send := tc.send
				switch tc.name {
				case "bcrypt hash as password":
					send = []string{connectLine(map[string]any{"user": "bob", "pass": f.bcrypted})}
				}
				for _, s := range send {
					rc.send(s)
				}
				if tc.closed {
					if got := rc.expectClosed(); got != tc.want {
						t.Fatalf("got %q before close, want %q", got, tc.want)
					}
					return
				}
				rc.expect(tc.want)
				rc.expectOpen()
			})
		}
	})
}

func TestAuth_Timeout(t *testing.T) {
	f := newAuthFixture(t)
	f.fastTimeout = true
	bothServers(t, f.options, f.conf(), func(t *testing.T, addr string) {
		silent := dialAddr(t, addr)
		half := dialAddr(t, addr)
		half.send("CONN") // an unfinished CONNECT does not stop the clock
		for _, rc := range []*rawConn{silent, half} {
			if got := rc.expectClosed(); got != "-ERR 'Authentication Timeout'\r\n" {
				t.Fatalf("got %q", got)
			}
		}
		// A client that authenticated in time is not cut off later.
		ok := dialAddr(t, addr)
		ok.send(`CONNECT {"user":"alice","pass":"secret","verbose":false}` + "\r\nPING\r\n")
		ok.expect("PONG\r\n")
		silent2 := dialAddr(t, addr)
		silent2.expectClosed() // a full auth timeout has passed for ok too
		ok.expectOpen()
	})
}

func TestAuth_Info(t *testing.T) {
	f := newAuthFixture(t)
	bothServers(t, f.options, f.conf(), func(t *testing.T, addr string) {
		var info map[string]any
		rc := dialAddr(t, addr)
		if err := json.Unmarshal([]byte(strings.TrimSuffix(strings.TrimPrefix(rc.info, "INFO "), " \r\n")), &info); err != nil {
			t.Fatal(err)
		}
		if info["auth_required"] != true {
			t.Errorf("auth_required = %v", info["auth_required"])
		}
		nonce, _ := info["nonce"].(string)
		if len(nonce) != 15 {
			t.Errorf("nonce %q: want 15 base64url characters", nonce)
		}
		if _, err := base64.RawURLEncoding.DecodeString(nonce); err != nil {
			t.Errorf("nonce %q is not base64url: %v", nonce, err)
		}
		for _, k := range []string{"tls_required", "tls_verify", "tls_available"} {
			if _, ok := info[k]; ok {
				t.Errorf("INFO has %s without TLS", k)
			}
		}
		// Order as nats-server: auth_required before max_payload, nonce after client_ip.
		body := rc.info
		if !(strings.Index(body, `"headers"`) < strings.Index(body, `"auth_required"`) &&
			strings.Index(body, `"auth_required"`) < strings.Index(body, `"max_payload"`) &&
			strings.Index(body, `"client_ip"`) < strings.Index(body, `"nonce"`)) {
			t.Errorf("INFO field order differs from nats-server: %s", body)
		}
		// Another connection gets another nonce.
		if rc2 := dialAddr(t, addr); strings.Contains(rc2.info, nonce) {
			t.Errorf("nonce %q reused", nonce)
		}
	})
}

func TestAuth_NoNonceWithoutNkeys(t *testing.T) {
	opts := func(o *server.Options) { o.Auth.Users = []server.User{{Username: "a", Password: "b"}} }
	conf := "authorization { users = [ {user: a, password: b} ] }\n"
	bothServers(t, opts, conf, func(t *testing.T, addr string) {
		rc := dialAddr(t, addr)
		if strings.Contains(rc.info, `"nonce"`) || !strings.Contains(rc.info, `"auth_required":true`) {
			t.Fatalf("INFO %s: want auth_required and no nonce", rc.info)
		}
	})
}

// nonceOf extracts the nonce from an INFO line.
func nonceOf(t *testing.T, info string) string {
	t.Helper()
	var v struct {
		Nonce string `json:"nonce"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSuffix(strings.TrimPrefix(info, "INFO "), " \r\n")), &v); err != nil || v.Nonce == "" {
		t.Fatalf("no nonce in %q", info)
	}
	return v.Nonce
}

func TestAuth_NkeyWire(t *testing.T) {
	f := newAuthFixture(t)
	other, _ := nkeys.CreateUser()
	sign := func(kp nkeys.KeyPair, data string) string {
		sig, err := kp.Sign([]byte(data))
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(sig)
	}
	cases := []struct {
		name string
		sig  func(nonce string) string
		ok   bool
	}{
		{"signed nonce", func(n string) string { return sign(f.nkey, n) }, true},
		{"standard base64", func(n string) string {
			s, _ := f.nkey.Sign([]byte(n))
			return base64.StdEncoding.EncodeToString(s)
		}, true},
		{"other key's signature", func(n string) string { return sign(other, n) }, false},
		{"signature of another nonce", func(n string) string { return sign(f.nkey, n+"x") }, false},
		{"corrupt signature", func(n string) string { return sign(f.nkey, n)[:10] + "AAAA" + sign(f.nkey, n)[14:] }, false},
		{"no signature", func(string) string { return "" }, false},
		{"not base64", func(string) string { return "!!!" }, false},
	}
	bothServers(t, f.options, f.conf(), func(t *testing.T, addr string) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				rc := dialAddr(t, addr)
				rc.send(connectLine(map[string]any{"nkey": f.nkeyPub, "sig": tc.sig(nonceOf(t, rc.info)), "verbose": false}))
				if !tc.ok {
					if got := rc.expectClosed(); got != authViolation {
						t.Fatalf("got %q, want %q", got, authViolation)
					}
					return
				}
				rc.send("SUB x 1\r\nPUB x 1\r\na\r\nPING\r\n")
				rc.expect(`-ERR 'Permissions Violation for Publish to "x"'` + "\r\nPONG\r\n")
			})
		}
	})
}

// TestAuth_Delivery checks what reaches other connections: a denied publish
// delivers nothing to anyone, a wildcard subscription does not receive a
// denied subject, and allow_responses lets a service answer once.
func TestAuth_Delivery(t *testing.T) {
	f := newAuthFixture(t)
	bothServers(t, f.options, f.conf(), func(t *testing.T, addr string) {
		bob := dialAddr(t, addr) // no permission limits
		// Not ">": nats-server publishes $SYS events to it.
		bob.send(`CONNECT {"user":"bob","pass":"password","verbose":false}` + "\r\nSUB foo.> 1\r\nSUB bar 2\r\nPING\r\n")
		bob.expect("PONG\r\n")
		alice := dialAddr(t, addr)
		alice.send(`CONNECT {"user":"alice","pass":"secret","verbose":false}` + "\r\nPUB foo.bar 4\r\nnope\r\nPUB bar 4\r\nnope\r\nPUB foo.ok 3\r\nyes\r\nPING\r\n")
		alice.expect(`-ERR 'Permissions Violation for Publish to "foo.bar"'` + "\r\n" +
			`-ERR 'Permissions Violation for Publish to "bar"'` + "\r\nPONG\r\n")
		bob.expect("MSG foo.ok 1 3\r\nyes\r\n") // and not the denied ones before it
		bob.expectOpen()

		svc := dialAddr(t, addr)
		svc.send(`CONNECT {"user":"svc","pass":"s","verbose":false}` + "\r\nSUB svc.> 1\r\nPING\r\n")
		svc.expect("PONG\r\n")
		req := dialAddr(t, addr)
		req.send(`CONNECT {"user":"bob","pass":"password","verbose":false}` + "\r\nSUB _INBOX.r 2\r\n" +
			"PUB svc.secret 1\r\ns\r\nPUB svc.echo _INBOX.r 1\r\nq\r\nPING\r\n")
		req.expect("PONG\r\n")
		svc.expect("MSG svc.echo 1 _INBOX.r 1\r\nq\r\n") // svc.secret was filtered out
		svc.send("PUB _INBOX.r 2\r\nr1\r\nPUB _INBOX.r 2\r\nr2\r\nPUB _INBOX.other 2\r\nr3\r\nPING\r\n")
		svc.expect(`-ERR 'Permissions Violation for Publish to "_INBOX.r"'` + "\r\n" +
			`-ERR 'Permissions Violation for Publish to "_INBOX.other"'` + "\r\nPONG\r\n")
		req.expect("MSG _INBOX.r 2 2\r\nr1\r\n")
		req.expectOpen()
	})
}

// TestAuth_UnauthenticatedDoesNothing: a client that has not authenticated
// gets INFO and one error, and none of its operations is honoured.
func TestAuth_UnauthenticatedDoesNothing(t *testing.T) {
	f := newAuthFixture(t)
	bothServers(t, f.options, f.conf(), func(t *testing.T, addr string) {
		bob := dialAddr(t, addr)
		bob.send(`CONNECT {"user":"bob","pass":"password","verbose":false}` + "\r\nSUB foo.> 1\r\nSUB foo 2\r\nPING\r\n")
		bob.expect("PONG\r\n")
		for _, first := range []string{
			"SUB foo 9\r\nPUB foo 4\r\nevil\r\nPING\r\n",
			"PUB foo 4\r\nevil\r\n",
			`CONNECT {"user":"alice","pass":"bad"}` + "\r\nPUB foo.x 4\r\nevil\r\nSUB foo.x 9\r\nPING\r\n",
		} {
			evil := dialAddr(t, addr)
			evil.send(first)
			if got := evil.expectClosed(); got != authViolation {
				t.Fatalf("unauthenticated client got %q, want only %q", got, authViolation)
			}
		}
		// A later, authenticated publish is the first thing bob sees.
		alice := dialAddr(t, addr)
		alice.send(`CONNECT {"user":"alice","pass":"secret","verbose":false}` + "\r\nPUB foo.x 2\r\nok\r\nPING\r\n")
		alice.expect("PONG\r\n")
		bob.expect("MSG foo.x 1 2\r\nok\r\n")
		bob.expectOpen()
	})
}

func TestAuth_UnauthenticatedSubNotIndexed(t *testing.T) {
	f := newAuthFixture(t)
	s := servertest.Run(t, f.options)
	evil := dialRaw(t, s)
	evil.send("SUB foo 1\r\nSUB bar 2\r\n")
	evil.expectClosed()
	if n := s.NumSubscriptions(); n != 0 {
		t.Fatalf("%d subscriptions indexed from an unauthenticated client", n)
	}
}

func TestAuth_Token(t *testing.T) {
	h, _ := bcrypt.GenerateFromPassword([]byte("s3cr3t"), bcrypt.MinCost)
	for name, tok := range map[string]string{"plain": "s3cr3t", "bcrypt": string(h)} {
		t.Run(name, func(t *testing.T) {
			opts := func(o *server.Options) { o.Auth.Token = tok }
			conf := fmt.Sprintf("authorization { token: %q }\n", tok)
			bothServers(t, opts, conf, func(t *testing.T, addr string) {
				rc := dialAddr(t, addr)
				if strings.Contains(rc.info, "nonce") || !strings.Contains(rc.info, `"auth_required":true`) {
					t.Errorf("INFO %s", rc.info)
				}
				rc.send(`CONNECT {"auth_token":"s3cr3t","verbose":false}` + "\r\nPING\r\n")
				rc.expect("PONG\r\n")
				for _, bad := range []string{`{"auth_token":"s3cr3"}`, `{"auth_token":""}`, `{"user":"s3cr3t"}`, `{"pass":"s3cr3t"}`} {
					rc := dialAddr(t, addr)
					rc.send("CONNECT " + bad + "\r\n")
					if got := rc.expectClosed(); got != authViolation {
						t.Fatalf("%s: got %q", bad, got)
					}
				}
			})
		})
	}
}

func TestAuth_SingleUser(t *testing.T) {
	opts := func(o *server.Options) { o.Auth.Username, o.Auth.Password = "u", "p" }
	bothServers(t, opts, "authorization { user: u, password: p }\n", func(t *testing.T, addr string) {
		rc := dialAddr(t, addr)
		rc.send(`CONNECT {"user":"u","pass":"p","verbose":false}` + "\r\nPING\r\n")
		rc.expect("PONG\r\n")
		rc = dialAddr(t, addr)
		rc.send(`CONNECT {"user":"u","pass":"P"}` + "\r\n")
		if got := rc.expectClosed(); got != authViolation {
			t.Fatalf("got %q", got)
		}
	})
}

func TestAuth_NoAuthPingBeforeConnect(t *testing.T) {
	// Without auth, PING before CONNECT is answered (covered in protoCases);
	// with auth configured the same bytes are a violation (authCases).
	s := servertest.Run(t)
	rc := dialRaw(t, s)
	if strings.Contains(rc.info, "auth_required") {
		t.Fatalf("INFO says auth_required without auth: %s", rc.info)
	}
	rc.expectOpen()
}

func TestAuth_OptionErrors(t *testing.T) {
	kp, _ := nkeys.CreateAccount()
	acct, _ := kp.PublicKey()
	cases := []struct {
		name string
		opts func(o *server.Options)
		want string
	}{
		{"token and users", func(o *server.Options) {
			o.Auth.Token = "t"
			o.Auth.Users = []server.User{{Username: "a", Password: "b"}}
		}, "token cannot be combined"},
		{"user and users", func(o *server.Options) {
			o.Auth.Username, o.Auth.Password = "a", "b"
			o.Auth.Users = []server.User{{Username: "c", Password: "d"}}
		}, "cannot be combined"},
		{"no password", func(o *server.Options) { o.Auth.Users = []server.User{{Username: "a"}} }, "has no password"},
		{"account key as user", func(o *server.Options) { o.Auth.Users = []server.User{{Nkey: acct}} }, "not a user public key"},
		{"duplicate user", func(o *server.Options) {
			o.Auth.Users = []server.User{{Username: "a", Password: "b"}, {Username: "a", Password: "c"}}
		}, "listed twice"},
		{"bad permission subject", func(o *server.Options) {
			o.Auth.Users = []server.User{{Username: "a", Password: "b", Permissions: &server.Permissions{
				Publish: &server.SubjectPermission{Allow: []string{"foo..bar"}}}}}
		}, "not a valid subject"},
		{"queue in publish permission", func(o *server.Options) {
			o.Auth.Users = []server.User{{Username: "a", Password: "b", Permissions: &server.Permissions{
				Publish: &server.SubjectPermission{Allow: []string{"foo q"}}}}}
		}, "publish"},
		{"require_auth on open address", func(o *server.Options) { o.Host = "0.0.0.0"; o.RequireAuth = true }, "require_auth"},
		{"verify without certificate", func(o *server.Options) { o.TLS.Verify = true }, "need a certificate"},
		{"missing certificate file", func(o *server.Options) {
			o.TLS.CertFile, o.TLS.KeyFile = "/nonexistent/c.pem", "/nonexistent/k.pem"
		}, "load certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := server.Options{Host: "127.0.0.1", Port: -1}
			tc.opts(&o)
			s, err := server.New(o)
			if err == nil {
				s.Shutdown(t.Context())
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestAuth_RequireAuthAllowsLoopbackAndAuthenticated(t *testing.T) {
	servertest.Run(t, func(o *server.Options) { o.RequireAuth = true })
	servertest.Run(t, func(o *server.Options) {
		o.Host, o.RequireAuth, o.Auth.Token = "0.0.0.0", true, "t"
	})
}
