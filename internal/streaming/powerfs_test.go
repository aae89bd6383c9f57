package streaming

import (
	"math/rand/v2"

	"github.com/natsctl/natsctl/internal/streaming/store"
	"github.com/natsctl/natsctl/internal/streaming/store/faultfs"
)

// faultFS adapts faultfs.FS (an in-memory file system that can lose
// power) to this package's FS interface.
type faultFS struct{ *faultfs.FS }

func newFaultFS() *faultFS { return &faultFS{faultfs.New()} }

func (fs *faultFS) OpenFile(name string, flag int) (store.File, error) {
	f, err := fs.FS.OpenFile(name, flag)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// powerLoss returns the file system as found after a reboot.
func (fs *faultFS) powerLoss(r *rand.Rand, torn bool) *faultFS {
	return &faultFS{fs.FS.PowerLoss(r, torn)}
}
