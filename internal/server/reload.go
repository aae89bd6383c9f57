package server

import (
	"errors"
)

// Reload applies a changed configuration to the running server (SIGHUP,
// `natsctl serve --signal reload`): the authorization options (users,
// token, password, default permissions), the accounts with their users,
// exports, imports and limits, and no_auth_user. Every client is checked
// again against the new configuration with the credentials of its CONNECT:
// one still allowed keeps its connection (with its new permissions), one no
// longer allowed (or now in another account) is closed with
// 'Authorization Violation'. Other options are kept as they were; they
// need a restart. A configuration that does not validate changes nothing.
func (s *Server) Reload(o Options) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	n := s.opts
	n.Auth, n.Accounts, n.NoAuthUser = o.Auth, o.Accounts, o.NoAuthUser
	switch {
	case o.operatorMode() || n.operatorMode():
		return errors.New("reload: operator mode is not reloaded from the config; update accounts with $SYS.REQ.ACCOUNT.<id>.CLAIMS.UPDATE, or restart")
	case o.SystemAccount != s.opts.SystemAccount:
		return errors.New("reload: system_account cannot change while running; restart the server")
	}
	auth, err := newAccountsAuthenticator(&n)
	if err != nil {
		return err
	}
	if _, err := buildAccounts(&n, nil); err != nil { // validate on fresh accounts
		return err
	}
	old := s.accs.Load()
	s.uninstallImports(old)
	as, err := buildAccounts(&n, old)
	if err != nil { // cannot happen: validated above
		return err
	}
	s.adoptAccounts(as)
	added, removed := streamingDiff(old, as)
	// A new account's engine listens before its users can log in.
	s.accountsChanged(added...)
	s.authp.Store(auth)
	closed := 0
	for _, c := range s.snapshotConns() {
		if c.route == nil && !c.reauthorize(auth, as) {
			closed++
		}
	}
	s.accountsChanged(removed...) // after their clients are gone
	s.log.Info("configuration reloaded", "accounts", len(as.byName), "closed_connections", closed)
	return nil
}

// reauthorize checks an open client against a reloaded configuration and
// either updates its permissions or closes it; false when closed.
func (c *conn) reauthorize(auth *authenticator, as *accountSet) bool {
	c.mu.Lock()
	creds, acc, connected := c.sec.creds, c.acc, c.sec.connected
	c.mu.Unlock()
	if !connected {
		return true // it meets the new configuration when its CONNECT comes
	}
	if auth == nil {
		if acc != as.global && as.byName[acc.Name] != acc {
			c.reloadRemoved()
			return false
		}
		c.sec.perms.Store(nil)
		return true
	}
	u := auth.authenticate(&creds, c.sec.nonce, c.peerCerts())
	want := as.global
	if u != nil && u.account != "" {
		want = as.byName[u.account]
	}
	if u == nil || want != acc {
		c.reloadRemoved()
		return false
	}
	c.sec.perms.Store(u.perms)
	return true
}

func (c *conn) reloadRemoved() {
	c.log.Info("connection no longer allowed by the reloaded configuration")
	c.enqueue(errLine(errAuthViolation))
	c.closeConn(closeReloadRemoved, true)
}
