package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// Operator mode (decentralized auth, as nats-server does it with
// github.com/nats-io/jwt/v2): the configured operator JWTs name the keys
// trusted to sign account JWTs; a resolver supplies an account's JWT by its
// public key; a client presents a user JWT signed by an account (or one of
// its signing keys) and signs the INFO nonce with the user's seed (the
// .creds file holds both). Accounts are named by their public keys and are
// loaded on first use. Expired, revoked and unknown users get
// 'Authorization Violation'. A $SYS.REQ.ACCOUNT.<id>.CLAIMS.UPDATE request
// (or the older $SYS.ACCOUNT.<id>.CLAIMS.UPDATE) replaces an account's JWT;
// users it revokes are disconnected.

// ResolverOptions say where account JWTs come from in operator mode:
// Type "MEMORY" serves Preload (account public key -> JWT); "full" and
// "cache" read "<pubkey>.jwt" files under Dir ("full" also stores updates
// there).
type ResolverOptions struct {
	Type    string
	Dir     string
	Preload map[string]string
}

// operatorMode reports whether accounts come from JWTs.
func (o *Options) operatorMode() bool { return len(o.Operators) > 0 }

// operatorState is the server's trusted operators and account resolver.
type operatorState struct {
	trusted map[string]bool // operator identities and signing keys
	sysAcc  string          // from the operator JWT when the options do not say
	mu      sync.Mutex      // serialises resolving and updating accounts
	mem     map[string]string
	dir     string
	store   bool // updates are written to dir
}

// newOperatorState loads the operator JWTs (inline or files) and the
// resolver.
func newOperatorState(o *Options) (*operatorState, error) {
	op := &operatorState{trusted: map[string]bool{}, mem: map[string]string{}}
	if len(o.Accounts) > 0 {
		return nil, errors.New("operator: accounts are configured by account JWTs in operator mode; remove the accounts block")
	}
	for _, src := range o.Operators {
		tok := strings.TrimSpace(src)
		if !strings.HasPrefix(tok, "eyJ") { // not a JWT: a file
			b, err := os.ReadFile(src)
			if err != nil {
				return nil, fmt.Errorf("operator: %w", err)
			}
			if tok, err = jwt.ParseDecoratedJWT(b); err != nil {
				return nil, fmt.Errorf("operator %s: %w", src, err)
			}
		}
		oc, err := jwt.DecodeOperatorClaims(tok)
		if err != nil {
			return nil, fmt.Errorf("operator %s: not an operator JWT: %w", src, err)
		}
		if oc.Expires > 0 && time.Now().Unix() >= oc.Expires {
			return nil, fmt.Errorf("operator %s: the operator JWT expired at %s", oc.Subject, time.Unix(oc.Expires, 0).UTC())
		}
		op.trusted[oc.Subject] = true
		for _, k := range oc.SigningKeys {
			op.trusted[k] = true
		}
		if op.sysAcc == "" {
			op.sysAcc = oc.SystemAccount
		}
	}
	r := o.Resolver
	switch strings.ToLower(r.Type) {
	case "memory", "mem":
		for pub, tok := range r.Preload {
			if _, err := op.verifyAccount(pub, tok); err != nil {
				return nil, fmt.Errorf("resolver_preload %s: %w", pub, err)
			}
			op.mem[pub] = tok
		}
	case "full", "cache", "dir":
		if r.Dir == "" {
			return nil, errors.New("resolver: type full or cache needs dir, the directory of <account>.jwt files")
		}
		if err := os.MkdirAll(r.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("resolver dir: %w", err)
		}
		op.dir, op.store = r.Dir, strings.ToLower(r.Type) == "full"
		for pub, tok := range r.Preload {
			op.mem[pub] = tok
		}
	case "":
		return nil, errors.New("operator: operator mode needs a resolver (resolver: MEMORY with resolver_preload, or resolver { type: full, dir: ... })")
	default:
		return nil, fmt.Errorf("resolver: type %q is not supported (MEMORY, full or cache)", r.Type)
	}
	return op, nil
}

// verifyAccount decodes an account JWT and checks it is for pub, signed by
// a trusted operator key and not expired.
func (op *operatorState) verifyAccount(pub, tok string) (*jwt.AccountClaims, error) {
	ac, err := jwt.DecodeAccountClaims(tok)
	switch {
	case err != nil:
		return nil, fmt.Errorf("not an account JWT: %w", err)
	case pub != "" && ac.Subject != pub:
		return nil, fmt.Errorf("the JWT is for account %s", ac.Subject)
	case !op.trusted[ac.Issuer]:
		return nil, fmt.Errorf("the account JWT is signed by %s, not a trusted operator", ac.Issuer)
	case ac.Expires > 0 && time.Now().Unix() >= ac.Expires:
		return nil, errors.New("the account JWT expired")
	}
	return ac, nil
}

// fetch returns the stored JWT of account pub, "" when there is none.
func (op *operatorState) fetch(pub string) string {
	if tok := op.mem[pub]; tok != "" {
		return tok
	}
	if op.dir == "" || !nkeys.IsValidPublicAccountKey(pub) {
		return ""
	}
	for _, p := range []string{filepath.Join(op.dir, pub+".jwt"), filepath.Join(op.dir, pub[len(pub)-2:], pub+".jwt")} {
		if b, err := os.ReadFile(p); err == nil {
			return strings.TrimSpace(string(b))
		}
	}
	return ""
}

// save keeps an updated account JWT.
func (op *operatorState) save(pub, tok string) error {
	if op.dir != "" && op.store {
		return os.WriteFile(filepath.Join(op.dir, pub+".jwt"), []byte(tok), 0o600)
	}
	op.mem[pub] = tok
	return nil
}

// resolveAccount loads account name from the resolver in operator mode;
// nil when it is not found or not valid.
func (s *Server) resolveAccount(name string) *Account {
	op := s.op
	if op == nil || !nkeys.IsValidPublicAccountKey(name) {
		return nil
	}
	a, ac := s.loadAccount(name)
	if a != nil && ac != nil {
		s.wireJWTImports(a, ac) // outside op.mu: resolving exporters takes it
		if s.accs.Load().streamingAccount(a) {
			s.accountsChanged(a.Name)
		}
	}
	return a
}

// loadAccount creates account name from its JWT; ac is nil when another
// goroutine did it first.
func (s *Server) loadAccount(name string) (*Account, *jwt.AccountClaims) {
	op := s.op
	op.mu.Lock()
	defer op.mu.Unlock()
	if a := s.accs.Load().byName[name]; a != nil {
		return a, nil
	}
	tok := op.fetch(name)
	if tok == "" {
		return nil, nil
	}
	ac, err := op.verifyAccount(name, tok)
	if err != nil {
		s.log.Warn("account JWT refused", "account", name, "err", err)
		return nil, nil
	}
	a := newAccount(name)
	a.applyClaims(ac)
	a.exports = jwtExports(ac)
	s.addAccountLocked(a)
	return a, ac
}

// jwtExports compiles an account JWT's exports. Exports that require an
// activation token are not importable here (activations are not
// supported).
func jwtExports(ac *jwt.AccountClaims) []*exportEntry {
	var out []*exportEntry
	for _, e := range ac.Exports {
		ex := Export{Stream: string(e.Subject)}
		if e.Type == jwt.Service {
			ex = Export{Service: string(e.Subject), ResponseThreshold: e.ResponseThreshold, AllowTrace: e.AllowTrace}
			switch e.ResponseType {
			case jwt.ResponseTypeStream:
				ex.ResponseType = "stream"
			case jwt.ResponseTypeChunked:
				ex.ResponseType = "chunked"
			}
		}
		if e.TokenReq {
			ex.Accounts = []string{"\x00activation"} // nobody
		}
		if ee, err := compileExport(ex); err == nil {
			out = append(out, ee)
		}
	}
	return out
}

// wireJWTImports installs an account JWT's imports; an import its exporter
// does not allow is logged and skipped (nats-server does the same).
func (s *Server) wireJWTImports(a *Account, ac *jwt.AccountClaims) {
	for _, im := range ac.Imports {
		from := s.lookupAccount(im.Account)
		if from == nil {
			s.log.Warn("account import skipped: exporter not found", "account", a.Name, "exporter", im.Account)
			continue
		}
		o := Import{Service: im.Type == jwt.Service, Account: im.Account, Subject: string(im.Subject), AllowTrace: im.AllowTrace}
		switch {
		case o.Service && im.LocalSubject != "":
			o.To = string(im.LocalSubject)
		case o.Service: // Subject is the importer's; To (deprecated) the exporter's
			if im.To != "" {
				o.Subject, o.To = string(im.To), string(im.Subject)
			}
		case im.LocalSubject != "":
			o.To = string(im.LocalSubject)
		case im.To != "":
			o.Prefix = string(im.To)
		}
		set := &accountSet{byName: map[string]*Account{a.Name: a, from.Name: from}}
		ie, err := compileImport(a, o, set)
		if err != nil {
			s.log.Warn("account import skipped", "account", a.Name, "err", err)
			continue
		}
		s.installImport(ie)
	}
}

// addAccountLocked publishes a new account set with a. op.mu held.
func (s *Server) addAccountLocked(a *Account) {
	old := s.accs.Load()
	as := &accountSet{byName: make(map[string]*Account, len(old.byName)+1), global: old.global, sys: old.sys}
	for k, v := range old.byName {
		as.byName[k] = v
	}
	as.byName[a.Name] = a
	s.adoptAccount(a)
	s.accs.Store(as)
}

// applyClaims takes an account JWT's limits and revocations.
func (a *Account) applyClaims(ac *jwt.AccountClaims) {
	lim := func(n int64) int64 {
		if n < 0 {
			return 0
		}
		return n
	}
	a.setLimits(AccountLimits{
		MaxConnections:   int(lim(ac.Limits.Conn)),
		MaxSubscriptions: int(lim(ac.Limits.Subs)),
		MaxPayload:       int32(min(lim(ac.Limits.Payload), 1<<31-1)),
	})
	if ac.Trace != nil && ac.Trace.Destination != "" {
		_ = a.setTraceDest(string(ac.Trace.Destination), ac.Trace.Sampling) // the claims were validated
	} else {
		_ = a.setTraceDest("", 0)
	}
	a.claims.Store(ac)
}

// operatorAuth authenticates users by JWT in operator mode.
type operatorAuth struct{ s *Server }

// userClaims is a connected user's JWT, kept for revocation checks.
type userClaims struct{ uc *jwt.UserClaims }

// authenticate checks a CONNECT's user JWT and nonce signature.
func (op *operatorAuth) authenticate(o *connectOpts, nonce []byte) *authUser {
	if o.JWT == "" {
		return nil
	}
	uc, err := jwt.DecodeUserClaims(o.JWT)
	if err != nil {
		return nil
	}
	now := time.Now().Unix()
	if (uc.Expires > 0 && now >= uc.Expires) || (uc.NotBefore > 0 && now < uc.NotBefore) {
		return nil
	}
	issuer := uc.Issuer
	if uc.IssuerAccount != "" {
		issuer = uc.IssuerAccount
	}
	acc := op.s.lookupAccount(issuer)
	if acc == nil {
		return nil
	}
	ac := acc.claims.Load()
	if ac == nil || !ac.DidSign(uc) || ac.IsClaimRevoked(uc) {
		return nil
	}
	if !uc.BearerToken || ac.Limits.DisallowBearer {
		if len(nonce) == 0 || !verifyNonce(uc.Subject, o.Sig, nonce) {
			return nil
		}
	}
	perms, err := compilePermissions(jwtPermissions(&uc.Permissions))
	if err != nil {
		return nil
	}
	return &authUser{name: uc.Subject, account: acc.Name, perms: perms, jwt: &userClaims{uc}}
}

// jwtPermissions converts a user JWT's permissions; nil when it has none.
func jwtPermissions(p *jwt.Permissions) *Permissions {
	if len(p.Pub.Allow) == 0 && len(p.Pub.Deny) == 0 && len(p.Sub.Allow) == 0 && len(p.Sub.Deny) == 0 && p.Resp == nil {
		return nil
	}
	out := &Permissions{}
	if len(p.Pub.Allow) > 0 || len(p.Pub.Deny) > 0 {
		out.Publish = &SubjectPermission{Allow: p.Pub.Allow, Deny: p.Pub.Deny}
	}
	if len(p.Sub.Allow) > 0 || len(p.Sub.Deny) > 0 {
		out.Subscribe = &SubjectPermission{Allow: p.Sub.Allow, Deny: p.Sub.Deny}
	}
	if p.Resp != nil {
		out.Response = &ResponsePermission{MaxMsgs: p.Resp.MaxMsgs, Expires: p.Resp.Expires}
	}
	return out
}

// watchUserExpiry closes the connection when its user JWT expires, with
// nats-server's -ERR 'User Authentication Expired'.
func (c *conn) watchUserExpiry(u *userClaims) {
	c.mu.Lock()
	c.sec.jwt, c.sec.uclaims = c.opts.JWT, u
	c.mu.Unlock()
	if u.uc.Expires <= 0 {
		return
	}
	time.AfterFunc(time.Until(time.Unix(u.uc.Expires, 0)), func() {
		c.enqueue(errLine(errUserExpired))
		c.closeConn(closeAuthExpired, true)
	})
}

// claimsUpdate handles $SYS.REQ.ACCOUNT.<id>.CLAIMS.UPDATE (and the older
// $SYS.ACCOUNT.<id>.CLAIMS.UPDATE): the body is the account's new JWT.
func (s *Server) claimsUpdate(subject, reply string, _, data []byte) {
	if s.op == nil {
		return
	}
	toks := strings.Split(subject, ".")
	pub := ""
	switch len(toks) {
	case 6: // $SYS.REQ.ACCOUNT.<id>.CLAIMS.UPDATE
		pub = toks[3]
	case 5: // $SYS.ACCOUNT.<id>.CLAIMS.UPDATE
		pub = toks[2]
	default:
		return
	}
	msg, code, err := "jwt updated", 200, s.updateAccountJWT(pub, strings.TrimSpace(string(data)))
	if err != nil {
		msg, code = "jwt update resulted in error", 500
	}
	if reply == "" {
		return
	}
	resp := serverAPIResponse{Server: s.eventServer()}
	if err != nil {
		resp.Error = &apiError{Code: code, Description: msg + " - " + err.Error()}
	} else {
		resp.Data = map[string]any{"account": pub, "code": code, "message": msg}
	}
	s.sysReply(reply, &resp)
}

// updateAccountJWT verifies and stores an account JWT and applies it to the
// account if it is loaded, disconnecting users it revokes.
func (s *Server) updateAccountJWT(pub, tok string) error {
	op := s.op
	if tok == "" {
		return errors.New("request body is empty")
	}
	ac, err := op.verifyAccount(pub, tok)
	if err != nil {
		return err
	}
	op.mu.Lock()
	err = op.save(pub, tok)
	a := s.accs.Load().byName[pub]
	op.mu.Unlock()
	if err != nil {
		return err
	}
	if a == nil {
		return nil
	}
	a.applyClaims(ac)
	s.claimsChanged(a)
	for _, c := range s.snapshotConns() {
		c.mu.Lock()
		uc, inAcc := c.sec.uclaims, c.acc == a
		c.mu.Unlock()
		if inAcc && uc != nil && ac.IsClaimRevoked(uc.uc) {
			c.log.Info("user revoked by an account update", "user", uc.uc.Subject)
			c.enqueue(errLine(errAuthViolation))
			c.closeConn(closeRevoked, true)
		}
	}
	return nil
}

// initOperator sets up operator mode: the trusted operators, the resolver,
// the system account from the operator JWT, and an authenticator that
// takes user JWTs.
func (s *Server) initOperator() error {
	if !s.opts.operatorMode() {
		return nil
	}
	op, err := newOperatorState(&s.opts)
	if err != nil {
		return err
	}
	s.op = op
	if s.authn() != nil {
		return errors.New("operator: users are user JWTs in operator mode; remove authorization users, token and password")
	}
	s.authp.Store(&authenticator{users: map[string]*authUser{}, nkeys: map[string]*authUser{}, op: &operatorAuth{s: s}})
	return nil
}

// operatorSystemAccount is the system account's name in operator mode.
func (o *operatorState) systemAccount() string {
	if o == nil {
		return ""
	}
	return o.sysAcc
}

// loadSystemClaims gives the system account its JWT in operator mode.
func (s *Server) loadSystemClaims(as *accountSet) {
	if s.op == nil || as.sys == nil {
		return
	}
	if tok := s.op.fetch(as.sys.Name); tok != "" {
		if ac, err := s.op.verifyAccount(as.sys.Name, tok); err == nil {
			as.sys.applyClaims(ac)
		} else {
			s.log.Warn("system account JWT refused", "account", as.sys.Name, "err", err)
		}
	}
}
