//go:build windows

package main

import (
	"errors"
	"os"
	"syscall"
)

// Windows has no SIGUSR1/SIGUSR2. These values keep serve's signal table
// and handler the same on every platform; nothing on Windows delivers them.
const (
	sigLameDuck = syscall.Signal(0x1f)
	sigReopen   = syscall.Signal(0x1e)
)

// killPID can only stop a process on Windows: there is no way to deliver
// the other signals to it.
func killPID(pid int, sig syscall.Signal) error {
	if sig != syscall.SIGKILL {
		return errors.New("only --signal stop is supported on Windows")
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
