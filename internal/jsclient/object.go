package jsclient

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/streaming"
)

// Object stores are streams too (ADR-20): bucket B is stream OBJ_B; an
// object's chunks go to $O.B.C.<nuid> (a new nuid per put) and its meta,
// JSON ObjectInfo, to $O.B.M.<base64url(name)> with Nats-Rollup: sub so
// only the newest meta per name is kept. The digest is
// "SHA-256=" + base64url(sha256(content)).

const (
	objStreamPrefix  = "OBJ_"
	objDefaultChunk  = 128 * 1024
	objDigestPrefix  = "SHA-256="
	objMaxChunkBytes = 1 << 20
)

// ErrObjectNotFound is returned for a missing or deleted object.
var ErrObjectNotFound = errors.New("object not found")

// ObjectConfig configures a new object store.
type ObjectConfig struct {
	Bucket      string
	Description string
	TTL         time.Duration
	MaxBytes    int64
	Storage     streaming.Storage
	Replicas    int
}

// ObjectLink points at another object or bucket.
type ObjectLink struct {
	Bucket string `json:"bucket"`
	Name   string `json:"name,omitempty"`
}

// ObjectMetaOptions are an object's "options".
type ObjectMetaOptions struct {
	Link      *ObjectLink `json:"link,omitempty"`
	ChunkSize uint32      `json:"max_chunk_size,omitempty"`
}

// ObjectMeta is what the writer of an object says about it.
type ObjectMeta struct {
	Name        string             `json:"name"`
	Description string             `json:"description,omitempty"`
	Headers     client.Header      `json:"headers,omitempty"`
	Metadata    map[string]string  `json:"metadata,omitempty"`
	Opts        *ObjectMetaOptions `json:"options,omitempty"`
}

// ObjectInfo is the meta message of an object (nats.go ObjectInfo's JSON).
type ObjectInfo struct {
	ObjectMeta
	Bucket  string    `json:"bucket"`
	NUID    string    `json:"nuid"`
	Size    uint64    `json:"size"`
	ModTime time.Time `json:"mtime"`
	Chunks  uint32    `json:"chunks"`
	Digest  string    `json:"digest,omitempty"`
	Deleted bool      `json:"deleted,omitempty"`
}

// ObjectStore is a bound object store.
type ObjectStore struct {
	js     *JS
	Bucket string
	stream string
}

// CreateObjectStore creates a bucket, as nats.go's CreateObjectStore does.
func (js *JS) CreateObjectStore(ctx context.Context, c ObjectConfig) (*ObjectStore, error) {
	if err := CheckBucket(c.Bucket); err != nil {
		return nil, err
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = -1
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	cfg := StreamConfig{
		Name:              objStreamPrefix + c.Bucket,
		Description:       c.Description,
		Subjects:          []string{"$O." + c.Bucket + ".C.>", "$O." + c.Bucket + ".M.>"},
		MaxAge:            c.TTL,
		MaxBytes:          c.MaxBytes,
		MaxMsgs:           -1,
		MaxMsgsPerSubject: -1,
		MaxMsgSize:        -1,
		MaxConsumers:      -1,
		Storage:           c.Storage,
		Replicas:          c.Replicas,
		Discard:           streaming.DiscardNew,
		AllowRollup:       true,
		AllowDirect:       true,
		Compression:       "none",
	}
	if _, _, err := js.CreateStream(ctx, cfg.Name, cfg); err != nil {
		return nil, err
	}
	return &ObjectStore{js: js, Bucket: c.Bucket, stream: cfg.Name}, nil
}

// BindObjectStore binds an existing bucket.
func (js *JS) BindObjectStore(ctx context.Context, bucket string) (*ObjectStore, error) {
	if err := CheckBucket(bucket); err != nil {
		return nil, err
	}
	if _, err := js.StreamInfo(ctx, objStreamPrefix+bucket); err != nil {
		if IsAPIError(err, ErrCodeStreamNotFound) {
			return nil, fmt.Errorf("%w: %s (create it with `natsctl object add %s`)", ErrBucketNotFound, bucket, bucket)
		}
		return nil, err
	}
	return &ObjectStore{js: js, Bucket: bucket, stream: objStreamPrefix + bucket}, nil
}

// DeleteObjectStore removes a bucket and its objects.
func (js *JS) DeleteObjectStore(ctx context.Context, bucket string) error {
	if err := CheckBucket(bucket); err != nil {
		return err
	}
	err := js.DeleteStream(ctx, objStreamPrefix+bucket)
	if IsAPIError(err, ErrCodeStreamNotFound) {
		return fmt.Errorf("%w: %s", ErrBucketNotFound, bucket)
	}
	return err
}

// ObjectBuckets lists object store names.
func (js *JS) ObjectBuckets(ctx context.Context) ([]string, error) {
	names, err := js.StreamNames(ctx, "$O.*.C.>")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		if b, ok := strings.CutPrefix(n, objStreamPrefix); ok {
			out = append(out, b)
		}
	}
	return out, nil
}

// Status is the bucket's stream info.
func (ob *ObjectStore) Status(ctx context.Context) (*StreamInfo, error) {
	return ob.js.StreamInfo(ctx, ob.stream)
}

func (ob *ObjectStore) metaSubject(name string) string {
	return "$O." + ob.Bucket + ".M." + base64.URLEncoding.EncodeToString([]byte(name))
}

func (ob *ObjectStore) chunkSubject(nuid string) string {
	return "$O." + ob.Bucket + ".C." + nuid
}

// Digest formats a content hash as ObjectInfo.Digest.
func Digest(h hash.Hash) string {
	return objDigestPrefix + base64.URLEncoding.EncodeToString(h.Sum(nil))
}

// newNUID is a 22-character random id for chunk subjects.
func newNUID() string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var b [22]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}

// Put stores r's content as meta.Name, replacing an earlier object of that
// name (whose chunks are then purged).
func (ob *ObjectStore) Put(ctx context.Context, meta ObjectMeta, r io.Reader) (*ObjectInfo, error) {
	if meta.Name == "" {
		return nil, errors.New("an object needs a name")
	}
	if meta.Opts == nil {
		meta.Opts = &ObjectMetaOptions{}
	}
	if meta.Opts.Link != nil {
		return nil, errors.New("a link cannot have content")
	}
	if meta.Opts.ChunkSize == 0 {
		meta.Opts.ChunkSize = objDefaultChunk
	}
	limit := int64(objMaxChunkBytes)
	if mp := ob.js.nc.ServerInfo().MaxPayload; mp > 0 {
		limit = min(limit, mp)
	}
	if int64(meta.Opts.ChunkSize) > limit {
		return nil, fmt.Errorf("chunk size %d: at most %d (the server's max_payload)", meta.Opts.ChunkSize, limit)
	}
	old, err := ob.GetInfo(ctx, meta.Name, true)
	if err != nil && !errors.Is(err, ErrObjectNotFound) {
		return nil, err
	}
	info := &ObjectInfo{ObjectMeta: meta, Bucket: ob.Bucket, NUID: newNUID()}
	subj := ob.chunkSubject(info.NUID)
	purge := func() {
		pctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
		defer cancel()
		_, _ = ob.js.PurgeStream(pctx, ob.stream, &PurgeRequest{Filter: subj})
	}
	h, buf := sha256.New(), make([]byte, meta.Opts.ChunkSize)
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			h.Write(buf[:n])
			if _, err := ob.js.Publish(ctx, &client.Msg{Subject: subj, Data: buf[:n]}); err != nil {
				purge()
				return nil, err
			}
			info.Chunks++
			info.Size += uint64(n)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			purge()
			return nil, rerr
		}
	}
	info.Digest = Digest(h)
	if err := ob.publishMeta(ctx, info); err != nil {
		purge()
		return nil, err
	}
	if old != nil && old.NUID != "" && old.NUID != info.NUID {
		_, _ = ob.js.PurgeStream(ctx, ob.stream, &PurgeRequest{Filter: ob.chunkSubject(old.NUID)})
	}
	return info, nil
}

func (ob *ObjectStore) publishMeta(ctx context.Context, info *ObjectInfo) error {
	saved := info.ModTime
	info.ModTime = time.Time{} // the message time is the modification time
	b, err := json.Marshal(info)
	info.ModTime = saved
	if err != nil {
		return err
	}
	h := client.Header{}
	h.Set("Nats-Rollup", "sub")
	a, err := ob.js.Publish(ctx, &client.Msg{Subject: ob.metaSubject(info.Name), Header: h, Data: b})
	if err == nil && a != nil {
		info.ModTime = time.Now().UTC()
	}
	return err
}

// GetInfo returns an object's meta; a deleted object is ErrObjectNotFound
// unless showDeleted.
func (ob *ObjectStore) GetInfo(ctx context.Context, name string, showDeleted bool) (*ObjectInfo, error) {
	m, err := ob.js.GetMsg(ctx, ob.stream, MsgGetRequest{LastBySubj: ob.metaSubject(name)})
	if IsAPIError(err, ErrCodeNoMessageFound) {
		return nil, fmt.Errorf("%w: %s in bucket %s", ErrObjectNotFound, name, ob.Bucket)
	}
	if err != nil {
		return nil, err
	}
	info, err := decodeInfo(m.Data, m.Time)
	if err != nil {
		return nil, err
	}
	if info.Deleted && !showDeleted {
		return nil, fmt.Errorf("%w: %s in bucket %s (deleted)", ErrObjectNotFound, name, ob.Bucket)
	}
	return info, nil
}

func decodeInfo(b []byte, t time.Time) (*ObjectInfo, error) {
	var info ObjectInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, fmt.Errorf("bad object meta: %w", err)
	}
	info.ModTime = t
	return &info, nil
}

// Get writes an object's content to w, checking its size and digest, and
// returns its meta. A link to another object is followed once.
func (ob *ObjectStore) Get(ctx context.Context, name string, w io.Writer) (*ObjectInfo, error) {
	info, err := ob.GetInfo(ctx, name, false)
	if err != nil {
		return nil, err
	}
	if l := info.linkTo(); l != nil {
		if l.Name == "" {
			return nil, fmt.Errorf("%s is a link to bucket %s, not to an object", name, l.Bucket)
		}
		target, err := ob.js.BindObjectStore(ctx, l.Bucket)
		if err != nil {
			return nil, err
		}
		tinfo, err := target.GetInfo(ctx, l.Name, false)
		if err != nil {
			return nil, err
		}
		if tinfo.linkTo() != nil {
			return nil, fmt.Errorf("%s links to a link", name)
		}
		return tinfo, target.readChunks(ctx, tinfo, w)
	}
	return info, ob.readChunks(ctx, info, w)
}

func (info *ObjectInfo) linkTo() *ObjectLink {
	if info.Opts == nil {
		return nil
	}
	return info.Opts.Link
}

func (ob *ObjectStore) readChunks(ctx context.Context, info *ObjectInfo, w io.Writer) error {
	if info.Chunks == 0 {
		if info.Size != 0 {
			return fmt.Errorf("object %s: meta says %d bytes in no chunks", info.Name, info.Size)
		}
		return nil
	}
	h := sha256.New()
	var size uint64
	var chunks uint32
	err := ob.js.Replay(ctx, ob.stream, ReplayOptions{Filters: []string{ob.chunkSubject(info.NUID)}}, func(m *Msg) error {
		h.Write(m.Data)
		size += uint64(len(m.Data))
		if _, err := w.Write(m.Data); err != nil {
			return err
		}
		if chunks++; chunks == info.Chunks {
			return ErrStop
		}
		return nil
	})
	if err != nil {
		return err
	}
	switch {
	case chunks != info.Chunks || size != info.Size:
		return fmt.Errorf("object %s is incomplete: %d of %d chunks, %d of %d bytes", info.Name, chunks, info.Chunks, size, info.Size)
	case Digest(h) != info.Digest:
		return fmt.Errorf("object %s is corrupt: digest %s, meta says %s", info.Name, Digest(h), info.Digest)
	}
	return nil
}

// Delete marks an object deleted and purges its chunks.
func (ob *ObjectStore) Delete(ctx context.Context, name string) error {
	info, err := ob.GetInfo(ctx, name, false)
	if err != nil {
		return err
	}
	nuid := info.NUID
	info.Deleted, info.Size, info.Chunks, info.Digest = true, 0, 0, ""
	if err := ob.publishMeta(ctx, info); err != nil {
		return err
	}
	if nuid == "" {
		return nil
	}
	_, err = ob.js.PurgeStream(ctx, ob.stream, &PurgeRequest{Filter: ob.chunkSubject(nuid)})
	return err
}

// Watch calls f with each object's current meta and (with follow) every
// later change, deletions included (Deleted set).
func (ob *ObjectStore) Watch(ctx context.Context, updatesOnly, follow bool, f func(*ObjectInfo) error) error {
	ro := ReplayOptions{Filters: []string{"$O." + ob.Bucket + ".M.>"}, Deliver: DeliverLastPerSubject, Follow: follow}
	if updatesOnly {
		ro.Deliver = DeliverNew
	}
	return ob.js.Replay(ctx, ob.stream, ro, func(m *Msg) error {
		info, err := decodeInfo(m.Data, m.Meta.Time)
		if err != nil {
			return err
		}
		return f(info)
	})
}

// List returns the objects that are not deleted.
func (ob *ObjectStore) List(ctx context.Context) ([]*ObjectInfo, error) {
	var out []*ObjectInfo
	err := ob.Watch(ctx, false, false, func(info *ObjectInfo) error {
		if !info.Deleted {
			out = append(out, info)
		}
		return nil
	})
	return out, err
}
