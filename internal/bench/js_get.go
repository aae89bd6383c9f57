package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/jsclient"
)

func init() {
	Register("js get", jsFactory(1, 0, jsGet{}))
}

// jsGet reads messages of an existing stream by sequence, at random or in
// order, with DIRECT.GET when the stream allows it and STREAM.MSG.GET
// otherwise, one request at a time per client (each a measured round trip).
type jsGet struct{}

func (jsGet) Run(ctx context.Context, e *Env) (*Result, error) {
	cs := &conns{ctx: ctx, e: e}
	defer cs.close()
	setup, err := cs.open("js setup")
	if err != nil {
		return nil, err
	}
	si, err := jsclient.New(setup).StreamInfo(ctx, e.JS.Stream)
	if jsclient.IsAPIError(err, jsclient.ErrCodeStreamNotFound) {
		return nil, fmt.Errorf("no stream %s: fill one first with `natsctl bench js pub --stream %s`", e.JS.Stream, e.JS.Stream)
	}
	if err != nil {
		return nil, err
	}
	first, last := si.State.FirstSeq, si.State.LastSeq
	if si.State.Msgs == 0 || last < first {
		return nil, fmt.Errorf("stream %s is empty: fill it first with `natsctl bench js pub --stream %s`", e.JS.Stream, e.JS.Stream)
	}
	span := last - first + 1
	direct := si.Config.AllowDirect
	res := &Result{}
	if !direct {
		res.Warnings = append(res.Warnings, "stream "+e.JS.Stream+" does not allow direct gets: measured STREAM.MSG.GET through the API")
	}
	var missing atomic.Int64
	counts := split(e.Msgs, e.Pubs)
	stats, hist, err := runClients(ctx, e, cs, "get", e.Pubs, func(i int, nc *client.Conn, st *ClientStats, lat *Latency) error {
		js := jsclient.New(nc)
		seq := first + uint64(i)*span/uint64(e.Pubs) // sequential readers start spread out
		for k := 0; k < counts[i] && ctx.Err() == nil; k++ {
			if e.JS.Sequential {
				seq = first + (seq-first+1)%span
			} else {
				seq = first + rand.Uint64N(span)
			}
			t0 := time.Now()
			var n int
			var err error
			if direct {
				n, err = directGetSeq(ctx, nc, e.JS.Stream, seq)
			} else {
				var m *jsclient.StoredMsg
				if m, err = js.GetMsg(ctx, e.JS.Stream, jsclient.MsgGetRequest{Seq: seq}); err == nil {
					n = len(m.Data) + headerLen(m.Header)
				}
			}
			lat.Record(time.Since(t0))
			switch {
			case errors.Is(err, jsclient.ErrMsgNotFound) || jsclient.IsAPIError(err, jsclient.ErrCodeNoMessageFound):
				missing.Add(1) // deleted or expired: still a round trip
			case err != nil:
				return err
			}
			st.Msgs++
			st.Bytes += int64(n)
			e.sent.Add(1)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if n := missing.Load(); n > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d gets found no message (deleted sequences): counted as round trips", n))
	}
	return finish(res, "get", stats, hist), nil
}

// directGetSeq reads one message by sequence with DIRECT.GET (ADR-31) and
// returns its payload and header size.
func directGetSeq(ctx context.Context, nc *client.Conn, stream string, seq uint64) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, jsclient.DefaultTimeout)
	defer cancel()
	r, err := nc.Request(ctx, "$JS.API.DIRECT.GET."+stream, []byte(`{"seq":`+strconv.FormatUint(seq, 10)+`}`))
	if err != nil {
		if errors.Is(err, client.ErrNoResponders) {
			return 0, jsclient.ErrNoJetStream
		}
		return 0, fmt.Errorf("direct get %d: %w", seq, err)
	}
	switch st := r.Status(); st {
	case "":
	case "404":
		return 0, jsclient.ErrMsgNotFound
	default:
		return 0, fmt.Errorf("direct get %d: status %s %s", seq, st, r.Header.Get(client.DescriptionHeader))
	}
	return len(r.Data) + headerLen(r.Header), nil
}
