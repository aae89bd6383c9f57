package streaming

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natsctl/natsctl/internal/natsservertest"
	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

// twoAccounts is accounts A (user a/pa) and B (user b/pb).
var twoAccounts = []server.AccountOptions{
	{Name: "A", Users: []server.User{{Username: "a", Password: "pa"}}},
	{Name: "B", Users: []server.User{{Username: "b", Password: "pb"}}},
}

// runAccounts starts our server with an engine on dir and accounts.
func runAccounts(t *testing.T, dir string, accounts []server.AccountOptions, opts ...func(*server.Options)) (*server.Server, *Engine) {
	t.Helper()
	e := New(Config{StoreDir: dir})
	s := servertest.Run(t, append([]func(*server.Options){func(o *server.Options) {
		o.Engine = e
		o.AuthTimeout = 20 * time.Second
		o.Accounts = accounts
	}}, opts...)...)
	return s, e
}

// userJS connects nats.go as user/pass and returns its jetstream API.
func userJS(t *testing.T, url, user, pass string, opts ...nats.Option) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	return connectURLJS(t, url, append([]nats.Option{nats.UserInfo(user, pass)}, opts...)...)
}

// getJsz fetches /jsz with query and decodes it strictly into
// nats-server's JSInfo; raw is the undecoded body.
func getJsz(t *testing.T, monitorURL, query string) (info natsserver.JSInfo, raw []byte) {
	t.Helper()
	resp, err := http.Get(monitorURL + "/jsz?" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err = io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/jsz?%s: %d %v", query, resp.StatusCode, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&info); err != nil {
		t.Fatalf("decode /jsz?%s into nats-server's JSInfo: %v\n%s", query, err, raw)
	}
	return info, raw
}

func detailNames(info natsserver.JSInfo) []string {
	var out []string
	for _, d := range info.AccountDetails {
		out = append(out, d.Name)
	}
	return out
}

// detailKeys returns the JSON keys of account n's detail and of its first
// stream and consumer detail, to compare field names across servers.
func detailKeys(t *testing.T, raw []byte, n string) (acc, stream, consumer []string) {
	t.Helper()
	var doc struct {
		Details []map[string]json.RawMessage `json:"account_details"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, d := range doc.Details {
		if string(d["name"]) != `"`+n+`"` {
			continue
		}
		var sds []map[string]json.RawMessage
		_ = json.Unmarshal(d["stream_detail"], &sds)
		if len(sds) > 0 {
			var cds []map[string]json.RawMessage
			_ = json.Unmarshal(sds[0]["consumer_detail"], &cds)
			if len(cds) > 0 {
				consumer = slices.Sorted(maps.Keys(cds[0]))
			}
			stream = slices.Sorted(maps.Keys(sds[0]))
		}
		return slices.Sorted(maps.Keys(d)), stream, consumer
	}
	t.Fatalf("no account detail %q in %s", n, raw)
	return nil, nil, nil
}

// TestJsz_AccountDetailsEveryAccount: account_details listed the global
// account's streams only. With a stream in each of two accounts, ours and
// nats-server 2.15.2 list both accounts with the same fields, and acc=
// picks one.
func TestJsz_AccountDetailsEveryAccount(t *testing.T) {
	ours, _ := runAccounts(t, t.TempDir(), twoAccounts, servertest.Monitoring)
	conf := filepath.Join(t.TempDir(), "ns.conf")
	err := os.WriteFile(conf, []byte(fmt.Sprintf(`jetstream { store_dir: %q }
accounts {
  A: { jetstream: enabled, users: [{user: a, password: pa}] }
  B: { jetstream: enabled, users: [{user: b, password: pb}] }
}
`, t.TempDir())), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	ref := natsservertest.Start(t, "-c", conf, "-m", "-1")
	servers := []struct{ name, url, mon string }{
		{"natsctl", ours.ClientURL(), ours.MonitorURL()},
		{"nats-server", ref.ClientURL, ref.MonitorURL},
	}
	raws := map[string][]byte{}
	for _, srv := range servers {
		ctx := ctxT(t)
		for i, u := range []struct{ user, pass, stream string }{{"a", "pa", "SA"}, {"b", "pb", "SB"}} {
			_, js := userJS(t, srv.url, u.user, u.pass)
			mustCreate(t, js, jetstream.StreamConfig{Name: u.stream, Subjects: []string{"s.>"}})
			publishN(t, js, "s.1", i+1)
			if _, err := js.CreateOrUpdateConsumer(ctx, u.stream, jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
				t.Fatal(err)
			}
		}
		info, raw := getJsz(t, srv.mon, "accounts=true&streams=true&consumers=true")
		raws[srv.name] = raw
		want := []string{"A", "B"}
		if srv.name == "natsctl" {
			want = []string{"$G", "A", "B"} // the global account always has streaming here
		}
		if got := detailNames(info); !slices.Equal(got, want) {
			t.Fatalf("%s: account_details %v, want %v", srv.name, got, want)
		}
		if info.Streams != 2 || info.Consumers != 2 || info.Messages != 3 {
			t.Fatalf("%s: totals streams %d consumers %d messages %d", srv.name, info.Streams, info.Consumers, info.Messages)
		}
		for _, d := range info.AccountDetails {
			if d.Name == "$G" {
				if len(d.Streams) != 0 {
					t.Fatalf("%s: global account has streams %+v", srv.name, d.Streams)
				}
				continue
			}
			wantStream, wantMsgs := "SA", uint64(1)
			if d.Name == "B" {
				wantStream, wantMsgs = "SB", 2
			}
			if d.Id != d.Name || len(d.Streams) != 1 || d.Streams[0].Name != wantStream || d.Streams[0].State.Msgs != wantMsgs ||
				len(d.Streams[0].Consumer) != 1 || d.Streams[0].Consumer[0].Name != "C" || d.Streams[0].Consumer[0].NumPending != wantMsgs {
				t.Fatalf("%s: account %s detail %+v", srv.name, d.Name, d)
			}
			if d.Store == 0 || d.API.Total == 0 || d.API.Level != 0 {
				t.Fatalf("%s: account %s usage %+v", srv.name, d.Name, d.JetStreamStats)
			}
			if d.ReservedMemory != ^uint64(0) || d.ReservedStore != ^uint64(0) {
				t.Fatalf("%s: account %s reserved %d/%d, want unlimited (max uint64)", srv.name, d.Name, d.ReservedMemory, d.ReservedStore)
			}
		}

		// acc= names one account, with or without accounts=true.
		for _, q := range []string{"acc=B", "acc=B&accounts=true", "acc=B&streams=true"} {
			info, _ := getJsz(t, srv.mon, q)
			if got := detailNames(info); !slices.Equal(got, []string{"B"}) {
				t.Fatalf("%s: /jsz?%s lists %v, want [B]", srv.name, q, got)
			}
			if streams := len(info.AccountDetails[0].Streams); (q == "acc=B&streams=true") != (streams == 1) {
				t.Fatalf("%s: /jsz?%s has %d stream details", srv.name, q, streams)
			}
		}
		// An account without streaming, and no details asked for.
		for _, q := range []string{"acc=NOPE", ""} {
			if info, _ := getJsz(t, srv.mon, q); len(info.AccountDetails) != 0 {
				t.Fatalf("%s: /jsz?%s lists %v", srv.name, q, detailNames(info))
			}
		}
		// Paging by name.
		info, _ = getJsz(t, srv.mon, "accounts=true&offset=1&limit=1")
		want = []string{"B"}
		if srv.name == "natsctl" {
			want = []string{"A"}
		}
		if got := detailNames(info); !slices.Equal(got, want) {
			t.Fatalf("%s: offset=1&limit=1 lists %v, want %v", srv.name, got, want)
		}
	}
	for _, n := range []string{"A", "B"} {
		oa, ost, oc := detailKeys(t, raws["natsctl"], n)
		ra, rs, rc := detailKeys(t, raws["nats-server"], n)
		if !slices.Equal(oa, ra) || !slices.Equal(ost, rs) || !slices.Equal(oc, rc) {
			t.Errorf("account %s fields differ:\nnatsctl     %v\n            %v\n            %v\nnats-server %v\n            %v\n            %v", n, oa, ost, oc, ra, rs, rc)
		}
	}
}
