package client

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/natsctl/natsctl/internal/natsservertest"
)

// TestAuthCredsAgainstNatsServer logs in with a .creds file (user JWT plus
// seed, made with jwt/v2 as the standard NATS tooling makes them) to a real
// nats-server in operator mode, and is refused with an expired user.
func TestAuthCredsAgainstNatsServer(t *testing.T) {
	okp, _ := nkeys.CreateOperator()
	opub, _ := okp.PublicKey()
	oc := jwt.NewOperatorClaims(opub)
	ojwt, err := oc.Encode(okp)
	if err != nil {
		t.Fatal(err)
	}
	akp, _ := nkeys.CreateAccount()
	apub, _ := akp.PublicKey()
	ac := jwt.NewAccountClaims(apub)
	ajwt, err := ac.Encode(okp)
	if err != nil {
		t.Fatal(err)
	}
	creds := func(name string, expires int64) string {
		ukp, _ := nkeys.CreateUser()
		upub, _ := ukp.PublicKey()
		useed, _ := ukp.Seed()
		uc := jwt.NewUserClaims(upub)
		uc.Name = name
		uc.Expires = expires
		ujwt, err := uc.Encode(akp)
		if err != nil {
			t.Fatal(err)
		}
		b, err := jwt.FormatUserConfig(ujwt, useed)
		if err != nil {
			t.Fatal(err)
		}
		return writeFile(t, name+".creds", string(b))
	}
	conf := writeFile(t, "op.conf", fmt.Sprintf("operator: %s\nresolver: MEMORY\nresolver_preload: { %s: %s }\n", ojwt, apub, ajwt))
	p := natsservertest.Start(t, "-c", conf)

	c := connect(t, p.ClientURL, func(o *Options) { o.CredsFile = creds("alice", 0) })
	sub, err := c.SubscribeSync("creds.test")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Publish("creds.test", []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if m, err := sub.NextMsg(5 * time.Second); err != nil || string(m.Data) != "hi" {
		t.Fatalf("message over a creds login: %v %v", m, err)
	}

	expired := creds("old", time.Now().Add(-time.Hour).Unix())
	_, err = Connect(context.Background(), Options{Servers: []string{p.ClientURL}, CredsFile: expired})
	mustErr(t, err, ErrAuthorization)
}
