package monitorapi_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/natsctl/natsctl/internal/monitorapi"
)

var fixedTime = time.Date(2026, 3, 4, 5, 6, 7, 890123456, time.UTC)

// fill sets every field reachable from v to a non-zero value, so that a JSON
// encoding carries every field (omitempty cannot hide one) with a value of
// its Go type. Fields whose JSON name starts with natsctl_ (our extensions)
// are left zero unless ext is true.
func fill(v reflect.Value, ext bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fill(v.Elem(), ext)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(fixedTime))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			if strings.HasPrefix(f.Tag.Get("json"), "natsctl_") && !ext {
				continue
			}
			fill(v.Field(i), ext)
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), ext)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		fill(k, ext)
		e := reflect.New(v.Type().Elem()).Elem()
		fill(e, ext)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1) // 1 is valid for enums too (HealthzErrorType)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	}
}

func filled[T any](ext bool) *T {
	var t T
	fill(reflect.ValueOf(&t), ext)
	return &t
}

// compatCase pairs one of our documents with nats-server's struct for it.
type compatCase struct {
	name   string
	ours   func(ext bool) any
	theirs func() any
	fresh  func() any // empty value of our type, to decode the way back
}

func compatCases() []compatCase {
	return []compatCase{
		{"Varz", func(e bool) any { return filled[monitorapi.Varz](e) }, func() any { return &server.Varz{} }, func() any { return &monitorapi.Varz{} }},
		{"Connz", func(e bool) any { return filled[monitorapi.Connz](e) }, func() any { return &server.Connz{} }, func() any { return &monitorapi.Connz{} }},
		{"ConnInfo", func(e bool) any { return filled[monitorapi.ConnInfo](e) }, func() any { return &server.ConnInfo{} }, func() any { return &monitorapi.ConnInfo{} }},
		{"Subsz", func(e bool) any { return filled[monitorapi.Subsz](e) }, func() any { return &server.Subsz{} }, func() any { return &monitorapi.Subsz{} }},
		{"Routez", func(e bool) any { return filled[monitorapi.Routez](e) }, func() any { return &server.Routez{} }, func() any { return &monitorapi.Routez{} }},
		{"Accountz", func(e bool) any { return filled[monitorapi.Accountz](e) }, func() any { return &server.Accountz{} }, func() any { return &monitorapi.Accountz{} }},
		{"Healthz", func(e bool) any { return filled[monitorapi.HealthStatus](e) }, func() any { return &server.HealthStatus{} }, func() any { return &monitorapi.HealthStatus{} }},
		{"Jsz", func(e bool) any { return filled[monitorapi.JSInfo](e) }, func() any { return &server.JSInfo{} }, func() any { return &monitorapi.JSInfo{} }},
	}
}

func strictDecode(b []byte, into any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(into)
}

// TestCompat_StrictDecodeIntoNATSServer encodes each of our documents with
// every field set and decodes it into nats-server's struct, rejecting
// unknown fields: a renamed field or a different JSON type fails here, as it
// would fail nats-top. Then it encodes nats-server's struct and decodes it
// back into ours: the values must survive both ways.
func TestCompat_StrictDecodeIntoNATSServer(t *testing.T) {
	for _, tc := range compatCases() {
		t.Run(tc.name, func(t *testing.T) {
			ours := tc.ours(false)
			b, err := json.Marshal(ours)
			if err != nil {
				t.Fatal(err)
			}
			theirs := tc.theirs()
			if err := strictDecode(b, theirs); err != nil {
				t.Fatalf("nats-server's %T rejects our encoding: %v\n%s", theirs, err, b)
			}
			back, err := json.Marshal(theirs)
			if err != nil {
				t.Fatal(err)
			}
			got := tc.fresh()
			if err := json.Unmarshal(back, got); err != nil {
				t.Fatalf("our %T rejects nats-server's encoding: %v\n%s", got, err, back)
			}
			if !reflect.DeepEqual(got, ours) {
				t.Fatalf("values changed through nats-server's %T:\nours: %s\nback: %s", theirs, b, back)
			}
		})
	}
}

// TestCompat_FillReachesEveryField guards the guard: fill must leave no
// non-extension field at its zero value, or the strict test above would
// not see that field at all.
func TestCompat_FillReachesEveryField(t *testing.T) {
	for _, tc := range compatCases() {
		b, err := json.Marshal(tc.ours(false))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		want := jsonNames(reflect.TypeOf(tc.fresh()).Elem())
		for _, n := range want {
			if _, ok := m[n]; !ok {
				t.Errorf("%s: field %q missing from the filled encoding", tc.name, n)
			}
		}
	}
}

func jsonNames(t reflect.Type) []string {
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			names = append(names, jsonNames(ft)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || strings.HasPrefix(name, "natsctl_") {
			continue
		}
		names = append(names, name)
	}
	return names
}

// TestCompat_ExtensionsAreOnlyUnknownFields: with our extensions set, a
// plain decoder for nats-server's struct (what nats-top uses) still accepts
// the document, and a strict one objects to the extension field alone.
func TestCompat_ExtensionsAreOnlyUnknownFields(t *testing.T) {
	ci := filled[monitorapi.ConnInfo](true)
	if ci.SlowConsumer == nil {
		t.Fatal("fill did not set the extension")
	}
	b, err := json.Marshal(monitorapi.Connz{Now: fixedTime, NumConns: 1, Conns: []*monitorapi.ConnInfo{ci}})
	if err != nil {
		t.Fatal(err)
	}
	var plain server.Connz
	if err := json.Unmarshal(b, &plain); err != nil {
		t.Fatalf("nats-server's Connz rejects a document with extensions: %v", err)
	}
	if plain.Conns[0].Cid != ci.Cid {
		t.Fatalf("cid: got %d want %d", plain.Conns[0].Cid, ci.Cid)
	}
	err = strictDecode(b, &server.Connz{})
	if err == nil || !strings.Contains(err.Error(), `"natsctl_slow_consumer"`) {
		t.Fatalf("strict decode error = %v, want one about natsctl_slow_consumer only", err)
	}
}

// TestCompat_DurationsAreNanoseconds pins the wire form nats-top depends on.
func TestCompat_DurationsAreNanoseconds(t *testing.T) {
	v := monitorapi.Varz{PingInterval: 2 * time.Minute, WriteDeadline: 10 * time.Second}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"ping_interval":120000000000`, `"write_deadline":10000000000`, `"cluster":{}`, `"jetstream":{}`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("encoding lacks %s:\n%s", want, b)
		}
	}
}
