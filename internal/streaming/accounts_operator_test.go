package streaming

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

// operatorWorld is an operator, its system account and accounts, made
// with jwt/v2 as nsc would.
type operatorWorld struct {
	t       *testing.T
	op      nkeys.KeyPair
	opJWT   string
	preload map[string]string
	keys    map[string]nkeys.KeyPair // account name -> key
}

func newOperatorWorld(t *testing.T) *operatorWorld {
	t.Helper()
	op, err := nkeys.CreateOperator()
	if err != nil {
		t.Fatal(err)
	}
	w := &operatorWorld{t: t, op: op, preload: map[string]string{}, keys: map[string]nkeys.KeyPair{}}
	sys := w.account("SYS", false)
	opPub, _ := op.PublicKey()
	oc := jwt.NewOperatorClaims(opPub)
	oc.SystemAccount = sys
	if w.opJWT, err = oc.Encode(op); err != nil {
		t.Fatal(err)
	}
	return w
}

// account adds account name to the resolver preload, with JetStream
// (unlimited storage) when js; it returns the account's public key.
func (w *operatorWorld) account(name string, js bool) string {
	w.t.Helper()
	kp := w.keys[name]
	if kp == nil {
		kp, _ = nkeys.CreateAccount()
		w.keys[name] = kp
	}
	tok := w.accountJWT(name, js)
	pub, _ := kp.PublicKey()
	w.preload[pub] = tok
	return pub
}

func (w *operatorWorld) accountJWT(name string, js bool) string {
	w.t.Helper()
	pub, _ := w.keys[name].PublicKey()
	ac := jwt.NewAccountClaims(pub)
	ac.Name = name
	if js {
		ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
	}
	tok, err := ac.Encode(w.op)
	if err != nil {
		w.t.Fatal(err)
	}
	return tok
}

// creds writes a .creds file for a new user of account name.
func (w *operatorWorld) creds(name string) string {
	w.t.Helper()
	ukp, _ := nkeys.CreateUser()
	upub, _ := ukp.PublicKey()
	seed, _ := ukp.Seed()
	tok, err := jwt.NewUserClaims(upub).Encode(w.keys[name])
	if err != nil {
		w.t.Fatal(err)
	}
	b, err := jwt.FormatUserConfig(tok, seed)
	if err != nil {
		w.t.Fatal(err)
	}
	p := filepath.Join(w.t.TempDir(), name+".creds")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		w.t.Fatal(err)
	}
	return p
}

// run starts our server in operator mode with an engine on dir.
func (w *operatorWorld) run(dir string) (*server.Server, *Engine) {
	w.t.Helper()
	e := New(Config{StoreDir: dir})
	s := servertest.Run(w.t, func(o *server.Options) {
		o.Engine = e
		o.AuthTimeout = 20 * time.Second
		o.Operators = []string{w.opJWT}
		o.Resolver = server.ResolverOptions{Type: "MEMORY", Preload: w.preload}
	})
	return s, e
}

// TestAccounts_OperatorMode: an account loaded on first use gets its
// streams when its JWT enables JetStream, none otherwise; an account JWT
// update that enables JetStream starts its engine; after a restart the
// streams of an account with files on disk run before its first client.
func TestAccounts_OperatorMode(t *testing.T) {
	w := newOperatorWorld(t)
	app := w.account("APP", true)
	w.account("NOJS", false)
	nojs, _ := w.keys["NOJS"].PublicKey()
	appCreds, nojsCreds, sysCreds := w.creds("APP"), w.creds("NOJS"), w.creds("SYS")
	dir := t.TempDir()
	s, e := w.run(dir)

	connect := func(s *server.Server, creds string) jetstream.JetStream {
		t.Helper()
		_, js := connectURLJS(t, s.ClientURL(), nats.UserCredentials(creds))
		return js
	}
	japp := connect(s, appCreds)
	mustCreate(t, japp, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	publishN(t, japp, "s.1", 2)
	if _, err := os.Stat(filepath.Join(dir, "accounts", app, "streams", "S")); err != nil {
		t.Fatalf("APP's stream is not under its account directory: %v", err)
	}
	jsz := s.JSZ(server.JSZOptions{Accounts: true})
	if len(jsz.AccountDetails) != 2 || jsz.AccountDetails[1].ID != app || jsz.AccountDetails[1].Name != "APP" {
		t.Fatalf("account details %+v, want $G and APP (name from its JWT, id its key)", jsz.AccountDetails)
	}

	jno := connect(s, nojsCreds)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := jno.AccountInfo(ctx); !errors.Is(err, jetstream.ErrJetStreamNotEnabled) {
		t.Fatalf("account without JetStream in its JWT: %v", err)
	}

	// The system account pushes a JWT that enables JetStream for NOJS.
	sys, err := nats.Connect(s.ClientURL(), nats.UserCredentials(sysCreds))
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	m, err := sys.Request("$SYS.REQ.ACCOUNT."+nojs+".CLAIMS.UPDATE", []byte(w.accountJWT("NOJS", true)), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		Data struct {
			Code int `json:"code"`
		} `json:"data"`
	}
	if err := json.Unmarshal(m.Data, &resp); err != nil || resp.Data.Code != 200 {
		t.Fatalf("claims update: %s", m.Data)
	}
	mustCreate(t, jno, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	// And one that takes it away again stops the engine.
	if _, err := sys.Request("$SYS.REQ.ACCOUNT."+nojs+".CLAIMS.UPDATE", []byte(w.accountJWT("NOJS", false)), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := e.JSZAccounts(); len(got) != 2 || got[1] != app {
		t.Fatalf("accounts with streaming after JetStream was taken from NOJS: %v", got)
	}

	// After a restart APP's streams run before any APP client comes.
	if err := s.Shutdown(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	s2, _ := w.run(dir)
	if info := s2.JSInfo(); info.Streams != 1 || info.Messages != 2 {
		t.Fatalf("after a restart: streams %d messages %d, want APP's 1 and 2", info.Streams, info.Messages)
	}
	if n := streamMsgs(t, connect(s2, appCreds), "S"); n != 2 {
		t.Fatalf("APP's stream has %d messages after a restart, want 2", n)
	}
}
