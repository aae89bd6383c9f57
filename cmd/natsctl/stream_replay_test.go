package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestStreamSubEditView: stream sub replays by sequence, time, last and
// last per subject; edit keeps unflagged settings; view pages in order.
func TestStreamSubEditView(t *testing.T) {
	for name, url := range jsTargets(t) {
		t.Run(name, func(t *testing.T) {
			r := runner{t, url}
			r.ok("stream", "add", "S", "--subjects", "s.>", "--max-msgs", "100", "--description", "before")
			js := jsFor(t, url)
			for i := 1; i <= 5; i++ {
				r.ok("pub", fmt.Sprintf("s.%d", i%2), fmt.Sprint("m", i))
			}
			// pub is fire-and-forget: wait until the stream holds all five.
			waitFor(t, func() bool {
				si, err := js.StreamInfo(ctxFor(t), "S")
				return err == nil && si.State.Msgs == 5
			})
			for _, tc := range []struct {
				args []string
				want string
			}{
				{[]string{"--since", "1m"}, "m1 m2 m3 m4 m5"},
				{[]string{"--seq", "3"}, "m3 m4 m5"},
				{[]string{"--last"}, "m5"},
				{[]string{"--last-per-subject"}, "m4 m5"},
				{[]string{"--subject", "s.0"}, "m2 m4"},
				{[]string{"--count", "2"}, "m1 m2"},
			} {
				out := r.ok(append([]string{"stream", "sub", "S", "--raw"}, tc.args...)...)
				if got := strings.Join(strings.Fields(out), " "); got != tc.want {
					t.Errorf("sub %v: %q, want %q", tc.args, got, tc.want)
				}
			}
			out := r.ok("stream", "sub", "S", "--json", "--last")
			var jm struct {
				Subject string `json:"subject"`
				Data    string `json:"data"`
			}
			if err := json.Unmarshal([]byte(out), &jm); err != nil || jm.Subject != "s.1" || jm.Data != "m5" {
				t.Fatalf("sub --json: %q %v", out, err)
			}
			r.fails("no stream NOPE", "stream", "sub", "NOPE")

			r.ok("stream", "edit", "S", "--description", "after", "--max-age", "1h")
			si, err := js.StreamInfo(ctxFor(t), "S")
			if err != nil || si.Config.Description != "after" || si.Config.MaxAge.String() != "1h0m0s" || si.Config.MaxMsgs != 100 {
				t.Fatalf("after edit: %+v %v", si.Config, err)
			}
			r.fails("nothing to change", "stream", "edit", "S")

			if out := r.ok("stream", "view", "S", "--raw", "--seq", "2", "--page-size", "2"); strings.Join(strings.Fields(out), " ") != "m2 m3 m4 m5" {
				t.Fatalf("view: %q", out)
			}
			if out := r.ok("stream", "view", "S", "--subject", "s.1", "--json"); strings.Count(out, "\n") != 3 || !strings.Contains(out, `"seq":5`) {
				t.Fatalf("view --json: %q", out)
			}
		})
	}
}

// TestE2EStreamSubSince: `natsctl stream sub S --since 1m --raw` replays in
// order and exits.
func TestE2EStreamSubSince(t *testing.T) {
	for name, url := range jsBinaryTargets(t) {
		t.Run(name, func(t *testing.T) {
			binary(t, url, "stream", "add", "S", "--subjects", "s.>")
			for i := 1; i <= 3; i++ {
				binary(t, url, "req", "s.x", fmt.Sprint(i))
			}
			if out := binary(t, url, "stream", "sub", "S", "--since", "1m", "--raw"); out != "1\n2\n3\n" {
				t.Fatalf("stream sub printed %q", out)
			}
		})
	}
}
