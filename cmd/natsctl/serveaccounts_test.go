package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/natsctl/natsctl/internal/natsservertest"
	"github.com/natsctl/natsctl/internal/server"
)

// accountsConf is written as nats-server writes it; both servers run it.
const accountsConf = `
accounts {
  A: {
    users: [{user: a, password: pa}]
    msg_trace: {dest: "a.traces", sampling: "50%"}
    exports: [
      {stream: "events.>"}
      {service: "help.>", accounts: [B], response_type: singleton, allow_trace: true}
    ]
  }
  B: {
    users: [{user: b, password: pb}]
    imports: [
      {stream: {account: A, subject: "events.>"}, prefix: fromA, allow_trace: true}
      {service: {account: A, subject: "help.>"}, to: "ask.>"}
    ]
  }
  SYS: { users: [{user: sys, password: ps}], jetstream: disabled }
  R: {
    users: [{user: r, password: pr}, {user: w, password: pw, permissions: {publish: ">"}}]
    default_permissions: {publish: {deny: ">"}}
  }
}
system_account: SYS
no_auth_user: b
`

// checkAccountsConf runs the behaviour accountsConf promises against url.
func checkAccountsConf(t *testing.T, url string) {
	t.Helper()
	conn := func(opts ...nats.Option) *nats.Conn {
		nc, err := nats.Connect(url, append(opts, nats.Timeout(5*time.Second))...)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	a, b := conn(nats.UserInfo("a", "pa")), conn() // b: no_auth_user
	if _, err := a.Subscribe("help.x", func(m *nats.Msg) { _ = m.Respond([]byte("re " + m.Subject)) }); err != nil {
		t.Fatal(err)
	}
	events, _ := b.SubscribeSync("fromA.>")
	same, _ := b.SubscribeSync("events.>")
	for _, nc := range []*nats.Conn{a, b} {
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	// No responder in A: the requester in B hears so at once.
	if _, err := b.Request("ask.nobody", nil, 5*time.Second); err != nats.ErrNoResponders {
		t.Fatalf("service import without a responder: %v", err)
	}
	m, err := b.Request("ask.x", nil, 5*time.Second)
	if err != nil || string(m.Data) != "re help.x" {
		t.Fatalf("service import: %v %v", m, err)
	}
	if err := a.Publish("events.1", []byte("e")); err != nil {
		t.Fatal(err)
	}
	got, err := events.NextMsg(5 * time.Second)
	if err != nil || got.Subject != "fromA.events.1" {
		t.Fatalf("stream import: %v %v", got, err)
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	if m, err := same.NextMsg(100 * time.Millisecond); err == nil {
		t.Fatalf("B saw A's subject unmapped: %q", m.Subject)
	}
	// The account's default_permissions apply to r, not to w.
	errs := make(chan error, 1)
	r := conn(nats.UserInfo("r", "pr"), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	w := conn(nats.UserInfo("w", "pw"))
	qsub, _ := w.SubscribeSync("q")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	_ = r.Publish("q", nil)
	_ = w.Publish("q", []byte("w"))
	if m, err := qsub.NextMsg(5 * time.Second); err != nil || string(m.Data) != "w" {
		t.Fatalf("w's publish: %v %v", m, err)
	}
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), "Permissions Violation for Publish") {
			t.Fatalf("r's error %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("r published despite the account's default_permissions")
	}
}

func TestServeAccounts_ConfigLikeNATSServer(t *testing.T) {
	conf := writeFile(t, "accounts.conf", accountsConf)
	t.Run("natsctl", func(t *testing.T) {
		cfg, err := parseServe(t, nil, "--config", conf)
		if err != nil {
			t.Fatal(err)
		}
		if len(cfg.Accounts) != 4 || cfg.SystemAccount != "SYS" || cfg.NoAuthUser != "b" {
			t.Fatalf("config: %+v", cfg.Options)
		}
		for _, a := range cfg.Accounts {
			if a.Name == "A" && (!a.Exports[1].AllowTrace || a.TraceDest != "a.traces" || a.TraceSampling != 50) || a.Name == "B" && !a.Imports[0].AllowTrace {
				t.Fatalf("account %s: allow_trace not read: %+v %+v", a.Name, a.Exports, a.Imports)
			}
		}
		cfg.Port, cfg.HTTPPort = -1, 0
		s, err := server.New(cfg.Options)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Shutdown(t.Context()) })
		checkAccountsConf(t, s.ClientURL())
	})
	t.Run("nats-server", func(t *testing.T) {
		p := natsservertest.Start(t, "-c", conf)
		checkAccountsConf(t, p.ClientURL)
	})
}

func TestServeAccounts_BadConfig(t *testing.T) {
	for _, tc := range []struct{ conf, want string }{
		{`accounts { A: { colour: red } }`, "account A: colour: unknown key"},
		{`accounts { A: { imports: [{stream: {account: B, subject: x}}] }, B: {} }`, "import not authorized"},
		{`accounts { A: { exports: [{stream: x, response_type: stream}] } }`, "response_type applies to service exports only"},
		{`accounts { A: { users: [{user: u, password: p}] } }
no_auth_user: nobody`, `no_auth_user: "nobody" is not a configured user`},
		{`system_account: NOPE`, `system_account: account "NOPE" is not configured`},
	} {
		conf := writeFile(t, "bad.conf", tc.conf)
		cfg, err := parseServe(t, nil, "--config", conf)
		if err == nil {
			cfg.Port, cfg.HTTPPort = -1, 0
			var s *server.Server
			if s, err = server.New(cfg.Options); err == nil {
				s.Shutdown(t.Context())
			}
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.conf, err, tc.want)
		}
	}
}

func TestServeAccounts_OperatorConfig(t *testing.T) {
	opKP, _ := nkeys.CreateOperator()
	accKP, _ := nkeys.CreateAccount()
	userKP, _ := nkeys.CreateUser()
	opPub, _ := opKP.PublicKey()
	accPub, _ := accKP.PublicKey()
	userPub, _ := userKP.PublicKey()
	opJWT, _ := jwt.NewOperatorClaims(opPub).Encode(opKP)
	accJWT, _ := jwt.NewAccountClaims(accPub).Encode(opKP)
	userJWT, _ := jwt.NewUserClaims(userPub).Encode(accKP)
	seed, _ := userKP.Seed()
	creds, _ := jwt.FormatUserConfig(userJWT, seed)
	credsFile := writeFile(t, "u.creds", string(creds))
	opFile := writeFile(t, "op.jwt", opJWT)
	dir := t.TempDir()
	for name, conf := range map[string]string{
		"memory": "operator: " + opFile + "\nresolver: MEMORY\nresolver_preload: {\n " + accPub + ": " + accJWT + "\n}\n",
		"dir":    "operator: " + opFile + "\nresolver: { type: full, dir: " + strconv.Quote(dir) + " }\n",
	} {
		t.Run(name, func(t *testing.T) {
			if name == "dir" {
				writeFileAt(t, dir, accPub+".jwt", accJWT)
			}
			cfg, err := parseServe(t, nil, "--config", writeFile(t, "op.conf", conf))
			if err != nil {
				t.Fatal(err)
			}
			cfg.Port, cfg.HTTPPort = -1, 0
			s, err := server.New(cfg.Options)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Shutdown(t.Context()) })
			nc, err := nats.Connect(s.ClientURL(), nats.UserCredentials(credsFile))
			if err != nil {
				t.Fatalf("creds user: %v", err)
			}
			nc.Close()
		})
	}
}

func writeFileAt(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestServeAccounts_LimitsLikeNATSServer(t *testing.T) {
	conf := writeFile(t, "limits.conf", `
accounts {
  L: { users: [{user: l, password: p}], limits: {max_connections: 1, max_subscriptions: 1} }
}
`)
	check := func(t *testing.T, url string) {
		nc, err := nats.Connect(url, nats.UserInfo("l", "p"))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		_, err = nats.Connect(url, nats.UserInfo("l", "p"), nats.NoReconnect())
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), "maximum account active connections exceeded") {
			t.Fatalf("second connection: %v", err)
		}
		errs := make(chan error, 2)
		nc.SetErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err })
		_, _ = nc.SubscribeSync("a")
		_, _ = nc.SubscribeSync("b")
		_ = nc.Flush()
		select {
		case err := <-errs:
			if !strings.Contains(strings.ToLower(err.Error()), "maximum subscriptions exceeded") {
				t.Fatalf("error %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("second subscription accepted")
		}
	}
	t.Run("natsctl", func(t *testing.T) {
		cfg, err := parseServe(t, nil, "--config", conf)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Port, cfg.HTTPPort = -1, 0
		s, err := server.New(cfg.Options)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Shutdown(t.Context()) })
		check(t, s.ClientURL())
	})
	t.Run("nats-server", func(t *testing.T) { check(t, natsservertest.Start(t, "-c", conf).ClientURL) })
}
