package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Stamped by the release build through -ldflags "-X main.version=...".
var (
	version = ""
	commit  = ""
	date    = ""
)

// buildVersion returns version, commit and date, falling back to the module
// build info that `go install` records when no ldflags were given.
func buildVersion() (v, c, d string) {
	v, c, d = version, commit, date
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && c == "":
				c = s.Value
			case s.Key == "vcs.time" && d == "":
				d = s.Value
			}
		}
	}
	if v == "" {
		v = "dev"
	}
	if c == "" {
		c = "none"
	}
	if d == "" {
		d = "unknown"
	}
	return v, c, d
}

func versionString() string {
	v, c, d := buildVersion()
	return fmt.Sprintf("natsctl %s (commit %s, built %s, %s)", v, c, d, runtime.Version())
}

func newVersionCmd(d *deps) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print natsctl's version, commit, build date and Go version",
		Example: "  natsctl version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintln(d.IO.Out, versionString())
			return err
		},
	}
}
