package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/natsctl/natsctl/internal/monitorapi"
	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

// httpGet returns the status and body of a monitoring request. Every body
// must end with a newline (nats-top crashes on an error body without one).
func httpGet(t testing.TB, url string) (int, []byte) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if !bytes.HasSuffix(b, []byte("\n")) {
		t.Fatalf("GET %s: %s: body does not end with a newline: %q", url, resp.Status, b)
	}
	return resp.StatusCode, b
}

// getStrict decodes a 200 answer into v, rejecting unknown fields: v is
// nats-server's own struct, so a field it lacks or a JSON type it does not
// accept fails here as it would fail nats-top.
func getStrict(t testing.TB, url string, v any) {
	t.Helper()
	code, b := httpGet(t, url)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d: %s", url, code, b)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		t.Fatalf("GET %s: nats-server's %T rejects our JSON: %v\n%s", url, v, err, b)
	}
}

func connz(t testing.TB, s *server.Server, query string) *natsserver.Connz {
	t.Helper()
	var cz natsserver.Connz
	getStrict(t, s.MonitorURL()+"/connz"+query, &cz)
	return &cz
}

// knownTraffic: three clients (sub, pub, idle); sub subscribes to
// orders.new, pub publishes 100 messages of 10 bytes, sub receives them.
func knownTraffic(t *testing.T, s *server.Server) (sub, pub, idle *nats.Conn) {
	t.Helper()
	sub = connect(t, s, nats.Name("sub"))
	pub = connect(t, s, nats.Name("pub"))
	idle = connect(t, s, nats.Name("idle"))
	ss, err := sub.SubscribeSync("orders.new")
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if err := pub.Publish("orders.new", []byte("0123456789")); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		nextMsg(t, ss)
	}
	return sub, pub, idle
}

func byName(t testing.TB, cz *natsserver.Connz, name string) *natsserver.ConnInfo {
	t.Helper()
	for _, ci := range cz.Conns {
		if ci.Name == name {
			return ci
		}
	}
	t.Fatalf("no connection named %q in %d connections", name, len(cz.Conns))
	return nil
}

func TestMonitor_VarzAfterKnownTraffic(t *testing.T) {
	s := servertest.Run(t, servertest.Monitoring)
	knownTraffic(t, s)
	var v natsserver.Varz
	getStrict(t, s.MonitorURL()+"/varz", &v)
	checks := []struct {
		name      string
		got, want any
	}{
		{"server_id", v.ID, s.ID()},
		{"server_name", v.Name, s.Name()},
		{"port", v.Port, s.Addr().Port},
		{"http_port", v.HTTPPort, s.MonitorAddr().Port},
		{"connections", v.Connections, 3},
		{"total_connections", v.TotalConnections, uint64(3)},
		{"subscriptions", v.Subscriptions, uint32(1)},
		{"in_msgs", v.InMsgs, int64(100)},
		{"out_msgs", v.OutMsgs, int64(100)},
		{"in_bytes", v.InBytes, int64(1000)},
		{"out_bytes", v.OutBytes, int64(1000)},
		{"slow_consumers", v.SlowConsumers, int64(0)},
		{"max_payload", v.MaxPayload, server.DefaultMaxPayload},
		{"max_connections", v.MaxConn, server.DefaultMaxConnections},
		{"max_pending", v.MaxPending, int64(server.DefaultMaxPending)},
		{"ping_interval", v.PingInterval, server.DefaultPingInterval},
		{"write_deadline", v.WriteDeadline, server.DefaultWriteDeadline},
		{"ping_max", v.MaxPingsOut, server.DefaultPingMax},
		{"version", v.Version, server.ProtocolVersion},
		{"http_req_stats[/varz]", v.HTTPReqStats["/varz"], uint64(1)},
		{"slow_consumer_stats.clients", v.SlowConsumersStats.Clients, uint64(0)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if v.Cores <= 0 || v.Mem <= 0 || v.Uptime == "" || v.Start.IsZero() || v.Now.Before(v.Start) {
		t.Errorf("cores %d mem %d uptime %q start %v now %v", v.Cores, v.Mem, v.Uptime, v.Start, v.Now)
	}
	var v2 natsserver.Varz
	getStrict(t, s.MonitorURL()+"/varz", &v2)
	if !v2.Now.After(v.Now) {
		t.Errorf("now did not advance: %v then %v", v.Now, v2.Now)
	}
}

func TestMonitor_ConnzAfterKnownTraffic(t *testing.T) {
	s := servertest.Run(t, servertest.Monitoring)
	_, _, idle := knownTraffic(t, s)

	cz := connz(t, s, "")
	if cz.NumConns != 3 || cz.Total != 3 || cz.Limit != monitorapi.DefaultConnListSize || cz.Offset != 0 || cz.ID != s.ID() {
		t.Fatalf("num_connections %d total %d limit %d offset %d", cz.NumConns, cz.Total, cz.Limit, cz.Offset)
	}
	for i := 1; i < len(cz.Conns); i++ {
		if cz.Conns[i-1].Cid >= cz.Conns[i].Cid {
			t.Fatalf("default order is not by cid: %d then %d", cz.Conns[i-1].Cid, cz.Conns[i].Cid)
		}
	}
	pub, sub := byName(t, cz, "pub"), byName(t, cz, "sub")
	if pub.InMsgs != 100 || pub.InBytes != 1000 || pub.OutMsgs != 0 || pub.NumSubs != 0 {
		t.Errorf("pub: in %d/%d out %d subs %d", pub.InMsgs, pub.InBytes, pub.OutMsgs, pub.NumSubs)
	}
	if sub.OutMsgs != 100 || sub.OutBytes != 1000 || sub.InMsgs != 0 || sub.NumSubs != 1 {
		t.Errorf("sub: out %d/%d in %d subs %d", sub.OutMsgs, sub.OutBytes, sub.InMsgs, sub.NumSubs)
	}
	for _, ci := range cz.Conns {
		if ci.Kind != "Client" || ci.Type != "nats" || ci.Lang != "go" || ci.IP != "127.0.0.1" || ci.Port == 0 ||
			ci.Start.IsZero() || ci.LastActivity.IsZero() || ci.Uptime == "" || ci.Idle == "" || ci.RTT == "" || len(ci.Subs) != 0 {
			t.Errorf("incomplete connection info: %+v", ci)
		}
	}

	// sort, limit, offset
	if top := connz(t, s, "?sort=msgs_from&limit=1"); top.NumConns != 1 || top.Total != 3 || top.Limit != 1 || top.Conns[0].Name != "pub" {
		t.Errorf("sort=msgs_from&limit=1: %d conns, first %q", top.NumConns, top.Conns[0].Name)
	}
	if top := connz(t, s, "?sort=bytes_to&limit=1"); top.Conns[0].Name != "sub" {
		t.Errorf("sort=bytes_to: first %q", top.Conns[0].Name)
	}
	page := connz(t, s, "?sort=msgs_to&offset=1&limit=5")
	if page.NumConns != 2 || page.Offset != 1 || page.Conns[0].OutMsgs != 0 || page.Conns[1].OutMsgs != 0 {
		t.Errorf("sort=msgs_to&offset=1: %d conns", page.NumConns)
	}
	if beyond := connz(t, s, "?offset=10"); beyond.NumConns != 0 || beyond.Total != 3 || beyond.Conns == nil {
		t.Errorf("offset past the end: %d conns, total %d, list %v", beyond.NumConns, beyond.Total, beyond.Conns)
	}
	if one := connz(t, s, fmt.Sprintf("?cid=%d", pub.Cid)); one.NumConns != 1 || one.Conns[0].Cid != pub.Cid || one.Limit != 1 {
		t.Errorf("cid=%d: %+v", pub.Cid, one)
	}

	// subscriptions
	subs := byName(t, connz(t, s, "?subs=1"), "sub")
	if len(subs.Subs) != 1 || subs.Subs[0] != "orders.new" {
		t.Errorf("subs=1: %q", subs.Subs)
	}
	det := byName(t, connz(t, s, "?subs=detail"), "sub")
	if len(det.SubsDetail) != 1 || det.SubsDetail[0].Subject != "orders.new" || det.SubsDetail[0].Msgs != 100 || det.SubsDetail[0].Cid != sub.Cid {
		t.Errorf("subs=detail: %+v", det.SubsDetail)
	}

	// closed connections keep their counters and reason
	idle.Close()
	waitFor(t, "the closed connection", func() bool { return connz(t, s, "?state=closed").NumConns == 1 })
	closed := connz(t, s, "?state=closed&subs=1")
	c := closed.Conns[0]
	if c.Name != "idle" || c.Reason != monitorapi.ReasonClientClosed || c.Stop == nil || c.Stop.Before(c.Start) {
		t.Errorf("closed: name %q reason %q stop %v", c.Name, c.Reason, c.Stop)
	}
	if all := connz(t, s, "?state=any"); all.Total != 3 || all.NumConns != 3 {
		t.Errorf("state=any: total %d, %d conns", all.Total, all.NumConns)
	}
	if open := connz(t, s, "?state=open"); open.Total != 2 {
		t.Errorf("state=open: total %d", open.Total)
	}
	for _, key := range []string{"stop", "reason", "uptime", "idle", "cid"} {
		if cz := connz(t, s, "?state=closed&sort="+key); cz.NumConns != 1 {
			t.Errorf("state=closed&sort=%s: %d conns", key, cz.NumConns)
		}
	}
	if byCid := connz(t, s, fmt.Sprintf("?state=closed&cid=%d", c.Cid)); byCid.NumConns != 1 || byCid.Conns[0].Name != "idle" {
		t.Errorf("state=closed&cid: %+v", byCid)
	}
}

// TestMonitor_ConnzSortOrders checks every sort key's direction (the
// reference behaviour is pinned in monitorapi's sort tests).
func TestMonitor_ConnzSortOrders(t *testing.T) {
	s := servertest.Run(t, servertest.Monitoring)
	ncs := make([]*nats.Conn, 4)
	for i := range ncs {
		ncs[i] = connect(t, s, nats.Name(fmt.Sprintf("c%d", i)))
		// c_i publishes i*10 messages of i bytes and holds i subscriptions.
		for j := 0; j < i; j++ {
			if _, err := ncs[i].SubscribeSync(fmt.Sprintf("s.%d.%d", i, j)); err != nil {
				t.Fatal(err)
			}
		}
		for j := 0; j < i*10; j++ {
			ncs[i].Publish("nobody", bytes.Repeat([]byte("x"), i))
		}
		if err := ncs[i].Flush(); err != nil {
			t.Fatal(err)
		}
	}
	desc := func(vals func(*natsserver.ConnInfo) int64) func([]*natsserver.ConnInfo) bool {
		return func(cs []*natsserver.ConnInfo) bool {
			for i := 1; i < len(cs); i++ {
				if vals(cs[i-1]) < vals(cs[i]) {
					return false
				}
			}
			return true
		}
	}
	asc := func(vals func(*natsserver.ConnInfo) int64) func([]*natsserver.ConnInfo) bool {
		d := desc(func(c *natsserver.ConnInfo) int64 { return -vals(c) })
		return d
	}
	cases := map[string]func([]*natsserver.ConnInfo) bool{
		"cid":        asc(func(c *natsserver.ConnInfo) int64 { return int64(c.Cid) }),
		"start":      asc(func(c *natsserver.ConnInfo) int64 { return c.Start.UnixNano() }),
		"subs":       desc(func(c *natsserver.ConnInfo) int64 { return int64(c.NumSubs) }),
		"msgs_from":  desc(func(c *natsserver.ConnInfo) int64 { return c.InMsgs }),
		"bytes_from": desc(func(c *natsserver.ConnInfo) int64 { return c.InBytes }),
		"msgs_to":    desc(func(c *natsserver.ConnInfo) int64 { return c.OutMsgs }),
		"bytes_to":   desc(func(c *natsserver.ConnInfo) int64 { return c.OutBytes }),
		"pending":    desc(func(c *natsserver.ConnInfo) int64 { return int64(c.Pending) }),
		"last":       desc(func(c *natsserver.ConnInfo) int64 { return c.LastActivity.UnixNano() }),
		"idle":       asc(func(c *natsserver.ConnInfo) int64 { return c.LastActivity.UnixNano() }),
		"uptime":     desc(func(c *natsserver.ConnInfo) int64 { return c.Start.UnixNano() }),
		"rtt":        func([]*natsserver.ConnInfo) bool { return true },
	}
	for key, ordered := range cases {
		cz := connz(t, s, "?sort="+key)
		if cz.NumConns != 4 || !ordered(cz.Conns) {
			var names []string
			for _, c := range cz.Conns {
				names = append(names, c.Name)
			}
			t.Errorf("sort=%s: order %v", key, names)
		}
	}
	if first := connz(t, s, "?sort=msgs_from").Conns[0]; first.Name != "c3" || first.InMsgs != 30 || first.InBytes != 90 {
		t.Errorf("sort=msgs_from: first %q in %d/%d", first.Name, first.InMsgs, first.InBytes)
	}
}

func TestMonitor_SubszRoutezAccountzJszHealthz(t *testing.T) {
	s := servertest.Run(t, servertest.Monitoring)
	knownTraffic(t, s)
	u := s.MonitorURL()

	var sz natsserver.Subsz
	getStrict(t, u+"/subsz", &sz)
	if sz.NumSubs != 1 || sz.NumInserts != 1 || sz.NumMatches == 0 || sz.Subs != nil || sz.ID != s.ID() {
		t.Errorf("subsz: %+v", sz.SublistStats)
	}
	var list natsserver.Subsz
	getStrict(t, u+"/subsz?subs=1&test=orders.new", &list)
	if list.Total != 1 || len(list.Subs) != 1 || list.Subs[0].Subject != "orders.new" || list.Subs[0].Msgs != 100 {
		t.Errorf("subsz?subs=1&test=orders.new: %+v", list)
	}
	var none natsserver.Subsz
	getStrict(t, u+"/subsz?subs=1&test=orders.old", &none)
	if none.Total != 0 || len(none.Subs) != 0 {
		t.Errorf("subsz test=orders.old: %+v", none)
	}

	var rz natsserver.Routez
	getStrict(t, u+"/routez", &rz)
	if rz.NumRoutes != 0 || rz.Routes == nil || len(rz.Routes) != 0 || rz.ID != s.ID() {
		t.Errorf("routez: %+v", rz)
	}
	var az natsserver.Accountz
	getStrict(t, u+"/accountz", &az)
	// nats-server lists the global and the system account.
	if len(az.Accounts) != 2 || az.Accounts[0] != "$G" || az.Accounts[1] != "$SYS" || az.SystemAccount != "$SYS" {
		t.Errorf("accountz: %+v", az)
	}
	var acc natsserver.Accountz
	getStrict(t, u+"/accountz?acc=$G", &acc)
	if acc.Account == nil || acc.Account.ClientCnt != 3 || acc.Account.SubCnt != 1 {
		t.Errorf("accountz?acc=$G: %+v", acc.Account)
	}
	var js natsserver.JSInfo
	getStrict(t, u+"/jsz", &js)
	if !js.Disabled || js.ID != s.ID() {
		t.Errorf("jsz: %+v", js)
	}
	var hz natsserver.HealthStatus
	getStrict(t, u+"/healthz", &hz)
	if hz.Status != "ok" || hz.Error != "" {
		t.Errorf("healthz: %+v", hz)
	}
}

func TestMonitor_HealthzUnavailableInLameDuck(t *testing.T) {
	s := servertest.Run(t, servertest.Monitoring, func(o *server.Options) { o.LameDuckGracePeriod = time.Minute })
	connect(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.LameDuck(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	var code int
	var body []byte
	waitFor(t, "healthz to report lame duck", func() bool {
		code, body = httpGet(t, s.MonitorURL()+"/healthz")
		return code != http.StatusOK
	})
	var hz natsserver.HealthStatus
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(&hz); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	if code != http.StatusServiceUnavailable || hz.Status != "unavailable" || !strings.Contains(hz.Error, "lame duck") {
		t.Fatalf("%d %+v", code, hz)
	}
}

func TestMonitor_BadRequestsEndWithNewline(t *testing.T) {
	s := servertest.Run(t, servertest.Monitoring)
	cases := []struct {
		path string
		code int
		want string
	}{
		{"/connz?sort=bogus", 400, "invalid sorting option: bogus"},
		{"/connz?sort=stop", 400, "sort by stop only valid on closed connections"},
		{"/connz?sort=reason&state=open", 400, "sort by reason only valid on closed connections"},
		{"/connz?limit=x", 400, "Error decoding int for 'limit'"},
		{"/connz?cid=-1", 400, "Error decoding uint64 for 'cid'"},
		{"/connz?state=half", 400, "Error decoding state for half"},
		{"/connz?subs=maybe", 400, "Error decoding boolean for 'subs'"},
		{"/subsz?test=orders.*", 400, "invalid test subject"},
		{"/subsz?offset=z", 400, "Error decoding int for 'offset'"},
		{"/subjz?sort=rate", 400, "invalid sort option"},
		{"/accountz?acc=NOPE", 400, "Account NOPE does not exist"},
		{"/nothing-here", 404, "404 page not found"},
	}
	for _, tc := range cases {
		code, body := httpGet(t, s.MonitorURL()+tc.path)
		if code != tc.code || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s: %d %q, want %d with %q", tc.path, code, body, tc.code, tc.want)
		}
	}
}

func TestMonitor_OffByDefault(t *testing.T) {
	s := servertest.Run(t)
	if s.MonitorAddr() != nil || s.MonitorURL() != "" {
		t.Fatalf("monitoring on without HTTPPort: %v", s.MonitorAddr())
	}
}

func TestMonitor_MetricsMatchVarz(t *testing.T) {
	s := servertest.Run(t, servertest.Monitoring)
	knownTraffic(t, s)
	// The subscriber can have read the last message a moment before the
	// server's writer counts it as sent: scrape until nothing is pending.
	var fams map[string]*dto.MetricFamily
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, body := httpGet(t, s.MonitorURL()+server.MetricsPath)
		if code != http.StatusOK {
			t.Fatalf("%d %s", code, body)
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		var err error
		if fams, err = p.TextToMetricFamilies(bytes.NewReader(body)); err != nil {
			t.Fatalf("not Prometheus text format: %v", err)
		}
		f := fams["gnatsd_connz_pending_bytes"]
		if f == nil || len(f.Metric) == 0 || f.Metric[0].GetGauge().GetValue() == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond) // polling the server's state
	}
	value := func(name string) float64 {
		t.Helper()
		f := fams[name]
		if f == nil || len(f.Metric) == 0 {
			t.Fatalf("no %s", name)
		}
		m := f.Metric[0]
		if l := m.GetLabel(); len(l) == 0 || l[0].GetName() != "server_id" || l[0].GetValue() != s.ID() {
			t.Errorf("%s: labels %v", name, l)
		}
		if c := m.GetCounter(); c != nil {
			return c.GetValue()
		}
		return m.GetGauge().GetValue()
	}
	want := map[string]float64{
		"gnatsd_varz_in_msgs":            100,
		"gnatsd_varz_out_msgs":           100,
		"gnatsd_varz_in_bytes":           1000,
		"gnatsd_varz_out_bytes":          1000,
		"gnatsd_varz_connections":        3,
		"gnatsd_varz_total_connections":  3,
		"gnatsd_varz_subscriptions":      1,
		"gnatsd_varz_max_payload":        server.DefaultMaxPayload,
		"gnatsd_connz_num_connections":   3,
		"gnatsd_subsz_num_subscriptions": 1,
		"natsctl_subject_msgs":           100,
		"natsctl_subject_bytes":          1000,
		"gnatsd_varz_slow_consumers":     0,
		"gnatsd_varz_ping_interval":      float64(server.DefaultPingInterval),
		"gnatsd_subsz_num_inserts":       1,
		"gnatsd_varz_max_connections":    server.DefaultMaxConnections,
		"gnatsd_varz_stale_connections":  0,
		"gnatsd_connz_pending_bytes":     0,
		"gnatsd_varz_routes":             0,
		"gnatsd_varz_max_subscriptions":  0,
		"gnatsd_varz_max_pending":        server.DefaultMaxPending,
		"gnatsd_varz_max_control_line":   server.DefaultMaxControlLine,
		"gnatsd_varz_write_deadline":     float64(server.DefaultWriteDeadline),
		"gnatsd_varz_ping_max":           server.DefaultPingMax,
		"gnatsd_subsz_num_removes":       0,
		"gnatsd_connz_total":             3,
		"gnatsd_varz_remotes":            0,
		"gnatsd_subsz_max_fanout":        1,
		"gnatsd_varz_cores":              value("gnatsd_varz_cores"),
		"gnatsd_varz_start_time_seconds": value("gnatsd_varz_start_time_seconds"),
		"gnatsd_subsz_num_cache":         value("gnatsd_subsz_num_cache"),
		"gnatsd_subsz_num_matches":       value("gnatsd_subsz_num_matches"),
		"gnatsd_subsz_cache_hit_rate":    value("gnatsd_subsz_cache_hit_rate"),
		"gnatsd_subsz_avg_fanout":        value("gnatsd_subsz_avg_fanout"),
		"gnatsd_varz_cpu":                value("gnatsd_varz_cpu"),
		"gnatsd_varz_mem":                value("gnatsd_varz_mem"),
	}
	for name, w := range want {
		if got := value(name); got != w {
			t.Errorf("%s = %v, want %v", name, got, w)
		}
	}
	if fams["go_goroutines"] == nil || fams["process_cpu_seconds_total"] == nil {
		t.Errorf("runtime and process metrics missing")
	}
}
