package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LockFileName is the lock file LockDir creates in the directory.
const LockFileName = "LOCK"

// ErrLocked is returned (wrapped) by LockDir when another process, or
// another LockDir in this one, holds the directory.
var ErrLocked = errors.New("store directory is in use")

// DirLock is a held directory lock; Unlock releases it.
type DirLock struct {
	f *os.File
}

// LockDir takes an exclusive lock on dir (created when missing), so that
// two servers never use the same store directory. The lock is an flock on
// dir/LOCK, released by Unlock or by the process exiting, however it
// exits: there is no stale lock to clean up after kill -9. The file holds
// the holder's pid, which the error for a second locker names.
func LockDir(dir string) (*DirLock, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	path := filepath.Join(dir, LockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if err := flock(f); err != nil {
		holder := ""
		if b, rerr := os.ReadFile(path); rerr == nil {
			if pid := strings.TrimSpace(string(b)); pid != "" {
				holder = " by process " + pid
			}
		}
		_ = f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, fmt.Errorf("%w: %s is locked%s; stop the other server or choose another directory: %w",
				ErrLocked, dir, holder, err)
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	// Record who holds it (best effort: the flock is what counts).
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &DirLock{f: f}, nil
}

// Unlock releases the lock.
func (l *DirLock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the descriptor releases the flock
	l.f = nil
	return err
}
