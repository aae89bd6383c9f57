package server

import "github.com/nats-io/jwt/v2"

// AccountWatcher is implemented by an engine that serves each account
// apart (the streaming engine starts one engine per account): the server
// tells it about accounts that become or stop being streaming accounts
// (StreamingAccounts) while it runs, so that an account added by a reload
// or resolved in operator mode gets its streams without a restart.
//
// AccountChanged(name) says only that name may have changed: the engine
// checks it against StreamingAccounts, so announcements that come
// concurrently and out of order (operator mode) cannot mislead it. For an
// account that appears it runs after the new account set is published
// (the account can be looked up) and, on reload, before the account's
// users can log in, so that their first JetStream request finds the
// engine listening; for one that goes, after its clients were closed. It
// may block (an engine recovering its files) and never runs on the message
// path of an existing account, only on reload, on an account JWT update
// and on the first use of an account in operator mode. It may be called
// before Start, during or after Shutdown.
type AccountWatcher interface {
	AccountChanged(name string)
}

// accountWatcher is the engine's AccountWatcher, nil when none.
func (s *Server) accountWatcher() AccountWatcher {
	w, _ := s.opts.Engine.(AccountWatcher)
	return w
}

// streamingAccount reports whether a gets its own streams: every account
// but the global and the system account; in operator mode only one whose
// JWT enables JetStream (memory or disk storage limit not zero), as in
// nats-server.
func (as *accountSet) streamingAccount(a *Account) bool {
	if a == as.global || a == as.sys {
		return false
	}
	return jsEnabled(a.claims.Load())
}

// jsEnabled reports whether account claims enable JetStream; true without
// claims (accounts of the config file).
func jsEnabled(ac *jwt.AccountClaims) bool {
	return ac == nil || ac.Limits.IsJSEnabled()
}

// streamingDiff lists the streaming accounts of now that old did not have
// (added) and those of old that now has not (removed), by name, sorted.
func streamingDiff(old, now *accountSet) (added, removed []string) {
	for _, n := range now.names() {
		if a := now.byName[n]; now.streamingAccount(a) && (old.byName[n] != a || !old.streamingAccount(a)) {
			added = append(added, n)
		}
	}
	for _, n := range old.names() {
		if a := old.byName[n]; old.streamingAccount(a) && (now.byName[n] != a || !now.streamingAccount(a)) {
			removed = append(removed, n)
		}
	}
	return added, removed
}

// accountsChanged tells the engine about accounts that became or stopped
// being streaming accounts.
func (s *Server) accountsChanged(names ...string) {
	if w := s.accountWatcher(); w != nil {
		for _, n := range names {
			w.AccountChanged(n)
		}
	}
}

// claimsChanged tells the engine, after an account JWT update, about a
// loaded account (the update may have turned JetStream on or off). It
// tells it every time: the engine checks the account against
// StreamingAccounts, so concurrent updates cannot leave it behind.
func (s *Server) claimsChanged(a *Account) {
	if as := s.accs.Load(); as.byName[a.Name] == a && a != as.global && a != as.sys {
		s.accountsChanged(a.Name)
	}
}
