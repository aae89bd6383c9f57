package tui

import (
	"errors"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/natsctl/natsctl/internal/monitorapi"
)

// TestView_Golden renders the view at fixed sizes with colour stripped and
// compares it with testdata/TestView_Golden/<case>.golden. Refresh the
// files with `go test ./internal/tui -run TestView_Golden -update` and
// review the diff.
func TestView_Golden(t *testing.T) {
	// A model with two polls (so rates and sparklines exist) at w x h.
	polled := func(w, h int, subjz bool, msgs ...tea.Msg) Model {
		m := newTestModel(&fakeSource{}, w, h)
		for i := 0; i < 6; i++ {
			m, _ = step(t, m, ok(0, i, int64(1+i*i), subjz))
		}
		m, _ = step(t, m, msgs...)
		return m
	}
	slow := func() Model {
		m := polled(120, 30, false, press("down"), press("down"), press("enter"))
		c := m.last.Connz.Conns[2]
		stop := t0
		c.Stop, c.Reason = &stop, monitorapi.ReasonSlowConsumerPendingBytes
		c.SlowConsumer = &monitorapi.SlowConsumerSub{Subject: "gamma.in", Sid: "7", PendingBytes: 64 << 20, PendingMsgs: 65536}
		return m
	}
	down := errors.New("GET /varz: dial tcp 127.0.0.1:8222: connect: connection refused")
	tests := []struct {
		name string
		m    func() Model
	}{
		{"connections_120x30", func() Model { return polled(120, 30, true) }},
		{"connections_80x24", func() Model { return polled(80, 24, true) }},
		{"connections_200x20_sorted_msgs_from", func() Model {
			return polled(200, 20, true, press(">"), press(">"), press(">"), press(">"), press(">"), press(">"))
		}},
		{"detail_120x30", func() Model { return polled(120, 30, true, press("down"), press("enter")) }},
		{"slow_consumer_detail_120x30", slow},
		{"filter_typing_120x30", func() Model { return polled(120, 30, true, press("/"), press("g"), press("a")) }},
		{"subjects_120x30", func() Model { return polled(120, 30, true, press("2")) }},
		{"subjects_unavailable_120x30", func() Model { return polled(120, 30, false, press("2")) }},
		{"server_down_120x30", func() Model {
			return polled(120, 30, true, statsMsg{at: t0.Add(time.Minute), err: down}, statsMsg{at: t0.Add(61 * time.Second), err: down})
		}},
		{"never_reached_100x20", func() Model {
			m := newTestModel(&fakeSource{}, 100, 20)
			m, _ = step(t, m, statsMsg{at: t0, err: down})
			return m
		}},
		{"connecting_100x20", func() Model { return newTestModel(&fakeSource{}, 100, 20) }},
		{"paused_help_120x30", func() Model { return polled(120, 30, true, press("p"), press("?")) }},
		{"tiny_40x8", func() Model { return polled(40, 8, true) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			golden.RequireEqual(t, ansi.Strip(tt.m().View().Content))
		})
	}
}
