package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/natsctl/natsctl/internal/client"
)

// pipe sends requests without waiting for each reply (at most window
// outstanding) and hands the replies back in the order of the requests.
// Replies arrive on one wildcard inbox, each tagged with its request's
// index, so a reordered reply is still matched. Backup and restore use it
// to keep the connection busy instead of paying one round trip per
// message.
type pipe struct {
	nc      *client.Conn
	inbox   string
	sub     *client.Subscription
	replies chan *client.Msg
	early   map[int]*client.Msg // replies that overtook earlier ones
	sent    int
	got     int
	window  int
	wait    time.Duration
}

func newPipe(nc *client.Conn, window int, wait time.Duration) (*pipe, error) {
	p := &pipe{nc: nc, inbox: client.NewInbox(), replies: make(chan *client.Msg, window+1),
		early: map[int]*client.Msg{}, window: window, wait: wait}
	sub, err := nc.Subscribe(p.inbox+".*", func(m *client.Msg) {
		// Never blocks: at most window requests are outstanding.
		select {
		case p.replies <- m:
		default:
		}
	})
	if err != nil {
		return nil, err
	}
	p.sub = sub
	return p, nil
}

func (p *pipe) close() { _ = p.sub.Unsubscribe() }

// outstanding is how many replies are still to come.
func (p *pipe) outstanding() int { return p.sent - p.got }

// full reports whether send must wait for a reply first.
func (p *pipe) full() bool { return p.outstanding() >= p.window }

// send publishes m with a reply subject of the pipe.
func (p *pipe) send(m *client.Msg) error {
	m.Reply = p.inbox + "." + strconv.Itoa(p.sent)
	if err := p.nc.PublishMsg(m); err != nil {
		return err
	}
	p.sent++
	return nil
}

// recv returns the reply to the oldest outstanding request.
func (p *pipe) recv(ctx context.Context) (*client.Msg, error) {
	want := p.got
	timer := time.NewTimer(p.wait)
	defer timer.Stop()
	for {
		if m, ok := p.early[want]; ok {
			delete(p.early, want)
			p.got++
			if m.Status() == "503" {
				return nil, client.ErrNoResponders
			}
			return m, nil
		}
		select {
		case m := <-p.replies:
			i, err := strconv.Atoi(m.Subject[strings.LastIndexByte(m.Subject, '.')+1:])
			if err == nil && i >= want {
				p.early[i] = m
			}
		case <-timer.C:
			return nil, fmt.Errorf("no reply within %v (request %d): %w", p.wait, want, client.ErrTimeout)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
