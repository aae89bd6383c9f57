package streaming

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Consumer pause (nats-server 2.11), what `nats consumer pause/resume` and
// `nats consumer add --pause` send, checked on both servers.

func TestConsumerPause_Pull(t *testing.T) { bothServers(t, testPausePull) }

func testPausePull(t *testing.T, js jetstream.JetStream) {
	ctx := ctxT(t)
	mustCreate(t, js, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"}})
	publishN(t, js, "p.a", 3)
	nc := js.Conn()
	adv, err := nc.SubscribeSync("$JS.EVENT.ADVISORY.CONSUMER.PAUSE.P.D")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	// Paused at creation.
	until := time.Now().Add(time.Hour)
	cons, err := js.CreateConsumer(ctx, "P", jetstream.ConsumerConfig{Durable: "D", AckPolicy: jetstream.AckExplicitPolicy, PauseUntil: &until})
	if err != nil {
		t.Fatalf("create paused: %v", err)
	}
	ci := cons.CachedInfo()
	if !ci.Paused || ci.PauseRemaining <= 0 || ci.Config.PauseUntil == nil || !ci.Config.PauseUntil.Equal(until) {
		t.Fatalf("created: paused %v remaining %v until %v", ci.Paused, ci.PauseRemaining, ci.Config.PauseUntil)
	}
	if a := nextPauseAdvisory(t, adv); !a.Paused || a.PauseUntil == nil || !a.PauseUntil.Equal(until) {
		t.Fatalf("advisory on create: %+v", a)
	}
	expectNoFetch(t, cons)
	info, err := cons.Info(ctx)
	if err != nil || !info.Paused {
		t.Fatalf("info while paused: %v %+v", err, info)
	}

	// An update does not change the pause: only CONSUMER.PAUSE does.
	if _, err := js.UpdateConsumer(ctx, "P", jetstream.ConsumerConfig{Durable: "D", AckPolicy: jetstream.AckExplicitPolicy, Description: "x"}); err != nil {
		t.Fatalf("update: %v", err)
	}
	if info, _ = cons.Info(ctx); !info.Paused || info.Config.Description != "x" {
		t.Fatalf("after update: paused %v description %q", info.Paused, info.Config.Description)
	}
	// Every create or update request on a paused consumer repeats the
	// advisory.
	if a := nextPauseAdvisory(t, adv); !a.Paused {
		t.Fatalf("advisory on update: %+v", a)
	}

	// Resume: delivery starts again.
	r, err := js.ResumeConsumer(ctx, "P", "D")
	if err != nil || r.Paused || !r.PauseUntil.IsZero() || r.PauseRemaining != 0 {
		t.Fatalf("resume: %v %+v", err, r)
	}
	if a := nextPauseAdvisory(t, adv); a.Paused {
		t.Fatalf("advisory on resume: %+v", a)
	}
	if info, _ = cons.Info(ctx); info.Paused || info.Config.PauseUntil != nil {
		t.Fatalf("after resume: paused %v until %v", info.Paused, info.Config.PauseUntil)
	}
	fetchData(t, cons, "0")

	// Pause through the API, then a pause that runs out by itself.
	until = time.Now().Add(time.Hour)
	r, err = js.PauseConsumer(ctx, "P", "D", until)
	if err != nil || !r.Paused || !r.PauseUntil.Equal(until) || r.PauseRemaining <= 0 {
		t.Fatalf("pause: %v %+v", err, r)
	}
	nextPauseAdvisory(t, adv)
	expectNoFetch(t, cons)
	soon := time.Now().Add(time.Second)
	r, err = js.PauseConsumer(ctx, "P", "D", soon)
	if err != nil {
		t.Fatalf("pause briefly: %v", err)
	}
	nextPauseAdvisory(t, adv)
	fetchData(t, cons, "1") // waits for the pause to end
	// The end of a pause is announced when it was still running once set
	// (a slow machine may have passed the second already).
	if r.Paused {
		if a := nextPauseAdvisory(t, adv); a.Paused || a.PauseUntil == nil || !a.PauseUntil.Equal(soon) {
			t.Fatalf("advisory at the end of the pause: %+v", a)
		}
	}

	if _, err := js.PauseConsumer(ctx, "P", "NOPE", until); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Fatalf("pause a missing consumer: %v", err)
	}
}

func TestConsumerPause_Push(t *testing.T) { bothServers(t, testPausePush) }

func testPausePush(t *testing.T, js jetstream.JetStream) {
	ctx := ctxT(t)
	nc := js.Conn()
	mustCreate(t, js, jetstream.StreamConfig{Name: "Q", Subjects: []string{"q"}})
	sub, err := nc.SubscribeSync("push.q")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(time.Hour)
	if _, err := js.CreateConsumer(ctx, "Q", jetstream.ConsumerConfig{Durable: "PU", DeliverSubject: "push.q", AckPolicy: jetstream.AckNonePolicy, PauseUntil: &until}); err != nil {
		t.Fatalf("create: %v", err)
	}
	publishN(t, js, "q", 1)
	if m, err := sub.NextMsg(500 * time.Millisecond); err == nil {
		t.Fatalf("paused push consumer delivered %q", m.Data)
	}
	if _, err := js.ResumeConsumer(ctx, "Q", "PU"); err != nil {
		t.Fatal(err)
	}
	// nats-server 2.15.2 resumes a push consumer only at its next event
	// (natsctl at once): a new message is one.
	publishN(t, js, "q", 1)
	if m, err := sub.NextMsg(10 * time.Second); err != nil || string(m.Data) != "0" {
		t.Fatalf("after resume: %v", err)
	}
}

// TestConsumerPause_RequiredAPILevel: natscli sends its pause request with
// Nats-Required-Api-Level: 1; a level the server lacks is refused (10185).
func TestConsumerPause_RequiredAPILevel(t *testing.T) {
	bothServers(t, func(t *testing.T, js jetstream.JetStream) {
		ai, err := js.AccountInfo(ctxT(t))
		if err != nil || ai.API.Level < 1 {
			t.Fatalf("api level: %v %+v", err, ai)
		}
		mustCreate(t, js, jetstream.StreamConfig{Name: "L", Subjects: []string{"l"}})
		if _, err := js.CreateConsumer(ctxT(t), "L", jetstream.ConsumerConfig{Durable: "C"}); err != nil {
			t.Fatal(err)
		}
		for level, code := range map[string]int{"1": 0, "99": 10185, "x": 10185} {
			m := nats.NewMsg("$JS.API.CONSUMER.PAUSE.L.C")
			m.Header.Set("Nats-Required-Api-Level", level)
			m.Data = []byte(`{"pause_until":"` + time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano) + `"}`)
			resp, err := js.Conn().RequestMsg(m, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			var r struct {
				Error *struct {
					ErrCode int `json:"err_code"`
				} `json:"error"`
				Paused bool `json:"paused"`
			}
			if err := json.Unmarshal(resp.Data, &r); err != nil {
				t.Fatal(err)
			}
			got := 0
			if r.Error != nil {
				got = r.Error.ErrCode
			}
			if got != code || (code == 0 && !r.Paused) {
				t.Fatalf("level %s: %s", level, resp.Data)
			}
		}
	})
}

// TestConsumerPause_SurvivesRestart: the pause is part of the stored
// config of a durable consumer.
func TestConsumerPause_SurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s, _ := runEngine(t, Config{StoreDir: dir})
	_, js := connectJS(t, s)
	mustCreate(t, js, jetstream.StreamConfig{Name: "R", Subjects: []string{"r"}})
	until := time.Now().Add(time.Hour)
	if _, err := js.CreateConsumer(ctxT(t), "R", jetstream.ConsumerConfig{Durable: "D", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.PauseConsumer(ctxT(t), "R", "D", until); err != nil {
		t.Fatal(err)
	}
	s.Shutdown(ctxT(t))
	s2, _ := runEngine(t, Config{StoreDir: dir})
	_, js2 := connectJS(t, s2)
	publishN(t, js2, "r", 1)
	cons, err := js2.Consumer(ctxT(t), "R", "D")
	if err != nil {
		t.Fatal(err)
	}
	if ci := cons.CachedInfo(); !ci.Paused || !ci.Config.PauseUntil.Equal(until) {
		t.Fatalf("after restart: paused %v until %v", ci.Paused, ci.Config.PauseUntil)
	}
	expectNoFetch(t, cons)
}

type pauseAdvisoryMsg struct {
	Type       string     `json:"type"`
	Stream     string     `json:"stream"`
	Consumer   string     `json:"consumer"`
	Paused     bool       `json:"paused"`
	PauseUntil *time.Time `json:"pause_until"`
}

func nextPauseAdvisory(t *testing.T, sub *nats.Subscription) pauseAdvisoryMsg {
	t.Helper()
	m, err := sub.NextMsg(10 * time.Second)
	if err != nil {
		t.Fatalf("pause advisory: %v", err)
	}
	var a pauseAdvisoryMsg
	if err := json.Unmarshal(m.Data, &a); err != nil {
		t.Fatal(err)
	}
	if a.Type != "io.nats.jetstream.advisory.v1.consumer_pause" || a.Stream == "" || a.Consumer == "" {
		t.Fatalf("advisory %s", m.Data)
	}
	return a
}

// expectNoFetch: a paused consumer lets a pull request wait it out.
func expectNoFetch(t *testing.T, cons jetstream.Consumer) {
	t.Helper()
	b, err := cons.Fetch(1, jetstream.FetchMaxWait(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	for m := range b.Messages() {
		t.Fatalf("paused consumer delivered %q", m.Data())
	}
}

func fetchData(t *testing.T, cons jetstream.Consumer, want string) {
	t.Helper()
	b, err := cons.Fetch(1, jetstream.FetchMaxWait(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for m := range b.Messages() {
		got = append(got, string(m.Data()))
		_ = m.Ack()
	}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("fetched %q (%v), want %q", got, b.Error(), want)
	}
}
