//go:build !unix

package server

import (
	"runtime"
	"time"
)

func processCPUTime() time.Duration { return 0 }

// residentMemory falls back to what the Go runtime obtained from the OS.
func residentMemory() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.Sys)
}
