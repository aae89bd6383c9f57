package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/natsctl/natsctl/internal/iostreams"
)

func testDeps() *deps {
	ios, _, _, _ := iostreams.Test()
	return newDeps(ios)
}

func execute(cmd *cobra.Command, args ...string) error {
	cmd.SetArgs(args)
	cmd.SetOut(&strings.Builder{})
	cmd.SetErr(&strings.Builder{})
	return cmd.ExecuteContext(context.Background())
}

func TestStreamSubFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // fmt of the recorded options, or "error: <part>"
	}{
		{[]string{"S"}, "S [] 0  false false false false 0"},
		{[]string{"S", "--seq", "5", "-n", "2", "--subject", "a.*,b"}, "S [a.* b] 5  false false false false 2"},
		{[]string{"S", "--since", "1h", "--follow"}, "S [] 0 1h false false false true 0"},
		{[]string{"S", "--last-per-subject"}, "S [] 0  false true false false 0"},
		{[]string{"S", "--seq", "5", "--since", "1h"}, "error: none of the others can be"},
		{[]string{}, "error: accepts 1 arg"},
	} {
		var got *streamSubOptions
		cmd := newStreamSubCmd(testDeps(), func(_ context.Context, o *streamSubOptions) error { got = o; return nil })
		err := execute(cmd, tc.args...)
		s := ""
		if err != nil {
			s = "error: " + err.Error()
		} else {
			s = fmt.Sprint(got.Stream, " ", got.Subjects, " ", got.Seq, " ", got.Since, " ", got.Last, " ", got.LastPerSubject, " ", got.New, " ", got.Follow, " ", got.Count)
		}
		if !strings.HasPrefix(s, tc.want) && !(strings.HasPrefix(tc.want, "error: ") && strings.Contains(s, strings.TrimPrefix(tc.want, "error: "))) {
			t.Errorf("%v: %q, want %q", tc.args, s, tc.want)
		}
	}
}

func TestConsumerSettings(t *testing.T) {
	now := time.Date(2026, 1, 2, 15, 0, 0, 0, time.UTC)
	settings := func(defaults bool, args ...string) map[string]any {
		t.Helper()
		f := &consumerFlags{}
		cmd := &cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error { return nil }}
		f.bind(cmd)
		if err := execute(cmd, args...); err != nil {
			t.Fatal(err)
		}
		set, err := f.settings(cmd, now, defaults)
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	// add: every default is sent; empty strings and zero durations are not.
	add := settings(true, "--filter", "orders.new", "--since", "1h")
	want := map[string]any{"ack_policy": "explicit", "deliver_policy": "by_start_time", "replay_policy": "instant",
		"filter_subject": "orders.new", "ack_wait": int64(30 * time.Second), "max_deliver": -1, "max_ack_pending": 1000,
		"max_waiting": 512, "opt_start_time": now.Add(-time.Hour)}
	if fmt.Sprint(add) != fmt.Sprint(want) {
		t.Fatalf("add settings\n got %v\nwant %v", add, want)
	}
	// edit: only what was given.
	edit := settings(false, "--max-ack-pending", "5", "--description", "", "--filter", "a,b")
	if fmt.Sprint(edit) != fmt.Sprint(map[string]any{"description": "", "filter_subjects": []string{"a", "b"}, "max_ack_pending": 5}) {
		t.Fatalf("edit settings %v", edit)
	}
	// A push consumer has no max_waiting.
	if _, ok := settings(true, "--deliver-subject", "in")["max_waiting"]; ok {
		t.Fatal("max_waiting sent for a push consumer")
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 1, 2, 15, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"1h", now.Add(-time.Hour), false},
		{"90s", now.Add(-90 * time.Second), false},
		{"2026-01-01T10:00:00Z", time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC), false},
		{"-1h", time.Time{}, true},
		{"yesterday", time.Time{}, true},
	} {
		got, err := parseSince(tc.in, now)
		if (err != nil) != tc.err || (!tc.err && !got.Equal(tc.want)) {
			t.Errorf("%q: %v %v", tc.in, got, err)
		}
	}
}

func TestWriteTable(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	rows := [][]string{{"cfg", "3"}, {"sessions", "12"}}
	if err := writeTable(ios, []string{"BUCKET", "VALUES"}, rows); err != nil || out.String() != "BUCKET\tVALUES\ncfg\t3\nsessions\t12\n" {
		t.Fatalf("pipe: %q %v", out, err)
	}
	out.Reset()
	ios.OutTTY = true
	if err := writeTable(ios, []string{"BUCKET", "VALUES"}, rows); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 4 || !strings.Contains(out.String(), "sessions") || strings.Contains(out.String(), "\t") {
		t.Fatalf("terminal table:\n%s", out)
	}
}
