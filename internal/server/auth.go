package server

import (
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nkeys"
	"golang.org/x/crypto/bcrypt"
)

// AuthOptions say who may connect. Use one method: a token, a single
// user/password, or a Users list (users with passwords, nkey users, and with
// TLS VerifyAndMap users named by their client certificate). An empty
// AuthOptions lets every client in.
type AuthOptions struct {
	Token    string // plain, or bcrypt-hashed ("$2a$...")
	Username string // the single-user form (nats-server's --user/--pass)
	Password string // plain, or bcrypt-hashed
	Users    []User
	// DefaultPermissions apply to users that have none of their own.
	DefaultPermissions *Permissions
}

// User is one entry of AuthOptions.Users: Username with Password, or Nkey
// alone (the client proves it holds the seed by signing the INFO nonce), or,
// with TLS VerifyAndMap, Username alone naming a certificate (its subject
// "CN=alice,O=Acme", an e-mail or DNS name).
type User struct {
	Username    string
	Password    string
	Nkey        string
	Permissions *Permissions
	// Account the user belongs to; empty is the global account "$G".
	// Set from the user's place in Options.Accounts.
	Account string
}

// enabled reports whether any authentication is configured.
func (a *AuthOptions) enabled() bool {
	return a.Token != "" || a.Username != "" || len(a.Users) > 0
}

// authUser is a configured identity with its compiled permissions.
type authUser struct {
	name     string // user name, nkey, or "token"
	password []byte // nil: no password (nkey or certificate users)
	bcrypt   bool
	perms    *userPerms
	account  string      // "" is the global account
	jwt      *userClaims // operator mode: the user's JWT claims (jwt.go)
}

// authenticator checks CONNECT credentials. It is built once from Options
// and read-only afterwards, so read goroutines share it without locks.
type authenticator struct {
	token  *authUser
	users  map[string]*authUser // by user name
	nkeys  map[string]*authUser // by public key
	tlsMap bool                 // users are named by client certificates
	// noAuthUser is the user a CONNECT without credentials is taken to be.
	noAuthUser *authUser
	// operator mode: users present JWTs signed by accounts (jwt.go).
	op *operatorAuth
}

// newAuthenticator validates the auth options; nil when none are set.
func newAuthenticator(o *AuthOptions, tlsMap bool) (*authenticator, error) {
	if !o.enabled() {
		if tlsMap {
			return nil, errors.New("tls verify_and_map: no users to map certificates to; add users named by certificate subject")
		}
		return nil, nil
	}
	defPerms, err := compilePermissions(o.DefaultPermissions)
	if err != nil {
		return nil, fmt.Errorf("authorization default_permissions: %w", err)
	}
	a := &authenticator{users: map[string]*authUser{}, nkeys: map[string]*authUser{}, tlsMap: tlsMap}
	switch {
	case o.Token != "" && (o.Username != "" || len(o.Users) > 0):
		return nil, errors.New("authorization: a token cannot be combined with users; use one method")
	case o.Username != "" && len(o.Users) > 0:
		return nil, errors.New("authorization: user/password cannot be combined with a users list; add the user to users")
	case o.Token != "":
		a.token = &authUser{name: "token", password: []byte(o.Token), bcrypt: isBcrypt(o.Token), perms: defPerms}
		return a, nil
	case o.Username != "":
		if o.Password == "" && !tlsMap {
			return nil, fmt.Errorf("authorization: user %q has no password", o.Username)
		}
		a.users[o.Username] = &authUser{name: o.Username, password: []byte(o.Password), bcrypt: isBcrypt(o.Password), perms: defPerms}
		return a, nil
	}
	for i, u := range o.Users {
		perms := defPerms
		if u.Permissions != nil {
			if perms, err = compilePermissions(u.Permissions); err != nil {
				return nil, fmt.Errorf("authorization users[%d] permissions: %w", i, err)
			}
		}
		switch {
		case u.Nkey != "" && (u.Username != "" || u.Password != ""):
			return nil, fmt.Errorf("authorization users[%d]: an nkey user has no user name or password", i)
		case u.Nkey != "":
			if !nkeys.IsValidPublicUserKey(u.Nkey) {
				return nil, fmt.Errorf("authorization users[%d]: nkey %q is not a user public key (it starts with U; see `natsctl nkey gen user`)", i, u.Nkey)
			}
			if a.nkeys[u.Nkey] != nil {
				return nil, fmt.Errorf("authorization users[%d]: nkey %s is listed twice", i, u.Nkey)
			}
			a.nkeys[u.Nkey] = &authUser{name: u.Nkey, perms: perms, account: u.Account}
		case u.Username == "":
			return nil, fmt.Errorf("authorization users[%d]: needs a user (with a password) or an nkey", i)
		default:
			if u.Password == "" && !tlsMap {
				return nil, fmt.Errorf("authorization users[%d]: user %q has no password", i, u.Username)
			}
			if a.users[u.Username] != nil {
				return nil, fmt.Errorf("authorization users[%d]: user %q is listed twice", i, u.Username)
			}
			au := &authUser{name: u.Username, perms: perms, account: u.Account}
			if u.Password != "" {
				au.password, au.bcrypt = []byte(u.Password), isBcrypt(u.Password)
			}
			a.users[u.Username] = au
		}
	}
	return a, nil
}

// isBcrypt recognises a bcrypt hash by its "$2a$", "$2b$" or "$2y$" prefix.
func isBcrypt(s string) bool { return strings.HasPrefix(s, "$2") }

// needsNonce reports whether INFO must carry a nonce for nkey users.
func (a *authenticator) needsNonce() bool { return len(a.nkeys) > 0 || a.op != nil }

// check compares a secret in constant time, or through bcrypt.
func (u *authUser) check(secret string) bool {
	if u.bcrypt {
		return bcrypt.CompareHashAndPassword(u.password, []byte(secret)) == nil
	}
	return subtle.ConstantTimeCompare(u.password, []byte(secret)) == 1
}

// authenticate returns the user a CONNECT proves to be, or nil.
func (a *authenticator) authenticate(o *connectOpts, nonce []byte, certs []*x509.Certificate) *authUser {
	if a.tlsMap {
		if len(certs) == 0 {
			return nil
		}
		for _, name := range certNames(certs[0]) {
			if u := a.users[name]; u != nil {
				return u
			}
		}
		return nil
	}
	if a.op != nil {
		return a.op.authenticate(o, nonce)
	}
	if a.noAuthUser != nil && o.User == "" && o.Pass == "" && o.Token == "" && o.Nkey == "" && o.JWT == "" {
		return a.noAuthUser
	}
	if a.token != nil {
		if a.token.check(o.Token) {
			return a.token
		}
		return nil
	}
	if o.Nkey != "" {
		u := a.nkeys[o.Nkey]
		if u == nil || len(nonce) == 0 || !verifyNonce(o.Nkey, o.Sig, nonce) {
			return nil
		}
		return u
	}
	u := a.users[o.User]
	if u == nil || u.password == nil || !u.check(o.Pass) {
		return nil
	}
	return u
}

// verifyNonce checks that sig (base64, URL or standard alphabet) is pub's
// signature of the nonce; the seed never crosses the wire.
func verifyNonce(pub, sig string, nonce []byte) bool {
	raw, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		if raw, err = base64.StdEncoding.DecodeString(sig); err != nil {
			return false
		}
	}
	kp, err := nkeys.FromPublicKey(pub)
	if err != nil {
		return false
	}
	return kp.Verify(nonce, raw) == nil
}

// certNames are the names a client certificate may be mapped by, in
// nats-server's order: e-mail addresses, DNS names, URIs, then the subject
// as an RFC 2253 string ("CN=alice,O=Acme").
func certNames(cert *x509.Certificate) []string {
	names := append([]string(nil), cert.EmailAddresses...)
	names = append(names, cert.DNSNames...)
	for _, u := range cert.URIs {
		names = append(names, u.String())
	}
	return append(names, cert.Subject.String())
}

// newNonce returns 11 random bytes as 15 base64url characters, the shape of
// nats-server's nonce.
func newNonce() []byte {
	var b [11]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	out := make([]byte, base64.RawURLEncoding.EncodedLen(len(b)))
	base64.RawURLEncoding.Encode(out, b[:])
	return out
}

// connSecurity is a connection's identity, permissions and TLS state.
type connSecurity struct {
	raw       net.Conn    // the TCP socket under TLS; nil without TLS
	nonce     []byte      // sent in INFO when nkey users exist
	authTimer *time.Timer // closes a client that does not authenticate in time
	// perms is set by the read goroutine on CONNECT and read by publishers
	// delivering to this connection.
	perms     atomic.Pointer[userPerms]
	user      string                 // authenticated name; written under mu
	jwt       string                 // the user JWT presented (operator mode); written under mu
	uclaims   *userClaims            // its claims, for revocation; under mu
	creds     connectOpts            // the CONNECT that authenticated, for Reload; under mu
	connected bool                   // CONNECT processed; under mu
	pubFor    *userPerms             // the permissions pubCache was filled for; read goroutine only
	pubCache  map[string]bool        // read goroutine only
	replies   map[string]*replyGrant // allow_responses grants; under mu
}

// prepareSecurity fills the per-connection INFO fields before INFO is sent.
func (s *Server) prepareSecurity(c *conn, info *serverInfo) {
	if s.tlsConf != nil {
		c.sec.raw = c.nc
		c.nc = tls.Server(c.nc, s.tlsConf)
	}
	auth := s.authn()
	info.AuthRequired = auth != nil // Reload may have changed it
	if auth == nil {
		return
	}
	c.p.needConnect = true
	if auth.needsNonce() {
		c.sec.nonce = newNonce()
		info.Nonce = string(c.sec.nonce)
	}
}

// startSecurity runs before the connection's goroutines: it sends a plain
// INFO ahead of TLS and arms the auth timeout.
func (c *conn) startSecurity() {
	s := c.srv
	if s.tlsConf != nil && !s.opts.TLS.HandshakeFirst {
		c.sendPlainInfo()
	}
	if c.p.needConnect {
		c.sec.authTimer = time.AfterFunc(s.opts.AuthTimeout, c.authTimeout)
	}
}

// authTimeout ends a connection that did not authenticate in time.
func (c *conn) authTimeout() {
	c.log.Debug("authentication timeout")
	c.enqueue(errLine(errAuthTimeout))
	c.closeConn(closeAuthTimeout, true)
}

// authenticate checks a CONNECT against the configured users and installs
// the user's permissions; a failure ends the connection with nats-server's
// -ERR 'Authorization Violation'.
func (c *conn) authenticate(o *connectOpts) error {
	u := &authUser{} // a Reload removed authentication meanwhile
	if a := c.srv.authn(); a != nil {
		u = a.authenticate(o, c.sec.nonce, c.peerCerts())
	}
	if u == nil {
		c.log.Info("authentication failed", "user", o.User, "nkey", o.Nkey)
		return errParseAuthViolation
	}
	if c.sec.authTimer != nil {
		c.sec.authTimer.Stop()
	}
	acc := c.srv.GlobalAccount()
	if u.account != "" {
		acc = c.srv.lookupAccount(u.account)
	}
	if acc == nil {
		c.log.Info("authentication failed: account not found", "user", u.name, "account", u.account)
		return errParseAuthViolation
	}
	c.mu.Lock()
	err := c.bindAccountLocked(acc)
	if err == nil {
		c.sec.user, c.sec.creds = u.name, *o
	}
	c.mu.Unlock()
	if err != nil {
		c.log.Info("connection refused", "account", acc.Name, "err", err)
		return errParseAccountConns
	}
	if u.jwt != nil {
		c.watchUserExpiry(u.jwt)
	}
	c.p.needConnect = false
	c.sec.perms.Store(u.perms)
	c.sec.pubCache = nil
	c.log.Debug("authenticated", "user", u.name)
	return nil
}

// AuthRequired reports whether clients must authenticate.
func (s *Server) AuthRequired() bool { return s.authn() != nil }

// authn is the current authenticator; nil when clients need none.
func (s *Server) authn() *authenticator { return s.authp.Load() }

// isLoopback reports whether host only accepts local connections.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// warnExposure logs a prominent warning for an open, non-loopback server
// (RequireAuth refuses to start instead: newSecurity).
func (s *Server) warnExposure() {
	if isLoopback(s.opts.Host) || s.authn() != nil || s.opts.TLS.verify() {
		return
	}
	s.log.Warn("SECURITY WARNING: clients can connect from the network WITHOUT AUTHENTICATION: anyone who reaches "+s.Addr().String()+" can publish and subscribe to everything. Configure a token, users or nkeys (`natsctl serve --help`), listen on 127.0.0.1, or set require_auth to refuse to start like this.",
		"addr", s.Addr().String())
}

// newSecurity builds the authenticator and the TLS config from the options,
// and refuses an unauthenticated non-loopback server under RequireAuth.
func newSecurity(o *Options) (*authenticator, *tls.Config, error) {
	tlsConf, err := o.TLS.ServerConfig()
	if err != nil {
		return nil, nil, err
	}
	if tlsConf == nil && (o.TLS.verify() || o.TLS.HandshakeFirst) {
		return nil, nil, errors.New("tls: verify and handshake_first need a certificate and key (cert_file/key_file, --tlscert/--tlskey)")
	}
	switch {
	case o.HTTPSPort != 0 && tlsConf == nil:
		return nil, nil, errors.New("https_port: monitoring over HTTPS needs the TLS certificate and key (tls cert_file/key_file, --tlscert/--tlskey)")
	case o.HTTPSPort != 0 && o.HTTPPort != 0:
		return nil, nil, errors.New("http_port and https_port: monitoring is served over one of them; set the other to 0")
	case o.HTTPSPort < -1 || o.HTTPSPort > 65535:
		return nil, nil, fmt.Errorf("https_port: %d is out of range (0 for off, -1 for a random port, or 1-65535)", o.HTTPSPort)
	}
	auth, err := newAccountsAuthenticator(o)
	if err != nil {
		return nil, nil, err
	}
	if o.RequireAuth && auth == nil && !o.operatorMode() && !o.TLS.verify() && !isLoopback(o.Host) {
		return nil, nil, fmt.Errorf("require_auth: listening on %s with no authentication; configure a token, users or nkeys (see `natsctl serve --help`), or listen on 127.0.0.1", o.Host)
	}
	return auth, tlsConf, nil
}
