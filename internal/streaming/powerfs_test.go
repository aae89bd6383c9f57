package streaming

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/natsctl/natsctl/internal/streaming/store"
)

// faultFS (a copy of the store package's test FS) is an in-memory FS that keeps, for every file, what was written
// and what was fsynced, and for the directory, which names were synced. A
// powerLoss keeps only the synced state (optionally plus a random prefix
// of each file's unsynced appended bytes: a torn write), as a machine does
// when it loses power. Handles from before the loss fail from then on.
type faultFS struct {
	mu      sync.Mutex
	names   map[string]*fnode // the namespace now
	durable map[string]*fnode // the namespace as of the last SyncDir
	dead    bool
}

type fnode struct {
	data, synced []byte
}

var errPowerLost = errors.New("faultfs: power lost")

func newFaultFS() *faultFS {
	return &faultFS{names: map[string]*fnode{}, durable: map[string]*fnode{}}
}

// powerLoss kills fs and returns the file system as found after a reboot.
func (fs *faultFS) powerLoss(r *rand.Rand, torn bool) *faultFS {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.dead = true
	next := newFaultFS()
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

func (fs *faultFS) MkdirAll(string) error { return nil }

func (fs *faultFS) ReadDir(dir string) ([]string, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.dead {
		return nil, errPowerLost
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

func (fs *faultFS) OpenFile(name string, flag int) (store.File, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.dead {
		return nil, errPowerLost
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
	return &ffile{fs: fs, n: n}, nil
}

func (fs *faultFS) Remove(name string) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.dead {
		return errPowerLost
	}
	if _, ok := fs.names[name]; !ok {
		return os.ErrNotExist
	}
	delete(fs.names, name)
	return nil
}

func (fs *faultFS) Rename(oldname, newname string) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.dead {
		return errPowerLost
	}
	n, ok := fs.names[oldname]
	if !ok {
		return os.ErrNotExist
	}
	fs.names[newname] = n
	delete(fs.names, oldname)
	return nil
}

func (fs *faultFS) SyncDir(dir string) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.dead {
		return errPowerLost
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

type ffile struct {
	fs *faultFS
	n  *fnode
}

func (f *ffile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.fs.dead {
		return 0, errPowerLost
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

func (f *ffile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.fs.dead {
		return 0, errPowerLost
	}
	if end := off + int64(len(p)); end > int64(len(f.n.data)) {
		f.n.data = append(f.n.data, make([]byte, end-int64(len(f.n.data)))...)
	}
	copy(f.n.data[off:], p)
	return len(p), nil
}

func (f *ffile) Truncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.fs.dead {
		return errPowerLost
	}
	if size <= int64(len(f.n.data)) {
		f.n.data = f.n.data[:size:size]
	} else {
		f.n.data = append(f.n.data, make([]byte, size-int64(len(f.n.data)))...)
	}
	return nil
}

func (f *ffile) Sync() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.fs.dead {
		return errPowerLost
	}
	f.n.synced = append(f.n.synced[:0:0], f.n.data...)
	return nil
}

func (f *ffile) Size() (int64, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.fs.dead {
		return 0, errPowerLost
	}
	return int64(len(f.n.data)), nil
}

func (f *ffile) Close() error { return nil }
