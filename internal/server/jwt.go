package server

// resolveAccount fetches an account not yet known in operator mode; nil
// otherwise.
func (s *Server) resolveAccount(name string) *Account { return nil }

// operatorMode reports whether accounts come from JWTs.
func (o *Options) operatorMode() bool { return false }

// operatorAuth authenticates users by JWT in operator mode.
type operatorAuth struct{}

func (op *operatorAuth) authenticate(o *connectOpts, nonce []byte) *authUser { return nil }

type userClaims struct{}

func (c *conn) watchUserExpiry(uc *userClaims) {}

// claimsUpdate handles $SYS.REQ.ACCOUNT.<id>.CLAIMS.UPDATE.
func (s *Server) claimsUpdate(subject, reply string, _, data []byte) {}
