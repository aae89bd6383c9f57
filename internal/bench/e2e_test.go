package bench

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

func testEnv(t *testing.T, url string, c Config) *Env {
	t.Helper()
	if c.RecvTimeout == 0 {
		c.RecvTimeout = 10 * time.Second
	}
	return &Env{Config: c, Connect: func(ctx context.Context, name string) (*client.Conn, error) {
		return client.Connect(ctx, client.Options{Servers: []string{url}, Name: name})
	}}
}

func runEnv(t *testing.T, env *Env) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Run(ctx, env)
	if err != nil {
		t.Fatalf("%s: %v", env.Mode, err)
	}
	return res
}

// TestRun_EveryModeCountsEveryMessage runs each core mode briefly against
// an in-process server and checks the counts on both sides. The modes share
// one server, subject and queue group, as back-to-back runs do.
func TestRun_EveryModeCountsEveryMessage(t *testing.T) {
	srv := servertest.Run(t)
	url := srv.ClientURL()
	for _, tc := range []struct {
		cfg                Config
		pubMsgs, subMsgs   int64
		groups             []string
		latency, delivered bool
		latencies          int64 // one message in latencySample at saturation
	}{
		{cfg: Config{Mode: "pub", Msgs: 1000, Size: 16, Pubs: 2}, pubMsgs: 1000, groups: []string{"pub"}},
		{cfg: Config{Mode: "pubsub", Msgs: 1000, Size: 32}, pubMsgs: 1000, subMsgs: 1000, groups: []string{"pub", "sub"}, latency: true, delivered: true, latencies: 250},
		{cfg: Config{Mode: "pubsub", Msgs: 1000, Size: 8, Pubs: 3, Subs: 2}, pubMsgs: 1000, subMsgs: 2000, groups: []string{"pub", "sub"}, delivered: true},
		{cfg: Config{Mode: "fanout", Msgs: 500, Size: 16, Subs: 3}, pubMsgs: 500, subMsgs: 1500, groups: []string{"pub", "sub"}, latency: true, delivered: true, latencies: 375},
		{cfg: Config{Mode: "queue", Msgs: 1000, Size: 16, Subs: 3}, pubMsgs: 1000, subMsgs: 1000, groups: []string{"pub", "sub"}, delivered: true},
		{cfg: Config{Mode: "reqrep", Msgs: 200, Size: 16, Pubs: 2, Subs: 2}, pubMsgs: 200, subMsgs: 200, groups: []string{"req", "rep"}, latency: true, delivered: true, latencies: 200},
		{cfg: Config{Mode: "reqrep", Msgs: 200, Size: 16, Rate: 20000}, pubMsgs: 200, subMsgs: 200, groups: []string{"req", "rep"}, latency: true, delivered: true, latencies: 200},
		{cfg: Config{Mode: "fanout", Msgs: 100, Size: 16, Subs: 2, Rate: 50000}, pubMsgs: 100, subMsgs: 200, groups: []string{"pub", "sub"}, latency: true, delivered: true, latencies: 200},
		{cfg: Config{Mode: "pubsub", Msgs: 300, Size: 64, MultiSubject: true, Warmup: 20 * time.Millisecond,
			Header: client.Header{"K": {"v"}}}, pubMsgs: 300, subMsgs: 300, groups: []string{"pub", "sub"}, latency: true, delivered: true, latencies: 75},
	} {
		t.Run(tc.cfg.Mode, func(t *testing.T) {
			res := runEnv(t, testEnv(t, url, tc.cfg))
			// A subscription left behind would take queue-group messages
			// of the next run into a closed connection.
			if n := srv.NumSubscriptions(); n != 0 {
				t.Errorf("%d subscriptions still registered when the run returned", n)
			}
			var roles []string
			for _, g := range res.Groups {
				roles = append(roles, g.Role)
			}
			if strings.Join(roles, ",") != strings.Join(tc.groups, ",") {
				t.Fatalf("groups %v, want %v", roles, tc.groups)
			}
			first, second := res.Groups[0], res.Groups[len(res.Groups)-1]
			if tc.cfg.Mode == "reqrep" {
				// Requesters count replies; responders count requests.
				if first.Msgs != tc.pubMsgs || second.Msgs != tc.subMsgs {
					t.Errorf("requesters got %d replies, responders %d requests; want %d, %d", first.Msgs, second.Msgs, tc.pubMsgs, tc.subMsgs)
				}
			} else {
				if first.Msgs != tc.pubMsgs {
					t.Errorf("published %d, want %d", first.Msgs, tc.pubMsgs)
				}
				if tc.subMsgs > 0 && second.Msgs != tc.subMsgs {
					t.Errorf("received %d, want %d", second.Msgs, tc.subMsgs)
				}
			}
			hdr := int64(headerLen(tc.cfg.Header))
			if first.Bytes != first.Msgs*(int64(tc.cfg.Size)+hdr) {
				t.Errorf("bytes %d for %d msgs of %d+%d B", first.Bytes, first.Msgs, tc.cfg.Size, hdr)
			}
			if n := len(first.Clients); n != max(1, tc.cfg.Pubs) {
				t.Errorf("%d sender clients, want %d", n, max(1, tc.cfg.Pubs))
			}
			if tc.delivered {
				d := res.Delivery
				if d == nil || d.Lost != 0 || d.Duplicates != 0 || d.Received != tc.subMsgs && tc.cfg.Mode != "fanout" && tc.cfg.Mode != "pubsub" {
					t.Errorf("delivery = %+v", d)
				}
				if d != nil && d.Tracked != (tc.cfg.Size >= stampLen) {
					t.Errorf("tracked = %v with %d B payloads", d.Tracked, tc.cfg.Size)
				}
			}
			if tc.latency != (res.Latency != nil) {
				t.Fatalf("latency measured = %v, want %v", res.Latency != nil, tc.latency)
			}
			if tc.latency && res.Latency.Count != tc.latencies {
				t.Errorf("%d latencies, want %d", res.Latency.Count, tc.latencies)
			}
			// Every report renders.
			var buf bytes.Buffer
			if err := WriteText(&buf, res, true); err != nil {
				t.Fatal(err)
			}
			if err := WriteCSV(&buf, res); err != nil {
				t.Fatal(err)
			}
			if err := WriteJSON(&buf, res); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestRun_SubBesidePub runs the sub mode while a pub run publishes, as two
// shells would.
func TestRun_SubBesidePub(t *testing.T) {
	srv := servertest.Run(t)
	url := srv.ClientURL()
	subEnv := testEnv(t, url, Config{Mode: "sub", Msgs: 2000, Subs: 2})
	var res *Result
	var err error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		res, err = Run(ctx, subEnv)
	}()
	// Each pub run is a fresh sequence: publish only once both subscribers
	// are registered with the server.
	deadline := time.Now().Add(10 * time.Second)
	for srv.NumSubscriptions() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("subscribers never came")
		}
		time.Sleep(time.Millisecond) // polling the server's state
	}
	runEnv(t, testEnv(t, url, Config{Mode: "pub", Msgs: 2000, Size: 16}))
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	g := res.Group("sub")
	if g == nil || g.Msgs != 4000 || len(g.Clients) != 2 {
		t.Fatalf("sub group = %+v", g)
	}
	if d := res.Delivery; d.Lost != 0 || d.Duplicates != 0 || !d.Tracked || d.Received != 4000 {
		t.Errorf("delivery = %+v", d)
	}
}

// TestRun_LostMessagesAreCountedNotWaitedFor: a subscriber that expects more
// than is sent reports the loss after the receive timeout.
func TestRun_LostMessagesAreCountedNotWaitedFor(t *testing.T) {
	url := servertest.Run(t).ClientURL()
	env := testEnv(t, url, Config{Mode: "sub", Msgs: 150, RecvTimeout: 200 * time.Millisecond})
	done := make(chan *Result, 1)
	go func() {
		res, err := Run(context.Background(), env)
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	nc, err := client.Connect(context.Background(), client.Options{Servers: []string{url}})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	buf := make([]byte, 16)
	// Publish sequences 0..99 of publisher 0, skipping 10..19, with 5 sent twice.
	deadline := time.Now().Add(10 * time.Second)
	sentOnce := false
	for !sentOnce {
		// The subscriber may not be there yet: a first stamped message
		// with a sequence the run will not count again tells us when.
		select {
		case res := <-done:
			t.Fatalf("ended early: %+v", res)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("no subscriber")
		}
		sentOnce = env.sent.Load() > 0 || probe(t, url)
	}
	for s := uint64(0); s < 100; s++ {
		if s >= 10 && s < 20 {
			continue
		}
		putStamp(buf, stamp{pub: 0, seq: s})
		nc.Publish("bench", buf)
		if s == 5 {
			nc.Publish("bench", buf)
		}
	}
	nc.FlushTimeout(5 * time.Second)
	res := <-done
	d := res.Delivery
	if d.Expected != 150 || d.Received != 90 || d.Lost != 60 || d.Duplicates != 1 {
		t.Errorf("delivery = %+v, want 90 of 150 received, 60 lost, 1 duplicate", d)
	}
	if len(res.Warnings) == 0 {
		t.Error("no warning about the receive timeout")
	}
}

// probe reports whether the bench subject has a subscriber, with a request
// on a server that answers no-responders when it has none.
func probe(t *testing.T, url string) bool {
	t.Helper()
	nc, err := client.Connect(context.Background(), client.Options{Servers: []string{url}})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = nc.Request(ctx, "bench", nil) // nobody answers; a 503 means no interest
	return err != nil && !strings.Contains(err.Error(), "no responders")
}

func TestWriteCSV_Columns(t *testing.T) {
	url := servertest.Run(t).ClientURL()
	res := runEnv(t, testEnv(t, url, Config{Mode: "fanout", Msgs: 100, Size: 16, Subs: 2}))
	var buf bytes.Buffer
	if err := WriteCSV(&buf, res); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// header, pub #1, pub all, sub #1, sub #2, sub all
	if len(rows) != 6 {
		t.Fatalf("%d rows:\n%v", len(rows), rows)
	}
	last := rows[5]
	if last[1] != "sub" || last[2] != "all" || last[3] != "200" || last[8] != "0" || last[11] == "" {
		t.Errorf("sub all row = %v", last)
	}
	var back Result
	buf.Reset()
	WriteJSON(&buf, res)
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back.Group("sub").Msgs != 200 {
		t.Errorf("JSON round trip: %v, %+v", err, back.Group("sub"))
	}
}

func TestHoldIdle(t *testing.T) {
	srv := servertest.Run(t)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	ready := make(chan int, 1)
	go func() { errc <- HoldIdle(ctx, srv.Addr().String(), 50, func(n int) { ready <- n }) }()
	select {
	case n := <-ready:
		if n != 50 {
			t.Errorf("ready with %d", n)
		}
	case err := <-errc:
		t.Fatal(err)
	case <-time.After(30 * time.Second):
		t.Fatal("idle connections not up")
	}
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("HoldIdle = %v", err)
	}
}

func TestRun_BadConfig(t *testing.T) {
	for _, c := range []Config{
		{Mode: "nope"},
		{Mode: "pub", Msgs: -1},
		{Mode: "pubsub", Warmup: time.Second, Size: 8},
		{Mode: "reqrep", Size: 4},
	} {
		if _, err := Run(context.Background(), &Env{Config: c}); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}
