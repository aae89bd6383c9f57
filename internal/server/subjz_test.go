package server_test

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/natsctl/natsctl/internal/monitorapi"
	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

func subjz(t testing.TB, s *server.Server, query string) *monitorapi.Subjz {
	t.Helper()
	code, b := httpGet(t, s.MonitorURL()+monitorapi.SubjzPath+query)
	if code != http.StatusOK {
		t.Fatalf("/subjz%s: %d %s", query, code, b)
	}
	var sz monitorapi.Subjz
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&sz); err != nil {
		t.Fatalf("/subjz: %v\n%s", err, b)
	}
	return &sz
}

func publishN(t testing.TB, nc *nats.Conn, subj string, n, size int) {
	t.Helper()
	p := bytes.Repeat([]byte("x"), size)
	for i := 0; i < n; i++ {
		if err := nc.Publish(subj, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
}

// TestSubjz_LightTrafficIsExact: a connection's first messages are counted
// one by one, from open and closed connections alike.
func TestSubjz_LightTrafficIsExact(t *testing.T) {
	s := servertest.Run(t, servertest.Monitoring)
	a := connect(t, s)
	b := connect(t, s)
	publishN(t, a, "a.many", 30, 10)
	publishN(t, b, "b.big", 10, 100)
	publishN(t, b, "a.many", 5, 10)
	b.Close()
	waitFor(t, "b to close", func() bool { return s.NumConns() == 1 })

	sz := subjz(t, s, "")
	if sz.Total != 2 || sz.Sort != monitorapi.SubjzByMsgs || sz.Limit != 100 || sz.ID != s.ID() {
		t.Fatalf("%+v", sz)
	}
	want := []monitorapi.SubjectStats{{Subject: "a.many", Msgs: 35, Bytes: 350}, {Subject: "b.big", Msgs: 10, Bytes: 1000}}
	if len(sz.Subjects) != 2 || sz.Subjects[0] != want[0] || sz.Subjects[1] != want[1] {
		t.Fatalf("by msgs: %+v", sz.Subjects)
	}
	byBytes := subjz(t, s, "?sort=bytes&limit=1")
	if len(byBytes.Subjects) != 1 || byBytes.Subjects[0] != want[1] || byBytes.Total != 2 || byBytes.Limit != 1 {
		t.Fatalf("by bytes, limit 1: %+v", byBytes)
	}
}

// TestSubjz_SampledEstimate: past the exact start, a publisher cycling
// through subjects in a fixed pattern (3 hot, 1 cold) is estimated within
// a few percent; a fixed every-Nth sample would alias with the pattern and
// see one subject only. The sample sequence is deterministic (seeded by
// cid), so this test is too.
func TestSubjz_SampledEstimate(t *testing.T) {
	s := servertest.Run(t, servertest.Monitoring)
	nc := connect(t, s)
	const rounds = 16000
	for i := 0; i < rounds; i++ {
		for _, subj := range []string{"hot", "hot", "hot", "cold"} {
			if err := nc.Publish(subj, []byte("12345678")); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	sz := subjz(t, s, "")
	if sz.Sampling != 64 || len(sz.Subjects) != 2 || sz.Subjects[0].Subject != "hot" {
		t.Fatalf("%+v", sz)
	}
	for _, e := range sz.Subjects {
		t.Logf("%s: estimated %d msgs, %d bytes", e.Subject, e.Msgs, e.Bytes)
		want := float64(rounds)
		if e.Subject == "hot" {
			want *= 3
		}
		if got := float64(e.Msgs); math.Abs(got-want)/want > 0.15 {
			t.Errorf("%s: %d msgs estimated, %v sent", e.Subject, e.Msgs, want)
		}
		if e.Bytes != 8*e.Msgs {
			t.Errorf("%s: %d bytes for %d msgs of 8 bytes", e.Subject, e.Bytes, e.Msgs)
		}
	}
}

// TestSubjz_ManySubjectsStayBounded: unique subjects beyond the table size
// do not grow it without bound, and a heavy subject survives the churn.
func TestSubjz_ManySubjectsStayBounded(t *testing.T) {
	s := servertest.Run(t, servertest.Monitoring)
	server.SetSubjectSampling(s, 1)
	nc := connect(t, s)
	publishN(t, nc, "heavy", 2000, 1)
	for i := 0; i < 6000; i++ {
		nc.Publish("unique."+string(rune('a'+i%26))+"."+itoa(i), nil)
	}
	publishN(t, nc, "heavy", 1, 1)
	sz := subjz(t, s, "?limit=1")
	if sz.Total > 4096+64 {
		t.Fatalf("%d subjects tracked", sz.Total)
	}
	if sz.Subjects[0].Subject != "heavy" || sz.Subjects[0].Msgs < 2001 {
		t.Fatalf("top: %+v", sz.Subjects)
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
