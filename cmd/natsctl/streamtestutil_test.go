package main

import (
	"context"
	"os/exec"
	"testing"
	"time"
)

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// runBinary runs the built natsctl to completion (20 s at most).
func runBinary(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, natsctlBin(t), args...).CombinedOutput()
	return string(out), err
}
