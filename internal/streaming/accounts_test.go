package streaming

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

func TestAccounts_StreamsLivePerAccount(t *testing.T) {
	dir := t.TempDir()
	e := New(Config{StoreDir: dir})
	s := servertest.Run(t, func(o *server.Options) {
		o.Engine = e
		o.AuthTimeout = 20 * time.Second
		o.Accounts = []server.AccountOptions{
			{Name: "A", Users: []server.User{{Username: "a", Password: "pa"}}},
			{Name: "B", Users: []server.User{{Username: "b", Password: "pb"}}},
		}
	})
	js := func(user, pass string) jetstream.JetStream {
		_, j := userJS(t, s.ClientURL(), user, pass)
		return j
	}
	ja, jb := js("a", "pa"), js("b", "pb")
	ctx := ctxT(t)
	if _, err := ja.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	if _, err := jb.Stream(ctx, "ORDERS"); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("B sees A's stream: %v", err)
	}
	if _, err := jb.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}}); err != nil {
		t.Fatalf("B's own ORDERS: %v", err)
	}
	if _, err := ja.Publish(ctx, "orders.1", []byte("a")); err != nil {
		t.Fatal(err)
	}
	sa, _ := ja.Stream(ctx, "ORDERS")
	sb, _ := jb.Stream(ctx, "ORDERS")
	ia, _ := sa.Info(ctx)
	ib, _ := sb.Info(ctx)
	if ia.State.Msgs != 1 || ib.State.Msgs != 0 {
		t.Fatalf("A has %d messages, B %d; want 1 and 0", ia.State.Msgs, ib.State.Msgs)
	}
	if _, err := os.Stat(filepath.Join(dir, "accounts", "A", "streams", "ORDERS")); err != nil {
		t.Fatalf("A's stream is not under its account directory: %v", err)
	}
}

// TestAccounts_JSInfoSumsAccounts: natscli's server report jetstream (from
// /jsz and $SYS JSZ) counted only the global account's streams.
func TestAccounts_JSInfoSumsAccounts(t *testing.T) {
	e := New(Config{StoreDir: t.TempDir()})
	s := servertest.Run(t, func(o *server.Options) {
		o.Engine = e
		o.AuthTimeout = 20 * time.Second
		o.Accounts = []server.AccountOptions{{Name: "A", Users: []server.User{{Username: "a", Password: "pa"}}}}
	})
	_, js := userJS(t, s.ClientURL(), "a", "pa")
	mustCreate(t, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s"}})
	publishN(t, js, "s", 2)
	info := s.JSInfo()
	if info.Streams != 1 || info.Messages != 2 || info.Store == 0 || info.Accounts != 2 || info.API.Total < 1 {
		t.Fatalf("jsz %+v", info)
	}
}
