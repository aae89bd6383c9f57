package server_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/natsctl/natsctl/internal/natsservertest"
	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

// jwtWorld is an operator, a system account, an account and helpers to
// issue users, all made with jwt/v2 as nsc would.
type jwtWorld struct {
	t                  *testing.T
	opKP, accKP, sysKP nkeys.KeyPair
	opJWT, opFile      string
	accPub, sysPub     string
	accJWT, sysJWT     string
}

func newJWTWorld(t *testing.T) *jwtWorld {
	t.Helper()
	w := &jwtWorld{t: t}
	var err error
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	w.opKP, err = nkeys.CreateOperator()
	must(err)
	w.accKP, err = nkeys.CreateAccount()
	must(err)
	w.sysKP, err = nkeys.CreateAccount()
	must(err)
	opPub, _ := w.opKP.PublicKey()
	w.accPub, _ = w.accKP.PublicKey()
	w.sysPub, _ = w.sysKP.PublicKey()
	oc := jwt.NewOperatorClaims(opPub)
	oc.Name = "OP"
	oc.SystemAccount = w.sysPub
	w.opJWT, err = oc.Encode(w.opKP)
	must(err)
	w.opFile = filepath.Join(t.TempDir(), "op.jwt")
	must(os.WriteFile(w.opFile, []byte(w.opJWT), 0o600))
	w.accJWT = w.account(nil)
	sc := jwt.NewAccountClaims(w.sysPub)
	sc.Name = "SYS"
	w.sysJWT, err = sc.Encode(w.opKP)
	must(err)
	return w
}

// account encodes the account JWT, changed by edit.
func (w *jwtWorld) account(edit func(*jwt.AccountClaims)) string {
	ac := jwt.NewAccountClaims(w.accPub)
	ac.Name = "APP"
	if edit != nil {
		edit(ac)
	}
	tok, err := ac.Encode(w.opKP)
	if err != nil {
		w.t.Fatal(err)
	}
	return tok
}

// user writes a .creds file for a new user signed by signer, changed by
// edit; it returns the file and the user's public key.
func (w *jwtWorld) user(signer nkeys.KeyPair, edit func(*jwt.UserClaims)) (string, string) {
	ukp, _ := nkeys.CreateUser()
	pub, _ := ukp.PublicKey()
	seed, _ := ukp.Seed()
	uc := jwt.NewUserClaims(pub)
	if edit != nil {
		edit(uc)
	}
	tok, err := uc.Encode(signer)
	if err != nil {
		w.t.Fatal(err)
	}
	creds, err := jwt.FormatUserConfig(tok, seed)
	if err != nil {
		w.t.Fatal(err)
	}
	p := filepath.Join(w.t.TempDir(), pub[:8]+".creds")
	if err := os.WriteFile(p, creds, 0o600); err != nil {
		w.t.Fatal(err)
	}
	return p, pub
}

func (w *jwtWorld) options(accJWT string) func(*server.Options) {
	return func(o *server.Options) {
		o.AuthTimeout = 20 * time.Second
		o.Operators = []string{w.opFile}
		o.Resolver = server.ResolverOptions{Type: "MEMORY", Preload: map[string]string{w.accPub: accJWT, w.sysPub: w.sysJWT}}
	}
}

func (w *jwtWorld) conf(accJWT string) string {
	return fmt.Sprintf("operator: %q\nresolver: MEMORY\nresolver_preload: {\n  %s: %q\n  %s: %q\n}\n", w.opFile, w.accPub, accJWT, w.sysPub, w.sysJWT)
}

func TestJWT_CredsUsers(t *testing.T) {
	w := newJWTWorld(t)
	valid, _ := w.user(w.accKP, nil)
	expired, _ := w.user(w.accKP, func(uc *jwt.UserClaims) { uc.Expires = time.Now().Add(-time.Minute).Unix() })
	revoked, revokedPub := w.user(w.accKP, nil)
	accJWT := w.account(func(ac *jwt.AccountClaims) { ac.RevokeAt(revokedPub, time.Now().Add(time.Minute)) })
	otherKP, _ := nkeys.CreateAccount()
	unknown, _ := w.user(otherKP, nil)
	limited, _ := w.user(w.accKP, func(uc *jwt.UserClaims) { uc.Permissions.Pub.Allow.Add("ok.>") })

	ours := servertest.Run(t, w.options(accJWT))
	conf := filepath.Join(t.TempDir(), "op.conf")
	if err := os.WriteFile(conf, []byte(w.conf(accJWT)), 0o600); err != nil {
		t.Fatal(err)
	}
	ref := natsservertest.Start(t, "-c", conf)
	for _, srv := range []struct{ name, url string }{{"natsctl", ours.ClientURL()}, {"nats-server", ref.ClientURL}} {
		t.Run(srv.name, func(t *testing.T) {
			nc, err := nats.Connect(srv.url, nats.UserCredentials(valid))
			if err != nil {
				t.Fatalf("valid creds: %v", err)
			}
			defer nc.Close()
			roundTrip(t, nc)
			for name, creds := range map[string]string{"expired": expired, "revoked": revoked, "unknown account": unknown} {
				t.Run(name, func(t *testing.T) { connectFails(t, srv.url, nats.UserCredentials(creds)) })
			}
			connectFails(t, srv.url) // no credentials at all
			// The user JWT's permissions apply.
			lc, err := nats.Connect(srv.url, nats.UserCredentials(limited))
			if err != nil {
				t.Fatal(err)
			}
			defer lc.Close()
			errs := make(chan error, 1)
			lc.SetErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err })
			_ = lc.Publish("not.ok", nil)
			_ = lc.Flush()
			select {
			case err := <-errs:
				if err == nil || !strings.Contains(err.Error(), `Permissions Violation for Publish to "not.ok"`) {
					t.Fatalf("error %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("publish outside the JWT's permissions accepted")
			}
		})
	}
}

func TestJWT_DirResolverAndClaimsUpdateRevokes(t *testing.T) {
	w := newJWTWorld(t)
	dir := t.TempDir()
	for pub, tok := range map[string]string{w.accPub: w.accJWT, w.sysPub: w.sysJWT} {
		if err := os.WriteFile(filepath.Join(dir, pub+".jwt"), []byte(tok), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := servertest.Run(t, func(o *server.Options) {
		o.AuthTimeout = 20 * time.Second
		o.Operators = []string{w.opJWT}
		o.Resolver = server.ResolverOptions{Type: "full", Dir: dir}
	})
	userCreds, userPub := w.user(w.accKP, nil)
	keepCreds, _ := w.user(w.accKP, nil)
	sysCreds, _ := w.user(w.sysKP, nil)
	victim := connect(t, s, nats.UserCredentials(userCreds), nats.NoReconnect())
	keep := connect(t, s, nats.UserCredentials(keepCreds))
	sys := connect(t, s, nats.UserCredentials(sysCreds))
	closed := make(chan struct{})
	victim.SetClosedHandler(func(*nats.Conn) { close(closed) })

	// The system account answers $SYS requests in operator mode too.
	if _, err := sys.Request("$SYS.REQ.SERVER.PING.VARZ", nil, 5*time.Second); err != nil {
		t.Fatalf("varz from the system account: %v", err)
	}
	updated := w.account(func(ac *jwt.AccountClaims) { ac.RevokeAt(userPub, time.Now().Add(time.Minute)) })
	m, err := sys.Request("$SYS.REQ.ACCOUNT."+w.accPub+".CLAIMS.UPDATE", []byte(updated), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		Data struct {
			Account string `json:"account"`
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"data"`
	}
	if err := json.Unmarshal(m.Data, &resp); err != nil || resp.Data.Code != 200 || resp.Data.Account != w.accPub {
		t.Fatalf("claims update response %s: %v", m.Data, err)
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("revoked user still connected")
	}
	roundTrip(t, keep)
	connectFails(t, s.ClientURL(), nats.UserCredentials(userCreds))
	// A full resolver stored the update.
	if b, err := os.ReadFile(filepath.Join(dir, w.accPub+".jwt")); err != nil || string(b) != updated {
		t.Fatalf("stored JWT: %v", err)
	}
}

func TestJWT_BadOperatorConfig(t *testing.T) {
	w := newJWTWorld(t)
	for name, o := range map[string]server.Options{
		"no resolver":   {Operators: []string{w.opJWT}},
		"not a JWT":     {Operators: []string{"/nonexistent/op.jwt"}, Resolver: server.ResolverOptions{Type: "MEMORY"}},
		"bad preload":   {Operators: []string{w.opJWT}, Resolver: server.ResolverOptions{Type: "MEMORY", Preload: map[string]string{w.accPub: w.sysJWT}}},
		"with accounts": {Operators: []string{w.opJWT}, Resolver: server.ResolverOptions{Type: "MEMORY"}, Accounts: []server.AccountOptions{{Name: "A"}}},
	} {
		o.Port = -1
		if s, err := server.New(o); err == nil {
			s.Shutdown(t.Context())
			t.Errorf("%s: server started", name)
		}
	}
}

func TestJWT_AccountExportsAndImports(t *testing.T) {
	w := newJWTWorld(t)
	impKP, _ := nkeys.CreateAccount()
	impPub, _ := impKP.PublicKey()
	// The world's account exports a stream and a service; a second account
	// imports both, renamed.
	expJWT := w.account(func(ac *jwt.AccountClaims) {
		ac.Exports.Add(&jwt.Export{Subject: "events.>", Type: jwt.Stream}, &jwt.Export{Subject: "help", Type: jwt.Service})
	})
	ic := jwt.NewAccountClaims(impPub)
	ic.Imports.Add(
		&jwt.Import{Account: w.accPub, Subject: "events.>", LocalSubject: "fromexp.events.>", Type: jwt.Stream},
		&jwt.Import{Account: w.accPub, Subject: "help", LocalSubject: "ask", Type: jwt.Service},
	)
	impJWT, err := ic.Encode(w.opKP)
	if err != nil {
		t.Fatal(err)
	}
	expUser, _ := w.user(w.accKP, nil)
	impUser, _ := w.user(impKP, nil)

	ours := servertest.Run(t, func(o *server.Options) {
		w.options(expJWT)(o)
		o.Resolver.Preload[impPub] = impJWT
	})
	conf := filepath.Join(t.TempDir(), "op.conf")
	body := fmt.Sprintf("operator: %q\nresolver: MEMORY\nresolver_preload: {\n %s: %q\n %s: %q\n %s: %q\n}\n", w.opFile, w.accPub, expJWT, w.sysPub, w.sysJWT, impPub, impJWT)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	ref := natsservertest.Start(t, "-c", conf)
	for _, srv := range []struct{ name, url string }{{"natsctl", ours.ClientURL()}, {"nats-server", ref.ClientURL}} {
		t.Run(srv.name, func(t *testing.T) {
			imp, err := nats.Connect(srv.url, nats.UserCredentials(impUser))
			if err != nil {
				t.Fatal(err)
			}
			defer imp.Close()
			exp, err := nats.Connect(srv.url, nats.UserCredentials(expUser))
			if err != nil {
				t.Fatal(err)
			}
			defer exp.Close()
			events, _ := imp.SubscribeSync("fromexp.>")
			if _, err := exp.Subscribe("help", func(m *nats.Msg) { _ = m.Respond([]byte("helped")) }); err != nil {
				t.Fatal(err)
			}
			for _, nc := range []*nats.Conn{imp, exp} {
				if err := nc.Flush(); err != nil {
					t.Fatal(err)
				}
			}
			if err := exp.Publish("events.1", []byte("e")); err != nil {
				t.Fatal(err)
			}
			if m := nextMsg(t, events); m.Subject != "fromexp.events.1" {
				t.Fatalf("stream import delivered %q", m.Subject)
			}
			m, err := imp.Request("ask", nil, 5*time.Second)
			if err != nil || string(m.Data) != "helped" {
				t.Fatalf("service import: %v %v", m, err)
			}
		})
	}
}
