package bench

import (
	"context"
	"time"

	"github.com/natsctl/natsctl/internal/client"
)

// conns opens and closes the connections of one run.
type conns struct {
	ctx context.Context
	e   *Env
	all []*client.Conn
}

func (cs *conns) open(name string) (*client.Conn, error) {
	nc, err := cs.e.Connect(cs.ctx, name)
	if err != nil {
		return nil, err
	}
	cs.all = append(cs.all, nc)
	return nc, nil
}

// retireTimeout bounds how long close waits for the server to confirm that
// a connection's subscriptions are gone.
const retireTimeout = 2 * time.Second

// close drains each connection (unsubscribe, then a PING the server answers
// only after the UNSUBs) before closing it, unless the run was interrupted.
// A bare close leaves the subscriptions registered until the server reads
// the EOF; a run started right after against the same server (compare
// rounds, scripts) would then lose messages a queue group handed to the
// closed connection.
func (cs *conns) close() {
	if cs.ctx.Err() != nil {
		for _, nc := range cs.all {
			nc.Close()
		}
		return
	}
	ctx, cancel := context.WithTimeout(cs.ctx, retireTimeout)
	defer cancel()
	for _, nc := range cs.all {
		if nc.IsConnected() {
			_ = nc.Drain(ctx) // closes it whatever the outcome
		} else {
			nc.Close()
		}
	}
}
