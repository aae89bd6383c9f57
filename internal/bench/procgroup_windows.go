//go:build windows

package bench

import (
	"os"
	"os/exec"
)

// ownProcessGroup does nothing on Windows, which has no process groups to
// signal; terminateGroup stops the process itself.
func ownProcessGroup(*exec.Cmd) {}

// terminateGroup kills process pid: Windows cannot ask it to stop politely.
func terminateGroup(pid int, _ bool) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}
