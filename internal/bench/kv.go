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
	Register("kv put", jsFactory(1, 0, kvBench{put: true}))
	Register("kv get", jsFactory(1, 0, kvBench{}))
}

// kvBench puts or gets values of Keys distinct keys (k0, k1, ...) in a
// bucket, each a measured round trip. put creates the bucket unless it
// exists (Replace recreates it) and cycles through the keys; get reads
// keys at random (in order with Sequential) from a filled bucket.
type kvBench struct{ put bool }

func kvKey(i int) string { return "k" + strconv.Itoa(i) }

func (k kvBench) Run(ctx context.Context, e *Env) (*Result, error) {
	cs := &conns{ctx: ctx, e: e}
	defer cs.close()
	setup, err := cs.open("kv setup")
	if err != nil {
		return nil, err
	}
	if err := k.setup(ctx, jsclient.New(setup), e); err != nil {
		return nil, err
	}
	role := "get"
	if k.put {
		role = "put"
	}
	var missing atomic.Int64
	counts := split(e.Msgs, e.Pubs)
	hdr := e.Header
	stats, hist, err := runClients(ctx, e, cs, role, e.Pubs, func(i int, nc *client.Conn, st *ClientStats, lat *Latency) error {
		kv, err := jsclient.New(nc).BindKV(ctx, e.JS.Bucket)
		if err != nil {
			return err
		}
		value := newPayload(e.Size, e.Payload)
		key := i * e.JS.Keys / e.Pubs // clients start spread over the keys
		for n := 0; n < counts[i] && ctx.Err() == nil; n++ {
			if k.put || e.JS.Sequential {
				key = (key + 1) % e.JS.Keys
			} else {
				key = rand.IntN(e.JS.Keys)
			}
			t0 := time.Now()
			var size int
			if k.put {
				_, err = kv.Put(ctx, kvKey(key), value)
				size = len(value)
			} else {
				var ent *jsclient.KVEntry
				if ent, err = kv.Get(ctx, kvKey(key)); err == nil {
					size = len(ent.Value)
				}
			}
			lat.Record(time.Since(t0))
			switch {
			case errors.Is(err, jsclient.ErrKeyNotFound):
				missing.Add(1)
			case err != nil:
				return err
			}
			st.Msgs++
			st.Bytes += int64(size)
			e.sent.Add(1)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res := &Result{}
	if hdr != nil {
		res.Warnings = append(res.Warnings, "kv modes send no headers: --header ignored")
	}
	if n := missing.Load(); n > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d gets found no value (fill all --keys first with `natsctl bench kv put --msgs %d`): counted as round trips", n, e.JS.Keys))
	}
	return finish(res, role, stats, hist), nil
}

// setup makes sure the bucket exists: put creates it (recreates with
// Replace); get wants it filled.
func (k kvBench) setup(ctx context.Context, js *jsclient.JS, e *Env) error {
	b := e.JS.Bucket
	if !k.put {
		kv, err := js.BindKV(ctx, b)
		if err != nil {
			return fmt.Errorf("%w (fill it with `natsctl bench kv put --bucket %s --keys %d`)", err, b, e.JS.Keys)
		}
		si, err := kv.Status(ctx)
		if err != nil {
			return err
		}
		if si.State.Msgs == 0 {
			return fmt.Errorf("bucket %s is empty: fill it with `natsctl bench kv put --bucket %s --keys %d --msgs %d`", b, b, e.JS.Keys, e.JS.Keys)
		}
		return nil
	}
	_, err := js.BindKV(ctx, b)
	switch {
	case err == nil && !e.JS.Replace:
		return nil
	case err == nil:
		if err := js.DeleteKV(ctx, b); err != nil {
			return fmt.Errorf("--replace: delete bucket %s: %w", b, err)
		}
	case !errors.Is(err, jsclient.ErrBucketNotFound):
		return err
	}
	if _, err := js.CreateKV(ctx, jsclient.KVConfig{Bucket: b, Storage: e.JS.storage()}); err != nil {
		return fmt.Errorf("create bucket %s: %w", b, err)
	}
	return nil
}
