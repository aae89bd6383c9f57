//go:build !unix || solaris || aix

package store

import (
	"errors"
	"os"
)

var errWouldBlock = errors.New("would block")

// flock is not implemented here: directory locking is best effort on
// platforms without flock.
func flock(*os.File) error { return nil }
