// Package faultfs is an in-memory file system for tests of the stores: it
// keeps, for every file, what was written and what was fsynced, and can
// "lose power", keeping only what a machine would find after a reboot.
// Both the store's and the streaming engine's power-loss tests use it.
package faultfs

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// FS is an in-memory FS that keeps, for every file, what was written
// and what was fsynced, and for the directory, which names were synced. A
// PowerLoss keeps only the synced state (optionally plus a random prefix
// of each file's unsynced appended bytes: a torn write), as a machine does
// when it loses power. Handles from before the loss fail from then on.
type FS struct {
	mu      sync.Mutex
	names   map[string]*fnode // the namespace now
	durable map[string]*fnode // the namespace as of the last SyncDir
	dead    bool
}

type fnode struct {
	data, synced []byte
}

// ErrPowerLost is returned by handles opened before a PowerLoss.
var ErrPowerLost = errors.New("faultfs: power lost")

// New returns an empty file system.
func New() *FS {
	return &FS{names: map[string]*fnode{}, durable: map[string]*fnode{}}
}

// PowerLoss kills fs and returns the file system as found after a reboot.
func (fs *FS) PowerLoss(r *rand.Rand, torn bool) *FS {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.dead = true
	next := New()
	for name, n := range fs.durable {
		data := append([]byte(nil), n.synced...)
		if extra := len(n.data) - len(n.synced); torn && extra > 0 && bytes.HasPrefix(n.data, n.synced) {
			data = append(data, n.data[len(n.synced):len(n.synced)+r.IntN(extra+1)]...)
		}
		nn := &fnode{data: data, synced: append([]byte(nil), data...)}
		next.names[name], next.durable[name] = nn, nn
	}
	return next
}

func (fs *FS) MkdirAll(string) error { return nil }

func (fs *FS) ReadDir(dir string) ([]string, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.dead {
		return nil, ErrPowerLost
	}
	var out []string
	for name := range fs.names {
		if filepath.Dir(name) == filepath.Clean(dir) {
			out = append(out, filepath.Base(name))
		}
	}
	sort.Strings(out)
	return out, nil
}

func (fs *FS) OpenFile(name string, flag int) (*File, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.dead {
		return nil, ErrPowerLost
	}
	n, ok := fs.names[name]
	switch {
	case ok && flag&os.O_EXCL != 0:
		return nil, os.ErrExist
	case !ok && flag&os.O_CREATE == 0:
		return nil, os.ErrNotExist
	case !ok:
		n = &fnode{}
		fs.names[name] = n
	}
	return &File{fs: fs, n: n}, nil
}

func (fs *FS) Remove(name string) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.dead {
		return ErrPowerLost
	}
	if _, ok := fs.names[name]; !ok {
		return os.ErrNotExist
	}
	delete(fs.names, name)
	return nil
}

func (fs *FS) Rename(oldname, newname string) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.dead {
		return ErrPowerLost
	}
	n, ok := fs.names[oldname]
	if !ok {
		return os.ErrNotExist
	}
	fs.names[newname] = n
	delete(fs.names, oldname)
	return nil
}

func (fs *FS) SyncDir(dir string) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.dead {
		return ErrPowerLost
	}
	for name := range fs.durable {
		if filepath.Dir(name) == filepath.Clean(dir) {
			delete(fs.durable, name)
		}
	}
	for name, n := range fs.names {
		if filepath.Dir(name) == filepath.Clean(dir) {
			fs.durable[name] = n
		}
	}
	return nil
}

// File is an open file of an FS.
type File struct {
	fs *FS
	n  *fnode
}

func (f *File) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.fs.dead {
		return 0, ErrPowerLost
	}
	if len(p) == 0 {
		return 0, nil
	}
	if off >= int64(len(f.n.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.n.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *File) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.fs.dead {
		return 0, ErrPowerLost
	}
	if end := off + int64(len(p)); end > int64(len(f.n.data)) {
		f.n.data = append(f.n.data, make([]byte, end-int64(len(f.n.data)))...)
	}
	copy(f.n.data[off:], p)
	return len(p), nil
}

func (f *File) Truncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.fs.dead {
		return ErrPowerLost
	}
	if size <= int64(len(f.n.data)) {
		f.n.data = f.n.data[:size:size]
	} else {
		f.n.data = append(f.n.data, make([]byte, size-int64(len(f.n.data)))...)
	}
	return nil
}

func (f *File) Sync() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.fs.dead {
		return ErrPowerLost
	}
	f.n.synced = append(f.n.synced[:0:0], f.n.data...)
	return nil
}

func (f *File) Size() (int64, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.fs.dead {
		return 0, ErrPowerLost
	}
	return int64(len(f.n.data)), nil
}

func (f *File) Close() error { return nil }

// List names the current files, for test messages.
func (fs *FS) List() string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var out []string
	for n := range fs.names {
		out = append(out, filepath.Base(n))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// AllSynced reports whether every file's data and every name are durable.
func (fs *FS) AllSynced() bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, n := range fs.names {
		if !bytes.Equal(n.data, n.synced) {
			return false
		}
	}
	return len(fs.durable) == len(fs.names)
}

// Put creates (or replaces) name with data, not yet synced.
func (fs *FS) Put(name string, data []byte) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.names[name] = &fnode{data: bytes.Clone(data)}
}
