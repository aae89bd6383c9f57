package jsclient

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/natsctl/natsctl/internal/client"
)

// Compare-and-set writes and reads of one revision (ADR-8), with
// nats.go's semantics: Create writes only where the key has no value (a
// deleted or purged key counts as none), Update only where the key is at
// the given revision; both use the stream's
// Nats-Expected-Last-Subject-Sequence check, so the server decides.

// ErrKeyExists is returned by Create for a key that has a value.
var ErrKeyExists = errors.New("key exists")

// ErrWrongRevision is returned by Update when the key is at another
// revision.
var ErrWrongRevision = errors.New("wrong revision")

const hdrExpectedLastSubjSeq = "Nats-Expected-Last-Subject-Sequence"

// Create stores value under key only if the key has no value, and returns
// the revision.
func (kv *KV) Create(ctx context.Context, key string, value []byte) (uint64, error) {
	rev, err := kv.putAt(ctx, key, value, 0)
	if !IsAPIError(err, ErrCodeWrongLastSeq) {
		return rev, err
	}
	last, lerr := kv.last(ctx, key)
	if lerr != nil {
		return 0, err
	}
	if last.Op != KVPut {
		// Deleted or purged: create over the marker, still guarded.
		return kv.putAt(ctx, key, value, last.Revision)
	}
	return 0, fmt.Errorf("%w: %s in bucket %s has a value (revision %d); change it with `natsctl kv update %s %s VALUE %d`",
		ErrKeyExists, key, kv.Bucket, last.Revision, kv.Bucket, key, last.Revision)
}

// Update stores value under key only if the key's newest revision is
// rev, and returns the new revision.
func (kv *KV) Update(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	n, err := kv.putAt(ctx, key, value, rev)
	if !IsAPIError(err, ErrCodeWrongLastSeq) {
		return n, err
	}
	last, lerr := kv.last(ctx, key)
	switch {
	case errors.Is(lerr, ErrKeyNotFound):
		return 0, fmt.Errorf("%w: %s in bucket %s has no revision (not %d); create it with `natsctl kv create`",
			ErrWrongRevision, key, kv.Bucket, rev)
	case lerr != nil:
		return 0, err
	}
	return 0, fmt.Errorf("%w: %s in bucket %s is at revision %d, not %d", ErrWrongRevision, key, kv.Bucket, last.Revision, rev)
}

// putAt publishes value with the server-side check that key's last
// revision is rev (0: the key has never been written or was purged away).
func (kv *KV) putAt(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	if err := CheckKey(key, false); err != nil {
		return 0, err
	}
	h := client.Header{}
	h.Set(hdrExpectedLastSubjSeq, strconv.FormatUint(rev, 10))
	a, err := kv.js.Publish(ctx, &client.Msg{Subject: kv.pre + key, Header: h, Data: value})
	if err != nil {
		return 0, err
	}
	return a.Sequence, nil
}

// GetRevision returns key's entry at revision rev; ErrKeyNotFound when
// that revision is gone (beyond the bucket's history), belongs to another
// key, or is a delete or purge.
func (kv *KV) GetRevision(ctx context.Context, key string, rev uint64) (*KVEntry, error) {
	if err := CheckKey(key, false); err != nil {
		return nil, err
	}
	m, err := kv.js.GetMsg(ctx, kv.stream, MsgGetRequest{Seq: rev})
	if IsAPIError(err, ErrCodeNoMessageFound) {
		return nil, fmt.Errorf("%w: revision %d of %s in bucket %s is not stored (the bucket keeps the newest revisions per key; see `natsctl kv history %s %s`)",
			ErrKeyNotFound, rev, key, kv.Bucket, kv.Bucket, key)
	}
	if err != nil {
		return nil, err
	}
	if m.Subject != kv.pre+key {
		return nil, fmt.Errorf("%w: revision %d in bucket %s is not of key %s", ErrKeyNotFound, rev, kv.Bucket, key)
	}
	e := kv.entry(m.Subject, m.Header, m.Data, m.Sequence, m.Time, 0)
	if e.Op != KVPut {
		return nil, fmt.Errorf("%w: revision %d of %s in bucket %s is a %s marker", ErrKeyNotFound, rev, key, kv.Bucket, e.Op)
	}
	return e, nil
}
