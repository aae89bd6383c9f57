package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/natsctl/natsctl/internal/iostreams"
)

// Everything under completions/, man/ and docs/configuration.md is generated
// from the command tree, never edited by hand (TestGenerated_UpToDate checks
// the committed files):
//
//go:generate go run . __gendocs --completions ../../completions --man ../../man --config-doc ../../docs/configuration.md

// completionShells maps each shell to the file its script is committed as.
var completionShells = []struct{ shell, file string }{
	{"bash", "natsctl.bash"},
	{"zsh", "natsctl.zsh"},
	{"fish", "natsctl.fish"},
	{"powershell", "natsctl.ps1"},
}

type gendocsOptions struct {
	completions, man, configDoc string
	date                        string // man pages' date, RFC 3339 or YYYY-MM-DD
}

// newGendocsCmd is the hidden generator behind `go generate ./...` and the
// release's man pages. It lives in the binary because the tree it documents
// does.
func newGendocsCmd(d *deps) *cobra.Command {
	var o gendocsOptions
	cmd := &cobra.Command{
		Use:    "__gendocs",
		Short:  "Write shell completions, man pages and docs/configuration.md",
		Hidden: true,
		Args:   cobra.NoArgs,
		Example: `  go generate ./...
  natsctl __gendocs --man man --date 2026-01-02`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGendocs(cmd.Context(), d, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.completions, "completions", "", "write the shell completion scripts into this directory")
	f.StringVar(&o.man, "man", "", "write the man pages into this directory")
	f.StringVar(&o.configDoc, "config-doc", "", "write the configuration reference (markdown) to this file")
	f.StringVar(&o.date, "date", "", "date in the man pages (default: SOURCE_DATE_EPOCH, else today)")
	return cmd
}

func runGendocs(ctx context.Context, d *deps, o gendocsOptions) error {
	if o.completions == "" && o.man == "" && o.configDoc == "" {
		return fmt.Errorf("nothing to do: give --completions, --man or --config-doc")
	}
	if o.completions != "" {
		if err := writeCompletions(ctx, o.completions); err != nil {
			return err
		}
		fmt.Fprintln(d.IO.ErrOut, "wrote completions to", o.completions)
	}
	if o.man != "" {
		var date *time.Time
		if o.date != "" {
			t, err := parseDocDate(o.date)
			if err != nil {
				return err
			}
			date = &t
		}
		if err := writeManPages(o.man, date); err != nil {
			return err
		}
		fmt.Fprintln(d.IO.ErrOut, "wrote man pages to", o.man)
	}
	if o.configDoc != "" {
		if err := writeFileIfChanged(o.configDoc, renderConfigDoc()); err != nil {
			return err
		}
		fmt.Fprintln(d.IO.ErrOut, "wrote", o.configDoc)
	}
	return nil
}

func parseDocDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("--date %q: want YYYY-MM-DD or RFC 3339", s)
}

// completionScript is exactly what `natsctl completion <shell>` prints: it
// runs that command line through the same entry point as main.
func completionScript(ctx context.Context, shell string) ([]byte, error) {
	ios, _, out, errOut := iostreams.Test()
	if code := run(ctx, []string{"completion", shell}, ios); code != 0 {
		return nil, fmt.Errorf("natsctl completion %s: exit %d: %s", shell, code, errOut)
	}
	return out.Bytes(), nil
}

func writeCompletions(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, s := range completionShells {
		b, err := completionScript(ctx, s.shell)
		if err != nil {
			return err
		}
		if err := writeFileIfChanged(filepath.Join(dir, s.file), b); err != nil {
			return err
		}
	}
	return nil
}

// docRoot is the command tree as users see it, including cobra's completion
// command (which cobra otherwise adds only when executing).
func docRoot() *cobra.Command {
	ios, _, _, _ := iostreams.Test()
	root := newRootCmd(newDeps(ios))
	root.InitDefaultCompletionCmd()
	root.DisableAutoGenTag = true
	return root
}

// writeManPages writes one page per command (natsctl.1, natsctl-pub.1, ...),
// replacing the pages of commands that no longer exist. A nil date means
// SOURCE_DATE_EPOCH, else now (cobra's rule).
func writeManPages(dir string, date *time.Time) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(dir, "natsctl*.1"))
	for _, p := range old {
		if err := os.Remove(p); err != nil {
			return err
		}
	}
	v, _, _ := buildVersion()
	header := &doc.GenManHeader{
		Title:   "NATSCTL",
		Section: "1",
		Source:  "natsctl " + v,
		Manual:  "natsctl manual",
		Date:    date,
	}
	return doc.GenManTree(docRoot(), header, dir)
}

// writeFileIfChanged leaves an identical file untouched, so `go generate`
// does not bump modification times for nothing.
func writeFileIfChanged(path string, b []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// mdEscape keeps text inside one markdown table cell.
func mdEscape(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}
