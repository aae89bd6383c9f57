package jsclient

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/streaming"
)

// Key-value buckets are streams (ADR-8): bucket B is stream KV_B storing
// $KV.B.>, one subject per key, history = max_msgs_per_subject. Deletes and
// purges are markers carrying the KV-Operation header.

const (
	kvStreamPrefix = "KV_"
	kvOpHeader     = "KV-Operation"
	kvMaxHistory   = 64
)

// KVOp is what an entry records.
type KVOp string

const (
	KVPut   KVOp = "PUT"
	KVDel   KVOp = "DEL"
	KVPurge KVOp = "PURGE"
)

var (
	validBucket = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)
	validKey    = regexp.MustCompile(`^[-/_=.a-zA-Z0-9]+$`)
)

// ErrKeyNotFound is returned by Get for a missing or deleted key.
var ErrKeyNotFound = errors.New("key not found")

// ErrBucketNotFound is returned when a bucket's stream does not exist.
var ErrBucketNotFound = errors.New("bucket not found")

// CheckBucket validates a bucket name (ADR-8).
func CheckBucket(b string) error {
	if !validBucket.MatchString(b) {
		return fmt.Errorf("bad bucket name %q: use letters, digits, - and _", b)
	}
	return nil
}

// CheckKey validates a key; wildcards are allowed for watch filters.
func CheckKey(k string, wildcards bool) error {
	ok := validKey.MatchString(k) && !strings.HasPrefix(k, ".") && !strings.HasSuffix(k, ".")
	if !ok && wildcards {
		ok = k == ">" || validKey.MatchString(strings.NewReplacer("*", "a", ">", "a").Replace(k))
	}
	if !ok {
		return fmt.Errorf("bad key %q: use letters, digits and -/_=. (not at either end)", k)
	}
	return nil
}

// KVConfig configures a new bucket.
type KVConfig struct {
	Bucket       string
	Description  string
	History      int64
	TTL          time.Duration
	MaxBytes     int64
	MaxValueSize int32
	Storage      streaming.Storage
	Replicas     int
}

// KV is a bound bucket.
type KV struct {
	js     *JS
	Bucket string
	stream string
	pre    string // "$KV.<bucket>."
	direct bool
}

// KVEntry is one revision of a key.
type KVEntry struct {
	Bucket   string    `json:"bucket"`
	Key      string    `json:"key"`
	Value    []byte    `json:"value"`
	Revision uint64    `json:"revision"`
	Created  time.Time `json:"created"`
	Delta    uint64    `json:"delta,omitempty"`
	Op       KVOp      `json:"operation"`
}

// CreateKV creates a bucket (or returns the existing one when its config
// is the same), as nats.go's CreateKeyValue does.
func (js *JS) CreateKV(ctx context.Context, c KVConfig) (*KV, error) {
	if err := CheckBucket(c.Bucket); err != nil {
		return nil, err
	}
	if c.History == 0 {
		c.History = 1
	}
	if c.History < 1 || c.History > kvMaxHistory {
		return nil, fmt.Errorf("history %d: must be 1 to %d", c.History, kvMaxHistory)
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = -1
	}
	if c.MaxValueSize == 0 {
		c.MaxValueSize = -1
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	dupe := 2 * time.Minute
	if c.TTL > 0 && c.TTL < dupe {
		dupe = c.TTL
	}
	cfg := StreamConfig{
		Name:              kvStreamPrefix + c.Bucket,
		Description:       c.Description,
		Subjects:          []string{"$KV." + c.Bucket + ".>"},
		MaxMsgsPerSubject: c.History,
		MaxBytes:          c.MaxBytes,
		MaxAge:            c.TTL,
		MaxMsgSize:        c.MaxValueSize,
		Storage:           c.Storage,
		Replicas:          c.Replicas,
		AllowRollup:       true,
		DenyDelete:        true,
		Duplicates:        dupe,
		MaxMsgs:           -1,
		MaxConsumers:      -1,
		AllowDirect:       true,
		Discard:           streaming.DiscardNew,
		Compression:       "none",
	}
	if _, _, err := js.CreateStream(ctx, cfg.Name, cfg); err != nil {
		return nil, err
	}
	return &KV{js: js, Bucket: c.Bucket, stream: cfg.Name, pre: "$KV." + c.Bucket + ".", direct: true}, nil
}

// BindKV binds an existing bucket.
func (js *JS) BindKV(ctx context.Context, bucket string) (*KV, error) {
	if err := CheckBucket(bucket); err != nil {
		return nil, err
	}
	si, err := js.StreamInfo(ctx, kvStreamPrefix+bucket)
	if err != nil {
		if IsAPIError(err, ErrCodeStreamNotFound) {
			return nil, fmt.Errorf("%w: %s (create it with `natsctl kv add %s`)", ErrBucketNotFound, bucket, bucket)
		}
		return nil, err
	}
	return &KV{js: js, Bucket: bucket, stream: si.Config.Name, pre: "$KV." + bucket + ".", direct: si.Config.AllowDirect}, nil
}

// DeleteKV removes a bucket and all its keys.
func (js *JS) DeleteKV(ctx context.Context, bucket string) error {
	if err := CheckBucket(bucket); err != nil {
		return err
	}
	err := js.DeleteStream(ctx, kvStreamPrefix+bucket)
	if IsAPIError(err, ErrCodeStreamNotFound) {
		return fmt.Errorf("%w: %s", ErrBucketNotFound, bucket)
	}
	return err
}

// KVBuckets lists bucket names.
func (js *JS) KVBuckets(ctx context.Context) ([]string, error) {
	names, err := js.StreamNames(ctx, "$KV.*.>")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		if b, ok := strings.CutPrefix(n, kvStreamPrefix); ok {
			out = append(out, b)
		}
	}
	return out, nil
}

// Status is the bucket's stream info.
func (kv *KV) Status(ctx context.Context) (*StreamInfo, error) {
	return kv.js.StreamInfo(ctx, kv.stream)
}

// Put stores value under key and returns the revision.
func (kv *KV) Put(ctx context.Context, key string, value []byte) (uint64, error) {
	if err := CheckKey(key, false); err != nil {
		return 0, err
	}
	a, err := kv.js.Publish(ctx, &client.Msg{Subject: kv.pre + key, Data: value})
	if err != nil {
		return 0, err
	}
	return a.Sequence, nil
}

// Get returns the newest entry of key; ErrKeyNotFound when it is missing
// or deleted.
func (kv *KV) Get(ctx context.Context, key string) (*KVEntry, error) {
	e, err := kv.last(ctx, key)
	if err != nil {
		return nil, err
	}
	if e.Op != KVPut {
		return nil, fmt.Errorf("%w: %s in bucket %s (deleted at revision %d)", ErrKeyNotFound, key, kv.Bucket, e.Revision)
	}
	return e, nil
}

// last returns the newest entry of key, a delete or purge marker too;
// ErrKeyNotFound when the key has none.
func (kv *KV) last(ctx context.Context, key string) (*KVEntry, error) {
	if err := CheckKey(key, false); err != nil {
		return nil, err
	}
	var m *StoredMsg
	var err error
	if kv.direct {
		m, err = kv.js.DirectGetLast(ctx, kv.stream, kv.pre+key)
	} else {
		m, err = kv.js.GetMsg(ctx, kv.stream, MsgGetRequest{LastBySubj: kv.pre + key})
	}
	if IsAPIError(err, ErrCodeNoMessageFound) {
		return nil, fmt.Errorf("%w: %s in bucket %s", ErrKeyNotFound, key, kv.Bucket)
	}
	if err != nil {
		return nil, err
	}
	return kv.entry(m.Subject, m.Header, m.Data, m.Sequence, m.Time, 0), nil
}

// entryOp reads an entry's operation from its headers: KV-Operation, or a
// server marker (Nats-Marker-Reason, ADR-48).
func entryOp(h client.Header) KVOp {
	switch h.Get(kvOpHeader) {
	case "DEL":
		return KVDel
	case "PURGE":
		return KVPurge
	}
	switch h.Get("Nats-Marker-Reason") {
	case "MaxAge", "Purge":
		return KVPurge
	case "Remove":
		return KVDel
	}
	return KVPut
}

func (kv *KV) entry(subj string, h client.Header, data []byte, seq uint64, t time.Time, delta uint64) *KVEntry {
	return &KVEntry{Bucket: kv.Bucket, Key: strings.TrimPrefix(subj, kv.pre), Value: data, Revision: seq, Created: t, Delta: delta, Op: entryOp(h)}
}

// Delete places a delete marker on key (history is kept).
func (kv *KV) Delete(ctx context.Context, key string) (uint64, error) {
	return kv.marker(ctx, key, KVDel)
}

// Purge places a purge marker that rolls up (removes) key's history.
func (kv *KV) Purge(ctx context.Context, key string) (uint64, error) {
	return kv.marker(ctx, key, KVPurge)
}

func (kv *KV) marker(ctx context.Context, key string, op KVOp) (uint64, error) {
	if err := CheckKey(key, false); err != nil {
		return 0, err
	}
	h := client.Header{}
	h.Set(kvOpHeader, string(op))
	if op == KVPurge {
		h.Set("Nats-Rollup", "sub")
	}
	a, err := kv.js.Publish(ctx, &client.Msg{Subject: kv.pre + key, Header: h})
	if err != nil {
		return 0, err
	}
	return a.Sequence, nil
}

// History calls f with every stored revision of key (a pattern with * or >
// is allowed), oldest first.
func (kv *KV) History(ctx context.Context, key string, f func(*KVEntry) error) error {
	if err := CheckKey(key, true); err != nil {
		return err
	}
	return kv.js.Replay(ctx, kv.stream, ReplayOptions{Filters: []string{kv.pre + key}}, kv.wrap(f))
}

// WatchOptions shape Watch.
type WatchOptions struct {
	UpdatesOnly    bool // skip current values
	IncludeHistory bool // start from the oldest revision instead of the newest per key
	Follow         bool // keep watching; otherwise stop once current values are seen
	HeadersOnly    bool
}

// Watch calls f with the newest entry of each key matching pattern ("" or
// ">" for all), then with every change until ctx ends (or, without
// Follow, once the current values are delivered).
func (kv *KV) Watch(ctx context.Context, pattern string, o WatchOptions, f func(*KVEntry) error) error {
	if pattern == "" {
		pattern = ">"
	}
	if err := CheckKey(pattern, true); err != nil {
		return err
	}
	ro := ReplayOptions{Filters: []string{kv.pre + pattern}, Deliver: DeliverLastPerSubject, Follow: o.Follow, HeadersOnly: o.HeadersOnly}
	switch {
	case o.UpdatesOnly:
		ro.Deliver = DeliverNew
	case o.IncludeHistory:
		ro.Deliver = DeliverAll
	}
	return kv.js.Replay(ctx, kv.stream, ro, kv.wrap(f))
}

// Keys returns the keys that hold a value (not deleted), sorted by the
// stream order of their newest revision.
func (kv *KV) Keys(ctx context.Context) ([]string, error) {
	var keys []string
	err := kv.Watch(ctx, ">", WatchOptions{HeadersOnly: true}, func(e *KVEntry) error {
		if e.Op == KVPut {
			keys = append(keys, e.Key)
		}
		return nil
	})
	return keys, err
}

func (kv *KV) wrap(f func(*KVEntry) error) func(*Msg) error {
	return func(m *Msg) error {
		return f(kv.entry(m.Subject, m.Header, m.Data, m.Meta.StreamSeq, m.Meta.Time, m.Meta.Pending))
	}
}
