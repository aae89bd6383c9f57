package server

import (
	"encoding/json"
	"time"
)

// $SYS.REQ.USER.INFO (nats-server events.go, userInfoReq): any client, in
// any account, may ask who it is; natscli's `nats account info` prints the
// answer as its User, Account and Expires lines. nats-server serves it
// through a service import of the system account into every account; here
// processPub answers it for the publishing connection directly, so no
// account carries a subscription of the server's own (subsz and route
// interest stay those of the clients).

const userInfoSubject = "$SYS.REQ.USER.INFO"

// userInfo is nats-server's UserInfo. Permissions are not reported.
type userInfo struct {
	UserID      string        `json:"user"`
	Account     string        `json:"account"`
	AccountName string        `json:"account_name,omitempty"`
	UserName    string        `json:"user_name,omitempty"`
	Expires     time.Duration `json:"expires,omitempty"`
}

// isUserInfoRequest reports whether a publish is a user info request: the
// exact subject with a reply. The length test keeps it off the path of
// every other publish.
func isUserInfoRequest(pa *pubArgs) bool {
	return len(pa.subject) == len(userInfoSubject) && len(pa.reply) > 0 && string(pa.subject) == userInfoSubject
}

// answerUserInfo sends the requester, on its reply subject, who it is.
func (c *conn) answerUserInfo(pa *pubArgs) {
	c.mu.Lock()
	ui := &userInfo{UserID: c.sec.user, Account: c.acc.Name, AccountName: c.acc.Name}
	if uc := c.sec.uclaims; uc != nil && uc.uc != nil {
		ui.UserName = uc.uc.Name
		if uc.uc.Expires > 0 {
			ui.Expires = time.Until(time.Unix(uc.uc.Expires, 0))
		}
	}
	c.mu.Unlock()
	if ac := c.acc.claims.Load(); ac != nil && ac.Name != "" {
		ui.AccountName = ac.Name
	}
	body, err := json.Marshal(serverAPIResponse{Server: c.srv.eventServer(), Data: ui})
	if err != nil {
		return
	}
	c.replySelf(pa.reply, nil, body)
}
