package streaming

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestMsgTTL_Refused: `nats kv create K y v --ttl 10s` was stored without
// expiry on natsctl; nats-server refuses a Nats-TTL on a stream without
// allow_msg_ttl.
func TestMsgTTL_Refused(t *testing.T) {
	bothServers(t, func(t *testing.T, js jetstream.JetStream) {
		ctx := ctxT(t)
		mustCreate(t, js, jetstream.StreamConfig{Name: "T", Subjects: []string{"t"}})
		for ttl, code := range map[string]int{"00": 0, "10s": 10166, "5": 10166, "never": 10166, "NEVER": 10166, "500ms": 10165, "0": 10165, "abc": 10165, "-1": 10165} {
			m := nats.NewMsg("t")
			m.Header.Set("Nats-TTL", ttl)
			_, err := js.PublishMsg(ctx, m)
			if code == 0 {
				if err != nil {
					t.Errorf("Nats-TTL %q: %v", ttl, err)
				}
				continue
			}
			var apiErr *jetstream.APIError
			if !errors.As(err, &apiErr) || int(apiErr.ErrorCode) != code {
				t.Errorf("Nats-TTL %q: %v, want %d", ttl, err, code)
			}
		}
		if s := streamState(t, js, "T"); s.Msgs != 1 {
			t.Fatalf("stored %d messages, want the one without a TTL", s.Msgs)
		}
		kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "k"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = kv.Create(ctx, "y", []byte("v"), jetstream.KeyTTL(10*time.Second))
		var apiErr *jetstream.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode != 10166 {
			t.Fatalf("kv create with a TTL: %v", err)
		}
		if _, err := kv.Create(ctx, "y", []byte("v")); err != nil {
			t.Fatalf("kv create: %v", err)
		}
	})
}

func FuzzParseMsgTTL(f *testing.F) {
	for _, s := range []string{"10s", "5", "never", "500ms", "0", "abc", "-1", "1h2m", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		secs, ok := parseMsgTTL(s)
		if ok && secs == 0 && strings.Trim(s, "0") != "" {
			t.Fatalf("%q: ok with 0 seconds", s)
		}
		if !ok && secs != 0 {
			t.Fatalf("%q: refused with %d", s, secs)
		}
	})
}
