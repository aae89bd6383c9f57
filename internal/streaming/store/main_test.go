package store

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
)

// The test binary doubles as a helper process for the crash and lock
// tests: with helperEnv set it runs that helper instead of the tests.
const (
	helperEnv    = "NATSCTL_STORE_HELPER"
	helperDirEnv = "NATSCTL_STORE_HELPER_DIR"
)

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "lock":
		if _, err := LockDir(os.Getenv(helperDirEnv)); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		os.Exit(0)
	case "crash":
		crashHelper(os.Getenv(helperDirEnv))
	default:
		os.Exit(2)
	}
}

// crashHelper appends messages from several goroutines until killed,
// printing "ack <seq> <subject> <hex payload>" for each acknowledged one.
func crashHelper(dir string) {
	s, err := OpenFile(FileConfig{Config: Config{Name: "CRASH"}, Dir: dir, SegmentSize: 64 << 10})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(w)))
			buf := make([]byte, 0, 512)
			for {
				data := buf[:r.IntN(300)]
				for i := range data {
					data[i] = byte(r.Uint32())
				}
				subj := "crash." + strconv.Itoa(w)
				seq, err := s.StoreMsg(subj, nil, data, 0)
				if err != nil {
					fmt.Println("store:", err)
					os.Exit(1)
				}
				line := fmt.Sprintf("ack %d %s %s\n", seq, subj, hex.EncodeToString(data))
				mu.Lock()
				_, _ = os.Stdout.WriteString(line)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}
