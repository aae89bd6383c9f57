package server_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/natsctl/natsctl/internal/natsservertest"
	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

// sysAccounts has a system account SYS (user sys) and an application
// account APP (user app).
func sysAccounts(o *server.Options) {
	o.AuthTimeout = 20 * time.Second
	o.SystemAccount = "SYS"
	o.Accounts = []server.AccountOptions{
		{Name: "SYS", Users: []server.User{{Username: "sys", Password: "ps"}}},
		{Name: "APP", Users: []server.User{{Username: "app", Password: "pa"}}},
	}
}

const sysAccountsConf = `
accounts {
  SYS: { users: [{user: sys, password: ps}] }
  APP: { users: [{user: app, password: pa}] }
}
system_account: SYS
`

// startSysNatsServer starts nats-server with sysAccountsConf (and args).
func startSysNatsServer(t *testing.T, args ...string) *natsservertest.Proc {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "sys.conf")
	if err := os.WriteFile(conf, []byte(sysAccountsConf), 0o600); err != nil {
		t.Fatal(err)
	}
	return natsservertest.Start(t, append([]string{"-c", conf}, args...)...)
}

// connectUser connects nats.go to url as user; the test closes it.
func connectUser(t *testing.T, url, user, pass string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, append([]nats.Option{nats.UserInfo(user, pass)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// strictEnvelope decodes a $SYS response into nats-server's envelope with
// data of type T, refusing unknown fields.
func strictEnvelope[T any](t *testing.T, b []byte) (*natsserver.ServerInfo, *T) {
	t.Helper()
	var env struct {
		Server *natsserver.ServerInfo `json:"server"`
		Data   *T                     `json:"data"`
		Error  *natsserver.ApiError   `json:"error"`
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&env); err != nil {
		t.Fatalf("nats-server's envelope rejects %s: %v", b, err)
	}
	if env.Server == nil || env.Server.ID == "" || env.Data == nil || env.Error != nil {
		t.Fatalf("envelope: %s", b)
	}
	return env.Server, env.Data
}

func TestSys_PingRequests(t *testing.T) {
	ours := servertest.Run(t, sysAccounts)
	ref := startSysNatsServer(t)
	for _, tc := range []struct{ name, url string }{{"natsctl", ours.ClientURL()}, {"nats-server", ref.ClientURL}} {
		t.Run(tc.name, func(t *testing.T) {
			sys := connectUser(t, tc.url, "sys", "ps")
			app := connectUser(t, tc.url, "app", "pa")

			m, err := sys.Request("$SYS.REQ.SERVER.PING.VARZ", []byte(`{}`), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			si, v := strictEnvelope[natsserver.Varz](t, m.Data)
			if v.ID != si.ID || v.Connections < 2 || v.Now.IsZero() {
				t.Fatalf("varz %+v from %+v", v, si)
			}
			m, err = sys.Request("$SYS.REQ.SERVER.PING.CONNZ", []byte(`{"auth":true,"acc":"APP","limit":5}`), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			_, cz := strictEnvelope[natsserver.Connz](t, m.Data)
			if len(cz.Conns) != 1 || cz.Conns[0].Account != "APP" || cz.Conns[0].AuthorizedUser != "app" {
				t.Fatalf("connz %s", m.Data)
			}
			m, err = sys.Request("$SYS.REQ.SERVER."+si.ID+".SUBSZ", nil, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			strictEnvelope[natsserver.Subsz](t, m.Data)
			m, err = sys.Request("$SYS.REQ.SERVER.PING", nil, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			var st struct {
				Server natsserver.ServerInfo  `json:"server"`
				Stats  natsserver.ServerStats `json:"statsz"`
			}
			if err := json.Unmarshal(m.Data, &st); err != nil || st.Stats.Connections < 2 {
				t.Fatalf("statsz %s: %v", m.Data, err)
			}
			// A filter naming another server gets no answer.
			if _, err := sys.Request("$SYS.REQ.SERVER.PING.VARZ", []byte(`{"server_name":"elsewhere","exact_match":true}`), 300*time.Millisecond); err == nil {
				t.Fatal("a server filtered out answered")
			}
			// Any other account: nothing.
			if _, err := app.Request("$SYS.REQ.SERVER.PING.VARZ", nil, 300*time.Millisecond); !errors.Is(err, nats.ErrNoResponders) && !errors.Is(err, nats.ErrTimeout) {
				t.Fatalf("from APP: %v", err)
			}
		})
	}
}

func TestSys_ConnectDisconnectAdvisories(t *testing.T) {
	s := servertest.Run(t, sysAccounts)
	sys := connect(t, s, nats.UserInfo("sys", "ps"))
	events, _ := sys.SubscribeSync("$SYS.ACCOUNT.APP.*")
	if err := sys.Flush(); err != nil {
		t.Fatal(err)
	}
	app, err := nats.Connect(s.ClientURL(), nats.UserInfo("app", "pa"), nats.Name("the-app"))
	if err != nil {
		t.Fatal(err)
	}
	m := nextMsg(t, events)
	var ev natsserver.ConnectEventMsg
	if err := json.Unmarshal(m.Data, &ev); err != nil || m.Subject != "$SYS.ACCOUNT.APP.CONNECT" || ev.Type != natsserver.ConnectEventMsgType ||
		ev.Client.Account != "APP" || ev.Client.User != "app" || ev.Client.Name != "the-app" || ev.Server.ID != s.ID() {
		t.Fatalf("connect advisory %s %s: %v", m.Subject, m.Data, err)
	}
	app.Close()
	m = nextMsg(t, events)
	var dev natsserver.DisconnectEventMsg
	if err := json.Unmarshal(m.Data, &dev); err != nil || m.Subject != "$SYS.ACCOUNT.APP.DISCONNECT" || dev.Type != natsserver.DisconnectEventMsgType ||
		dev.Reason != "Client Closed" || dev.Client.Stop == nil {
		t.Fatalf("disconnect advisory %s %s: %v", m.Subject, m.Data, err)
	}
}

func TestSys_StatszHeartbeat(t *testing.T) {
	s := servertest.Run(t, sysAccounts, func(o *server.Options) {})
	server.SetStatszInterval(s, 20*time.Millisecond)
	sys := connect(t, s, nats.UserInfo("sys", "ps"))
	hb, _ := sys.SubscribeSync("$SYS.SERVER.*.STATSZ")
	m := nextMsg(t, hb)
	if m.Subject != "$SYS.SERVER."+s.ID()+".STATSZ" || !strings.Contains(string(m.Data), `"statsz":{`) {
		t.Fatalf("heartbeat %s %s", m.Subject, m.Data)
	}
}
