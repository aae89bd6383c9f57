package server_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/natsctl/natsctl/internal/monitorapi"
	"github.com/natsctl/natsctl/internal/natsservertest"
	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

// jsEngine is an engine that only reports /jsz data.
type jsEngine struct{}

func (jsEngine) Start(s *server.Server) error       { s.EnableJetStream(); return nil }
func (jsEngine) Shutdown(ctx context.Context) error { return nil }
func (jsEngine) JSInfo() monitorapi.JSInfo {
	return monitorapi.JSInfo{Config: monitorapi.JetStreamConfig{MaxMemory: -1, MaxStore: -1, StoreDir: "/data"},
		JetStreamStats: monitorapi.JetStreamStats{API: monitorapi.JetStreamAPIStats{Level: 1}}}
}

// TestSys_VarzForNatscliServerInfo: `nats server info` prints Auth Required
// and a JetStream section from the VARZ reply, and `nats server list` the
// version from its envelope. They showed "Auth Required: false", no
// JetStream section and version 2.2.0 (not INFO's) before.
func TestSys_VarzForNatscliServerInfo(t *testing.T) {
	ours := servertest.Run(t, sysAccounts, func(o *server.Options) { o.Engine = jsEngine{} })
	ref := startSysNatsServer(t, "-js", "-sd", t.TempDir())
	for _, tc := range []struct{ name, url string }{{"natsctl", ours.ClientURL()}, {"nats-server", ref.ClientURL}} {
		t.Run(tc.name, func(t *testing.T) {
			sys := connectUser(t, tc.url, "sys", "ps")
			m, err := sys.Request("$SYS.REQ.SERVER.PING.VARZ", []byte(`{}`), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			si, v := strictEnvelope[natsserver.Varz](t, m.Data)
			if si.Version != sys.ConnectedServerVersion() || v.Version != si.Version {
				t.Fatalf("envelope version %q, varz %q, INFO %q", si.Version, v.Version, sys.ConnectedServerVersion())
			}
			if !v.AuthRequired || v.TLSRequired || v.TLSTimeout != 2 {
				t.Fatalf("auth_required %v tls_required %v tls_timeout %v", v.AuthRequired, v.TLSRequired, v.TLSTimeout)
			}
			if v.JetStream.Config == nil || v.JetStream.Config.StoreDir == "" || v.JetStream.Stats == nil || v.JetStream.Stats.API.Level < 1 {
				t.Fatalf("varz jetstream %s", m.Data)
			}
		})
	}
}

// TestSys_UserInfo: `nats account info` asks $SYS.REQ.USER.INFO from any
// account and prints User, Account and Expires from the answer; natsctl
// did not answer, so those lines were missing.
func TestSys_UserInfo(t *testing.T) {
	type target struct {
		name, url        string
		opts             []nats.Option
		user, acc, aname string
	}
	ours := servertest.Run(t, sysAccounts)
	ref := startSysNatsServer(t)
	oursG := servertest.Run(t)
	refG := natsservertest.Start(t)
	app := nats.UserInfo("app", "pa")
	for _, tc := range []target{
		{"natsctl", ours.ClientURL(), []nats.Option{app}, "app", "APP", "APP"},
		{"nats-server", ref.ClientURL, []nats.Option{app}, "app", "APP", "APP"},
		{"natsctl-no-auth", oursG.ClientURL(), nil, "", "$G", "$G"},
		{"nats-server-no-auth", refG.ClientURL, nil, "", "$G", "$G"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc, err := nats.Connect(tc.url, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			m, err := nc.Request("$SYS.REQ.USER.INFO", nil, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			si, ui := strictEnvelope[natsserver.UserInfo](t, m.Data)
			if si.ID != nc.ConnectedServerId() || ui.UserID != tc.user || ui.Account != tc.acc || ui.AccountName != tc.aname || ui.Expires != 0 {
				t.Fatalf("user info %s", m.Data)
			}
		})
	}
}

// TestSys_NoLeafnodesNoGateways: natscli's server report leafnodes and
// gateways waited out their timeout against natsctl, which has neither.
func TestSys_NoLeafnodesNoGateways(t *testing.T) {
	ours := servertest.Run(t, sysAccounts)
	ref := startSysNatsServer(t)
	for _, tc := range []struct{ name, url string }{{"natsctl", ours.ClientURL()}, {"nats-server", ref.ClientURL}} {
		t.Run(tc.name, func(t *testing.T) {
			sys := connectUser(t, tc.url, "sys", "ps")
			m, err := sys.Request("$SYS.REQ.SERVER.PING.LEAFZ", []byte(`{}`), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if si, lz := strictEnvelope[natsserver.Leafz](t, m.Data); lz.ID != si.ID || lz.NumLeafs != 0 || lz.Leafs == nil || len(lz.Leafs) != 0 {
				t.Fatalf("leafz %s", m.Data)
			}
			m, err = sys.Request("$SYS.REQ.SERVER.PING.GATEWAYZ", []byte(`{}`), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if si, gz := strictEnvelope[natsserver.Gatewayz](t, m.Data); gz.ID != si.ID || len(gz.OutboundGateways) != 0 || len(gz.InboundGateways) != 0 {
				t.Fatalf("gatewayz %s", m.Data)
			}
		})
	}
}

// TestSys_Kick: natscli's server request kick got no answer from natsctl.
func TestSys_Kick(t *testing.T) {
	ours := servertest.Run(t, sysAccounts)
	ref := startSysNatsServer(t)
	for _, tc := range []struct{ name, url string }{{"natsctl", ours.ClientURL()}, {"nats-server", ref.ClientURL}} {
		t.Run(tc.name, func(t *testing.T) {
			sys := connectUser(t, tc.url, "sys", "ps")
			closed := make(chan struct{})
			app, err := nats.Connect(tc.url, nats.UserInfo("app", "pa"), nats.NoReconnect(), nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
			if err != nil {
				t.Fatal(err)
			}
			defer app.Close()
			cid, err := app.GetClientID()
			if err != nil {
				t.Fatal(err)
			}
			id := sys.ConnectedServerId()
			m, err := sys.Request("$SYS.REQ.SERVER."+id+".KICK", []byte(`{"cid":999999}`), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			var resp struct {
				Error *natsserver.ApiError `json:"error"`
			}
			if err := json.Unmarshal(m.Data, &resp); err != nil || resp.Error == nil || resp.Error.Code != 500 || resp.Error.Description != "no such client or leafnode id" {
				t.Fatalf("kick an unknown client: %s", m.Data)
			}
			m, err = sys.Request("$SYS.REQ.SERVER."+id+".KICK", []byte(`{"cid":`+strconv.FormatUint(cid, 10)+`}`), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			resp.Error = nil
			if err := json.Unmarshal(m.Data, &resp); err != nil || resp.Error != nil {
				t.Fatalf("kick: %s", m.Data)
			}
			select {
			case <-closed:
			case <-time.After(10 * time.Second):
				t.Fatal("the kicked client is still connected")
			}
		})
	}
}

// TestSys_Reload: natscli's server config reload got no answer from
// natsctl. Both servers pick up a new user.
func TestSys_Reload(t *testing.T) {
	withNew := func(o *server.Options) {
		sysAccounts(o)
		o.Accounts[1].Users = append(o.Accounts[1].Users, server.User{Username: "new", Password: "pn"})
	}
	var reloaded atomic.Bool
	ours := servertest.Run(t, sysAccounts, func(o *server.Options) {
		o.ConfigReload = func() (server.Options, error) {
			var n server.Options
			if reloaded.Load() {
				withNew(&n)
			} else {
				sysAccounts(&n)
			}
			return n, nil
		}
	})
	// This one keeps its configuration file, to rewrite it.
	conf := filepath.Join(t.TempDir(), "sys.conf")
	if err := os.WriteFile(conf, []byte(sysAccountsConf), 0o600); err != nil {
		t.Fatal(err)
	}
	ref := natsservertest.Start(t, "-c", conf)
	newConf := strings.Replace(sysAccountsConf, "{user: app, password: pa}", "{user: app, password: pa}, {user: new, password: pn}", 1)
	for _, tc := range []struct {
		name, url string
		change    func()
	}{
		{"natsctl", ours.ClientURL(), func() { reloaded.Store(true) }},
		{"nats-server", ref.ClientURL, func() {
			if err := os.WriteFile(conf, []byte(newConf), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sys := connectUser(t, tc.url, "sys", "ps")
			if nc, err := nats.Connect(tc.url, nats.UserInfo("new", "pn")); err == nil {
				nc.Close()
				t.Fatal("user new before the reload")
			}
			tc.change()
			m, err := sys.Request("$SYS.REQ.SERVER."+sys.ConnectedServerId()+".RELOAD", nil, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			var resp struct {
				Error *natsserver.ApiError `json:"error"`
			}
			if err := json.Unmarshal(m.Data, &resp); err != nil || resp.Error != nil {
				t.Fatalf("reload: %s", m.Data)
			}
			nc, err := nats.Connect(tc.url, nats.UserInfo("new", "pn"))
			if err != nil {
				t.Fatalf("user new after the reload: %v", err)
			}
			nc.Close()
		})
	}
	// A server without a configuration to re-read says so.
	plain := servertest.Run(t, sysAccounts)
	sys := connectUser(t, plain.ClientURL(), "sys", "ps")
	m, err := sys.Request("$SYS.REQ.SERVER."+plain.ID()+".RELOAD", nil, 5*time.Second)
	if err != nil || !strings.Contains(string(m.Data), `"code":500`) {
		t.Fatalf("reload without a configuration: %v %s", err, m.Data)
	}
}
