package monitorapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natsctl/natsctl/internal/monitorapi"
	"github.com/natsctl/natsctl/internal/natsservertest"
)

func getJSON(t *testing.T, url string, into any) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, b)
	}
	if err := json.Unmarshal(b, into); err != nil {
		t.Fatalf("GET %s: our %T rejects nats-server's JSON: %v\n%s", url, into, err, b)
	}
}

func connect(t *testing.T, url, name string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.Name(name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// TestLive_DecodeNATSServer reads every endpoint of a real nats-server into
// our types: the other direction of the strict compatibility test.
func TestLive_DecodeNATSServer(t *testing.T) {
	p := natsservertest.Start(t, "-m", "-1", "-js", "-sd", t.TempDir())
	a := connect(t, p.ClientURL, "alpha")
	b := connect(t, p.ClientURL, "beta")
	if _, err := b.SubscribeSync("orders.>"); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if err := a.Publish("orders.new", []byte("hello")); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Flush(); err != nil {
		t.Fatal(err)
	}

	var v monitorapi.Varz
	getJSON(t, p.MonitorURL+monitorapi.VarzPath, &v)
	if v.Version == "" || v.Now.IsZero() || v.Uptime == "" || v.InMsgs < 5 || v.PingInterval != 2*time.Minute || v.JetStream.Config == nil {
		t.Fatalf("varz: %+v", v)
	}

	var cz monitorapi.Connz
	getJSON(t, p.MonitorURL+monitorapi.ConnzPath+"?subs=detail", &cz)
	byName := map[string]*monitorapi.ConnInfo{}
	for _, c := range cz.Conns {
		byName[c.Name] = c
	}
	if ca := byName["alpha"]; ca == nil || ca.InMsgs != 5 || ca.InBytes != 25 || ca.Lang != "go" || ca.Idle == "" {
		t.Fatalf("alpha: %+v", ca)
	}
	if cb := byName["beta"]; cb == nil || cb.OutMsgs != 5 || len(cb.SubsDetail) != 1 || cb.SubsDetail[0].Subject != "orders.>" {
		t.Fatalf("beta: %+v", cb)
	}

	var sz monitorapi.Subsz
	getJSON(t, p.MonitorURL+monitorapi.SubszPath+"?subs=1", &sz)
	if sz.SublistStats == nil || sz.NumSubs == 0 {
		t.Fatalf("subsz: %+v", sz)
	}
	var rz monitorapi.Routez
	getJSON(t, p.MonitorURL+monitorapi.RoutezPath, &rz)
	var az monitorapi.Accountz
	getJSON(t, p.MonitorURL+monitorapi.AccountzPath+"?acc=$G", &az)
	if az.Account == nil || az.Account.ClientCnt != 2 {
		t.Fatalf("accountz: %+v", az.Account)
	}
	var hz monitorapi.HealthStatus
	getJSON(t, p.MonitorURL+monitorapi.HealthzPath, &hz)
	if hz.Status != "ok" {
		t.Fatalf("healthz: %+v", hz)
	}
	var jz monitorapi.JSInfo
	getJSON(t, p.MonitorURL+monitorapi.JszPath, &jz)
	if jz.Config.MaxStore == 0 || jz.API.Level == 0 {
		t.Fatalf("jsz: %+v", jz)
	}
	resp, err := http.Get(p.MonitorURL + monitorapi.SubjzPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("nats-server /subjz: %s, want 404 (our clients rely on it)", resp.Status)
	}
}

// TestSortOrder_MatchesNATSServer checks SortOpt.Descending against the
// order the reference server really returns: connection "first" is older,
// has the lower cid and sent more messages than "second".
func TestSortOrder_MatchesNATSServer(t *testing.T) {
	p := natsservertest.Start(t, "-m", "-1")
	first := connect(t, p.ClientURL, "first")
	second := connect(t, p.ClientURL, "second")
	for i := 0; i < 3; i++ {
		if err := first.Publish("x", nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := first.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := second.Flush(); err != nil {
		t.Fatal(err)
	}
	// first's value is larger for uptime and msgs_from, smaller for cid.
	for _, tc := range []struct {
		key         monitorapi.SortOpt
		firstLarger bool
	}{
		{monitorapi.ByCid, false},
		{monitorapi.ByStart, false},
		{monitorapi.ByUptime, true},
		{monitorapi.ByInMsgs, true},
	} {
		var cz monitorapi.Connz
		getJSON(t, fmt.Sprintf("%s/connz?sort=%s", p.MonitorURL, tc.key), &cz)
		if len(cz.Conns) != 2 {
			t.Fatalf("sort=%s: %d connections", tc.key, len(cz.Conns))
		}
		firstListedFirst := cz.Conns[0].Name == "first"
		if want := tc.firstLarger == tc.key.Descending(); firstListedFirst != want {
			t.Errorf("sort=%s: nats-server lists %q first; Descending()=%v disagrees", tc.key, cz.Conns[0].Name, tc.key.Descending())
		}
	}
	for _, key := range []string{"stop", "reason", "bogus"} {
		resp, err := http.Get(p.MonitorURL + "/connz?sort=" + key)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("sort=%s on open connections: %s, want 400", key, resp.Status)
		}
	}
}
