package monitorapi_test

import (
	"encoding/json"
	"testing"

	"github.com/natsctl/natsctl/internal/monitorapi"
)

// FuzzDecode feeds arbitrary bytes to the decoders of the documents natsctl
// top reads (and of the one type with its own UnmarshalJSON). Whatever
// decodes must encode and decode again to the same value.
func FuzzDecode(f *testing.F) {
	for _, v := range []any{
		filled[monitorapi.Connz](true), filled[monitorapi.Varz](false),
		filled[monitorapi.HealthStatus](false), filled[monitorapi.Subjz](false),
	} {
		b, _ := json.Marshal(v)
		f.Add(b)
	}
	f.Add([]byte(`{"errors":[{"type":"STREAM"}]}`))
	f.Add([]byte(`{"errors":[{"type":3}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, b, func() any { return &monitorapi.Connz{} })
		roundTrip(t, b, func() any { return &monitorapi.Varz{} })
		roundTrip(t, b, func() any { return &monitorapi.HealthStatus{} })
		roundTrip(t, b, func() any { return &monitorapi.Subjz{} })
	})
}

func roundTrip(t *testing.T, b []byte, mk func() any) {
	v := mk()
	if json.Unmarshal(b, v) != nil {
		return
	}
	enc, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("%T decoded but does not encode: %v", v, err)
	}
	w := mk()
	if err := json.Unmarshal(enc, w); err != nil {
		t.Fatalf("%T: own encoding does not decode: %v\n%s", v, err, enc)
	}
	enc2, _ := json.Marshal(w)
	if string(enc) != string(enc2) {
		t.Fatalf("%T: encoding not stable:\n%s\n%s", v, enc, enc2)
	}
}
