package monitorapi

import "testing"

func TestParseSortOpt(t *testing.T) {
	tests := []struct {
		key     string
		closed  bool
		want    SortOpt
		wantErr string
	}{
		{"", false, ByCid, ""},
		{"cid", false, ByCid, ""},
		{" MSGS_TO ", false, ByOutMsgs, ""},
		{"bytes_from", false, ByInBytes, ""},
		{"rtt", false, ByRTT, ""},
		{"stop", true, ByStop, ""},
		{"reason", true, ByReason, ""},
		{"stop", false, "", "sort by stop only valid on closed connections"},
		{"reason", false, "", "sort by reason only valid on closed connections"},
		{"name", false, "", "invalid sorting option: name"},
	}
	for _, tt := range tests {
		got, err := ParseSortOpt(tt.key, tt.closed)
		if tt.wantErr != "" {
			if err == nil || len(err.Error()) < len(tt.wantErr) || err.Error()[:len(tt.wantErr)] != tt.wantErr {
				t.Errorf("ParseSortOpt(%q, %v) error = %v, want prefix %q", tt.key, tt.closed, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSortOpt(%q, %v) = %q, %v; want %q", tt.key, tt.closed, got, err, tt.want)
		}
	}
}

func TestSortOpt_Descending(t *testing.T) {
	asc := map[SortOpt]bool{ByCid: true, ByStart: true, ByUptime: true, ByReason: true}
	for _, o := range SortOpts {
		if o.Descending() == asc[o] {
			t.Errorf("%s: Descending() = %v", o, o.Descending())
		}
		if !o.IsValid() {
			t.Errorf("%s: not valid", o)
		}
	}
	if SortOpt("nope").IsValid() {
		t.Error(`"nope" is valid`)
	}
}

func FuzzParseSortOpt(f *testing.F) {
	for _, o := range SortOpts {
		f.Add(string(o), false)
	}
	f.Add("", true)
	f.Add("STOP", true)
	f.Fuzz(func(t *testing.T, key string, closed bool) {
		s, err := ParseSortOpt(key, closed)
		if err != nil {
			return
		}
		if s == "" || !s.IsValid() || (s.ClosedOnly() && !closed) {
			t.Fatalf("ParseSortOpt(%q, %v) accepted %q", key, closed, s)
		}
	})
}
