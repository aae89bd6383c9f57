package streaming

import (
	"bytes"
	"testing"
)

// FuzzDecodeStreamConfig: any body gives a config or an API error, never a
// panic; an accepted config survives defaults and validation, and its JSON
// decodes back to the same config.
func FuzzDecodeStreamConfig(f *testing.F) {
	for _, s := range []string{
		`{"name":"S","subjects":["a.>"],"retention":"limits","storage":"file","max_age":0,"compression":"none"}`,
		`{"name":"S","sources":[{"name":"X"}]}`,
		`{"name":"S","retention":"workqueue","discard":"new","max_msgs_per_subject":1,"discard_new_per_subject":true}`,
		`{"name":"S","consumer_limits":{},"metadata":{"a":"b"},"mirror_direct":false,"placement":null}`,
		`[]`, `{"name":1}`, `{"subjects":["a..b"]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		cfg, aerr := decodeStreamConfig(body)
		if aerr != nil {
			if cfg != nil || aerr.ErrCode == 0 {
				t.Fatalf("error %v with config %v", aerr, cfg)
			}
			return
		}
		cfg.setDefaults()
		if cfg.validate() != nil {
			return
		}
		again, aerr := decodeStreamConfig(mustJSON(cfg))
		if aerr != nil {
			t.Fatalf("re-decode of %s: %v", mustJSON(cfg), aerr)
		}
		if !configEqual(cfg, again) {
			t.Fatalf("round trip changed the config:\n%s\n%s", mustJSON(cfg), mustJSON(again))
		}
	})
}

// FuzzHeaderValue: header parsing never panics and finds a key that was
// appended to any valid header block.
func FuzzHeaderValue(f *testing.F) {
	f.Add([]byte("NATS/1.0\r\nNats-Msg-Id: 1\r\n\r\n"), "Nats-Msg-Id")
	f.Add([]byte("NATS/1.0 503\r\n\r\n"), "Status")
	f.Add([]byte("garbage"), "x")
	f.Fuzz(func(t *testing.T, hdr []byte, key string) {
		_ = headerValue(hdr, key)
		_ = hasHeader(hdr, key)
		// Header keys are tokens: no separators or spaces of any kind.
		if key == "" || bytes.ContainsAny([]byte(key), ":\r\n") || len(bytes.Fields([]byte(key))) != 1 || string(bytes.TrimSpace([]byte(key))) != key {
			return
		}
		block := []byte("NATS/1.0\r\nA: b\r\n" + key + ": v1\r\n\r\n")
		if v := headerValue(block, key); string(v) != "v1" && key != "A" {
			t.Fatalf("key %q: got %q", key, v)
		}
	})
}
