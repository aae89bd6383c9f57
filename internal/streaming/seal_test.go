package streaming

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Sealing a stream forces deny_delete, deny_purge, discard new, no max_age
// and no rollups, as nats-server does, and the reply shows it.
func TestInterop_SealAdjustsConfig(t *testing.T) {
	bothServers(t, func(t *testing.T, js jetstream.JetStream) {
		ctx := ctxT(t)
		cfg := jetstream.StreamConfig{Name: "S", Subjects: []string{"s"}, MaxAge: time.Hour, AllowRollup: true}
		mustCreate(t, js, cfg)
		cfg.Sealed = true
		st, err := js.UpdateStream(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		c := st.CachedInfo().Config
		if !c.Sealed || !c.DenyDelete || !c.DenyPurge || c.Discard != jetstream.DiscardNew || c.MaxAge != 0 || c.AllowRollup {
			t.Fatalf("sealed config %+v", c)
		}
		if _, err := js.Publish(ctx, "s", nil); err == nil {
			t.Fatal("publish to a sealed stream succeeded")
		}
	})
}
