//go:build !windows

package main

import "syscall"

// The signals nats-server uses beyond the portable ones. Windows has none
// of them: see signals_windows.go.
const (
	sigLameDuck = syscall.SIGUSR2
	sigReopen   = syscall.SIGUSR1
)

// killPID sends sig to process pid (serve --signal).
func killPID(pid int, sig syscall.Signal) error { return syscall.Kill(pid, sig) }
