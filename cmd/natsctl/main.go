// Command natsctl runs a NATS-compatible server and the tools around it:
// pub/sub/req/reply for scripts, bench, stream management and a live top view.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/natsctl/natsctl/internal/iostreams"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], iostreams.System()))
}

// run executes one command line and returns the process exit code. Errors are
// printed once, here.
func run(ctx context.Context, args []string, ios *iostreams.IOStreams) int {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd(newDeps(ios))
	root.SetArgs(args)
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(ios.ErrOut, "natsctl:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(ios.ErrOut, "natsctl:", err)
	return 1
}

// exitError carries a specific exit code out of a command. A nil err exits
// silently with code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }
