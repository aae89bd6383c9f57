package streaming

import (
	"encoding/json"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

func TestJSInfo(t *testing.T) {
	s, e := runEngine(t, Config{MaxStore: 1 << 30})
	_, js := connectJS(t, s)
	mustCreate(t, js, jetstream.StreamConfig{Name: "F", Subjects: []string{"f"}})
	mustCreate(t, js, jetstream.StreamConfig{Name: "M", Subjects: []string{"m"}, Storage: jetstream.MemoryStorage})
	publishN(t, js, "f", 3)
	publishN(t, js, "m", 2)
	if _, err := js.Stream(ctxT(t), "NOPE"); err == nil {
		t.Fatal("missing stream found")
	}
	info := s.JSInfo()
	if info.Disabled || info.Streams != 2 || info.Messages != 5 || info.Store == 0 || info.Memory == 0 ||
		info.Bytes != info.Store+info.Memory || info.API.Total < 3 || info.API.Errors < 1 ||
		info.Config.MaxStore != 1<<30 || info.Config.StoreDir != e.StoreDir() || !info.Config.SyncAlways || info.ID != s.ID() {
		t.Fatalf("jsz %+v", info)
	}
	// The JSON is nats-server's shape (numbers where it has numbers).
	var m map[string]any
	if err := json.Unmarshal(mustJSON(info), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"server_id", "now", "config", "memory", "storage", "streams", "consumers", "messages", "bytes", "api"} {
		if _, ok := m[k]; !ok {
			t.Errorf("/jsz lacks %q", k)
		}
	}

	off := servertest.Run(t)
	if !off.JSInfo().Disabled {
		t.Fatal("server without engine reports streaming")
	}
	_ = server.JSZProvider(e)
}
