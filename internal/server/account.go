package server

import (
	"errors"
	"fmt"
	"github.com/nats-io/jwt/v2"

	"github.com/natsctl/natsctl/internal/monitorapi"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Account names nats-server reserves: every client without an account is in
// the global account (GlobalAccountName, as nats-server and /jsz name it);
// the system account carries advisories and $SYS requests (sysacc.go).
const (
	GlobalAccountName = "$G"
	systemAccount     = "$SYS"
)

// AccountOptions is one account of Options.Accounts, nats-server's
//
//	accounts { A: { users: [...], exports: [...], imports: [...] } }
type AccountOptions struct {
	Name    string
	Users   []User
	Exports []Export
	Imports []Import
	Limits  AccountLimits
	// DefaultPermissions apply to the account's users that have none.
	DefaultPermissions *Permissions
	// TraceDest traces the messages of the account that carry a sampled
	// W3C traceparent header, TraceSampling percent of them (1..100; 0
	// means 100), to this subject (nats-server msg_trace; msgtrace_w3c.go).
	TraceDest     string
	TraceSampling int
}

// AccountLimits cap an account; zero means unlimited (the server-wide
// limits still apply).
type AccountLimits struct {
	MaxConnections   int   // connections of the account at once
	MaxSubscriptions int   // subscriptions of the account at once
	MaxPayload       int32 // largest payload a client of the account may publish
}

// Account is one subject space: a message published in an account reaches
// only subscriptions of that account, and other accounts only through the
// imports it exports to them (imports.go).
type Account struct {
	Name    string
	sl      *Sublist
	lim     atomic.Pointer[AccountLimits] // nil: unlimited; replaced by Reload and JWT updates
	trace   atomic.Pointer[accountTrace]  // nil: no trace_dest (msgtrace_w3c.go)
	created time.Time
	claims  atomic.Pointer[jwt.AccountClaims] // operator mode: the account JWT (jwt.go)

	nconns atomic.Int32 // client connections bound to the account
	nsubs  atomic.Int32 // client subscriptions, counted only under a limit

	exports []*exportEntry // read-only once the account set is built
	imports []*importEntry
	resp    respMap // service import replies waiting for a response (imports.go)

	ic     *InternalClient // publishes the account's advisories (sysacc.go)
	icOnce sync.Once
}

// newAccount returns an empty account.
func newAccount(name string) *Account {
	return &Account{Name: name, sl: NewSublist(), created: time.Now()}
}

// NumSubscriptions is the number of subscriptions in the account.
func (a *Account) NumSubscriptions() int { return a.sl.Count() }

// accountSet is the server's accounts; replaced whole on reload, so readers
// load it once and need no lock.
type accountSet struct {
	byName map[string]*Account
	global *Account
	sys    *Account
}

// names lists the accounts sorted.
func (as *accountSet) names() []string {
	out := make([]string, 0, len(as.byName))
	for n := range as.byName {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// lookupAccount returns the named account, or nil.
func (s *Server) lookupAccount(name string) *Account {
	if a := s.accs.Load().byName[name]; a != nil {
		return a
	}
	return s.resolveAccount(name) // operator mode: fetched on demand (jwt.go)
}

// Account returns the named account, or nil.
func (s *Server) Account(name string) *Account { return s.lookupAccount(name) }

// GlobalAccount is "$G", where clients without an account are. A Server
// built without New (unit tests) gets an empty account set on first use.
func (s *Server) GlobalAccount() *Account {
	as := s.accs.Load()
	if as == nil {
		g := newAccount(GlobalAccountName)
		s.accs.CompareAndSwap(nil, &accountSet{byName: map[string]*Account{GlobalAccountName: g}, global: g, sys: g})
		as = s.accs.Load()
	}
	return as.global
}

// SystemAccount is the account that receives advisories and answers $SYS
// requests.
func (s *Server) SystemAccount() *Account { return s.accs.Load().sys }

// buildAccounts makes the account set of opts, reusing the accounts of old
// (reload) so their subscriptions stay, and wires exports and imports.
func buildAccounts(opts *Options, old *accountSet) (*accountSet, error) {
	as := &accountSet{byName: map[string]*Account{}}
	get := func(name string) *Account {
		if a := as.byName[name]; a != nil {
			return a
		}
		var a *Account
		if old != nil {
			a = old.byName[name]
		}
		if a == nil {
			a = newAccount(name)
		}
		as.byName[name] = a
		return a
	}
	as.global = get(GlobalAccountName)
	for i, ao := range opts.Accounts {
		switch {
		case ao.Name == "":
			return nil, fmt.Errorf("accounts[%d]: an account needs a name", i)
		case ao.Name == GlobalAccountName:
			return nil, fmt.Errorf("accounts: %q is reserved for clients without an account; choose another name", ao.Name)
		}
		if seenTwice(opts.Accounts, ao.Name) {
			return nil, fmt.Errorf("accounts: %q is configured twice", ao.Name)
		}
		a := get(ao.Name)
		if ao.Limits.MaxConnections < 0 || ao.Limits.MaxSubscriptions < 0 || ao.Limits.MaxPayload < 0 {
			return nil, fmt.Errorf("accounts %s: limits must be 0 (unlimited) or positive", ao.Name)
		}
		a.setLimits(ao.Limits)
		if err := a.setTraceDest(ao.TraceDest, ao.TraceSampling); err != nil {
			return nil, fmt.Errorf("accounts %s: %w", ao.Name, err)
		}
	}
	sysName := opts.SystemAccount
	if sysName == "" {
		sysName = systemAccount
	}
	if opts.SystemAccount != "" && as.byName[sysName] == nil && !opts.operatorMode() {
		return nil, fmt.Errorf("system_account: account %q is not configured; add it to accounts", sysName)
	}
	as.sys = get(sysName)
	if err := wireImports(opts, as); err != nil {
		return nil, err
	}
	return as, nil
}

func seenTwice(list []AccountOptions, name string) bool {
	n := 0
	for _, a := range list {
		if a.Name == name {
			n++
		}
	}
	return n > 1
}

// accountUsers returns the users of the accounts, each tagged with its
// account, for the authenticator.
func accountUsers(opts *Options) []User {
	var out []User
	for _, ao := range opts.Accounts {
		for _, u := range ao.Users {
			u.Account = ao.Name
			if u.Permissions == nil {
				u.Permissions = ao.DefaultPermissions
			}
			out = append(out, u)
		}
	}
	return out
}

// errAccountConns is refused when an account is at its connection limit.
var errAccountConns = errors.New("maximum account active connections exceeded")

// bindAccountLocked moves c into acc at authentication, checking the
// account's connection limit. c.mu held.
func (c *conn) bindAccountLocked(acc *Account) error {
	if acc == c.acc {
		return nil
	}
	if max := acc.limits().MaxConnections; max > 0 && int(acc.nconns.Load()) >= max {
		return errAccountConns
	}
	if c.acc != nil && c.counted {
		c.acc.nconns.Add(-1)
	}
	acc.nconns.Add(1)
	c.acc, c.counted = acc, true
	if max := acc.limits().MaxPayload; max > 0 && int(max) < c.p.maxPayload {
		c.p.maxPayload = int(max)
	}
	return nil
}

// subLimitReached reports whether acc can take no more subscriptions, and
// counts one more when it can.
func (a *Account) subLimitReached() bool {
	max := a.limits().MaxSubscriptions
	if max <= 0 {
		return false
	}
	if int(a.nsubs.Add(1)) > max {
		a.nsubs.Add(-1)
		return true
	}
	return false
}

// subRemoved uncounts a subscription removed from acc.
func (a *Account) subRemoved() {
	if a.limits().MaxSubscriptions > 0 {
		a.nsubs.Add(-1)
	}
}

// allAccounts returns the accounts sorted by name.
func (s *Server) allAccounts() []*Account {
	as := s.accs.Load()
	out := make([]*Account, 0, len(as.byName))
	for _, n := range as.names() {
		out = append(out, as.byName[n])
	}
	return out
}

// removeSub takes sub out of the account's Sublist.
func (a *Account) removeSub(sub *subscription) {
	if a.sl.Remove(sub) && sub.c != nil && sub.c.route == nil && sub.imp == nil && sub.handler == nil {
		a.subRemoved()
	}
}

// adoptAccounts makes as the server's account set: route interest hooks on
// every Sublist, then the import subscriptions.
func (s *Server) adoptAccounts(as *accountSet) {
	for _, a := range as.byName {
		s.adoptAccount(a)
	}
	s.accs.Store(as)
	s.installImports(as)
}

// adoptAccount prepares an account for use by this server.
func (s *Server) adoptAccount(a *Account) {
	if s.cluster != nil {
		a.sl.onChange = s.localInterestChanged
	}
}

// numSubs counts the subscriptions of every account.
func (s *Server) numSubs() int {
	n := 0
	for _, a := range s.accs.Load().byName {
		n += a.sl.Count()
	}
	return n
}

// subStats sums the Sublist statistics of every account, as /subsz reports
// them (nats-server adds the accounts' figures up).
func (s *Server) subStats() *monitorapi.SublistStats {
	var sum monitorapi.SublistStats
	var fan float64
	var hits float64
	for _, a := range s.accs.Load().byName {
		st := a.sl.stats()
		sum.NumSubs += st.NumSubs
		sum.NumCache += st.NumCache
		sum.NumInserts += st.NumInserts
		sum.NumRemoves += st.NumRemoves
		sum.NumMatches += st.NumMatches
		sum.MaxFanout = max(sum.MaxFanout, st.MaxFanout)
		fan += st.AvgFanout * float64(st.NumCache)
		hits += st.CacheHitRate * float64(st.NumMatches)
	}
	if sum.NumCache > 0 {
		sum.AvgFanout = fan / float64(sum.NumCache)
	}
	if sum.NumMatches > 0 {
		sum.CacheHitRate = hits / float64(sum.NumMatches)
	}
	return &sum
}

// accountName is c's account name, read under c.mu.
func (c *conn) accountName() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.acc.Name
}

// Close reasons of accounts and credentials, after the shared ones in
// closereason.go (routes use 200+).
const (
	closeMaxAccountConns closeReason = 100 + iota
	closeAuthExpired
	closeRevoked
	closeReloadRemoved // config reload: the user is no longer allowed
)

func accountCloseReasonString(r closeReason) string {
	switch r {
	case closeMaxAccountConns:
		return "Maximum Account Connections Exceeded"
	case closeAuthExpired:
		return "Authentication Expired"
	case closeRevoked:
		return "Credentials Revoked"
	case closeReloadRemoved:
		return "Authentication Failure"
	}
	return ""
}

// -ERR texts of accounts, as nats-server sends them.
var (
	errParseAccountConns = &protoError{"maximum account active connections exceeded", closeMaxAccountConns}
	errUserExpired       = "User Authentication Expired"
)

// newAccountsAuthenticator builds the authenticator from the authorization
// block plus the users of every account.
func newAccountsAuthenticator(o *Options) (*authenticator, error) {
	ao := o.Auth
	ao.Users = append(slices.Clone(ao.Users), accountUsers(o)...)
	a, err := newAuthenticator(&ao, o.TLS.VerifyAndMap)
	if err != nil || a == nil {
		if err == nil && o.NoAuthUser != "" {
			return nil, fmt.Errorf("no_auth_user: %q is not a configured user", o.NoAuthUser)
		}
		return a, err
	}
	if o.NoAuthUser != "" {
		if a.noAuthUser = a.users[o.NoAuthUser]; a.noAuthUser == nil {
			return nil, fmt.Errorf("no_auth_user: %q is not a configured user; add it to authorization users or to an account", o.NoAuthUser)
		}
	}
	return a, nil
}

var noLimits AccountLimits

// limits are the account's current limits.
func (a *Account) limits() *AccountLimits {
	if l := a.lim.Load(); l != nil {
		return l
	}
	return &noLimits
}

func (a *Account) setLimits(l AccountLimits) { a.lim.Store(&l) }

// HasInterestIn reports whether any subscription of the account (local or
// a route's) matches the literal subject.
func (a *Account) HasInterestIn(subject string) bool { return a.hasInterest(subject) }

// StreamingAccounts are the accounts that get their own streams now
// (every account but the global and the system account; in operator mode
// the loaded ones whose JWT enables JetStream). AccountWatcher hears of
// later changes.
func (s *Server) StreamingAccounts() []string {
	as := s.accs.Load()
	var out []string
	for _, n := range as.names() {
		if as.streamingAccount(as.byName[n]) {
			out = append(out, n)
		}
	}
	return out
}
