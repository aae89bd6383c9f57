// Package iostreams carries the standard streams a command reads and writes,
// so that commands never touch os.Stdin/os.Stdout directly and tests can hand
// them buffers.
package iostreams

import (
	"bytes"
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are the input and outputs of one command invocation.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// OutTTY is true when Out is a terminal: commands then print tables and
	// colour; otherwise plain text for pipes.
	OutTTY bool
	// InTTY is true when In is a terminal (no piped body to read).
	InTTY bool
}

// System returns the process's real streams.
func System() *IOStreams {
	return &IOStreams{
		In:     os.Stdin,
		Out:    os.Stdout,
		ErrOut: os.Stderr,
		OutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		InTTY:  term.IsTerminal(int(os.Stdin.Fd())),
	}
}

// Test returns streams backed by buffers: in is what the command reads, out and
// errOut collect what it writes. Neither side is a terminal.
func Test() (ios *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}
