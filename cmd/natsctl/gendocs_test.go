package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/natsctl/natsctl/internal/iostreams"
)

// repoRoot is where the committed generated files live, seen from this
// package's directory (go test runs in it).
const repoRoot = "../.."

// TestGenerated_UpToDate fails when a committed generated file differs from
// what the current command tree produces.
func TestGenerated_UpToDate(t *testing.T) {
	ctx := context.Background()
	for _, s := range completionShells {
		want, err := completionScript(ctx, s.shell)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) < 1000 || !bytes.Contains(want, []byte("natsctl")) {
			t.Fatalf("natsctl completion %s printed %d bytes: %.200q", s.shell, len(want), want)
		}
		checkCommitted(t, filepath.Join("completions", s.file), want)
	}
	checkCommitted(t, filepath.Join("docs", "configuration.md"), renderConfigDoc())
}

func checkCommitted(t *testing.T, rel string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(filepath.Join(repoRoot, rel))
	if err != nil {
		t.Errorf("%s: %v: run `go generate ./...` and commit it", rel, err)
		return
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what the command tree generates: run `go generate ./...` and commit it", rel)
	}
}

// TestGendocs_WritesEverything runs the hidden generator command the way
// `go generate` does, into a temporary tree.
func TestGendocs_WritesEverything(t *testing.T) {
	dir := t.TempDir()
	comp, man, conf := filepath.Join(dir, "completions"), filepath.Join(dir, "man"), filepath.Join(dir, "docs", "configuration.md")
	// A stale page of a command that no longer exists must go.
	if err := os.MkdirAll(man, 0o755); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(man, "natsctl-gone.1")
	if err := os.WriteFile(stale, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runArgs(t, "__gendocs", "--completions", comp, "--man", man, "--config-doc", conf, "--date", "2026-01-02")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, s := range completionShells {
		want, err := completionScript(context.Background(), s.shell)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := os.ReadFile(filepath.Join(comp, s.file)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: not what `natsctl completion %s` prints (err %v)", s.file, s.shell, err)
		}
	}
	if got, err := os.ReadFile(conf); err != nil || !bytes.Equal(got, renderConfigDoc()) {
		t.Errorf("configuration.md: not the rendered doc (err %v)", err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale man page kept: %v", err)
	}

	// One page per command users can run, and nothing else.
	var want []string
	walkCommands(docRoot(), func(c *cobra.Command) {
		if c.IsAvailableCommand() || !c.HasParent() {
			want = append(want, strings.ReplaceAll(c.CommandPath(), " ", "-")+".1")
		}
	})
	pages, _ := filepath.Glob(filepath.Join(man, "*.1"))
	var got []string
	for _, p := range pages {
		got = append(got, filepath.Base(p))
	}
	slices.Sort(want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("man pages %v, want %v", got, want)
	}
	for _, must := range []string{"natsctl.1", "natsctl-pub.1", "natsctl-completion-bash.1", "natsctl-serve.1"} {
		if !slices.Contains(got, must) {
			t.Errorf("no man page %s", must)
		}
	}
	page, err := os.ReadFile(filepath.Join(man, "natsctl-serve.1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, must := range []string{`.TH "NATSCTL" "1" "Jan 2026"`, `\fB--max_payload\fP=1MB`, "EXAMPLE"} {
		if !bytes.Contains(page, []byte(must)) {
			t.Errorf("natsctl-serve.1 lacks %q", must)
		}
	}
	if slices.Contains(got, "natsctl-__gendocs.1") {
		t.Error("the hidden generator got a man page")
	}
}

func TestGendocs_Errors(t *testing.T) {
	if code, _, errOut := runArgs(t, "__gendocs"); code == 0 || !strings.Contains(errOut, "nothing to do") {
		t.Errorf("no flags: exit %d, %q", code, errOut)
	}
	if code, _, errOut := runArgs(t, "__gendocs", "--man", t.TempDir(), "--date", "yesterday"); code == 0 || !strings.Contains(errOut, "YYYY-MM-DD") {
		t.Errorf("bad date: exit %d, %q", code, errOut)
	}
}

// docRow is one row of the server options table in docs/configuration.md.
type docRow struct {
	keys  []string // config key and aliases
	flags []string // long and short flag
	env   string
	def   string
}

var backticked = regexp.MustCompile("`([^`]*)`")

func ticks(cell string) []string {
	var out []string
	for _, m := range backticked.FindAllStringSubmatch(cell, -1) {
		out = append(out, m[1])
	}
	return out
}

// readDocTables parses the committed docs/configuration.md: the server
// options and the command-line-only flags.
func readDocTables(t *testing.T) (rows []docRow, cliFlags []string, doc string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc = string(b)
	section := ""
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "## ") {
			section = line
			continue
		}
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(line, " | ")
		switch section {
		case "## Server options":
			envs := ticks(cells[2])
			if len(envs) != 1 {
				t.Fatalf("row without one environment variable: %s", line)
			}
			def := ""
			if d := ticks(cells[4]); len(d) == 1 {
				def = d[0]
			}
			rows = append(rows, docRow{keys: ticks(cells[0]), flags: ticks(cells[1]), env: envs[0], def: def})
		case "## Command-line only":
			cliFlags = append(cliFlags, ticks(cells[0])...)
		}
	}
	if len(rows) == 0 {
		t.Fatal("no server options table in docs/configuration.md")
	}
	return rows, cliFlags, doc
}

// TestConfigDoc_MatchesAcceptedOptions checks the committed reference
// against what the code accepts: every flag of `natsctl serve` is listed,
// every listed config key and environment variable is read by
// loadServeConfig, and every default is the flag's default.
func TestConfigDoc_MatchesAcceptedOptions(t *testing.T) {
	rows, cliFlags, doc := readDocTables(t)
	fs := serveFlagSet()

	documented := map[string]bool{}
	for _, f := range cliFlags {
		documented[f] = true
	}
	for _, r := range rows {
		for _, f := range r.flags {
			documented[f] = true
		}
	}
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		if !documented["--"+f.Name] {
			t.Errorf("serve flag --%s is not in docs/configuration.md", f.Name)
		}
		if f.Shorthand != "" && !documented["-"+f.Shorthand] {
			t.Errorf("serve flag -%s (--%s) is not in docs/configuration.md", f.Shorthand, f.Name)
		}
	})
	for f := range documented {
		name := strings.TrimLeft(f, "-")
		if (strings.HasPrefix(f, "--") && fs.Lookup(name) == nil) || (!strings.HasPrefix(f, "--") && fs.ShorthandLookup(name) == nil) {
			t.Errorf("docs/configuration.md lists %s, which `natsctl serve` does not accept", f)
		}
	}

	// Every key, alias and environment variable in the doc is read by
	// loadServeConfig: an unread one leaves the result as it was, so one of
	// two values given through it must change it (an error counts: checks
	// that span options, such as routes needing a listener, may refuse both).
	base, err := parseServe(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	changes := func(env map[string]string, args ...string) (bool, error) {
		got, err := parseServe(t, env, args...)
		return err != nil || !reflect.DeepEqual(got, base), err
	}
	seenKeys := map[string]bool{}
	for _, r := range rows {
		if len(r.flags) > 0 {
			if fl := fs.Lookup(strings.TrimPrefix(r.flags[0], "--")); fl != nil && fl.DefValue != r.def && !(r.def == "" && fl.DefValue == "") {
				t.Errorf("%s: doc default %q, flag default %q", r.keys[0], r.def, fl.DefValue)
			}
		}
		read := false
		for _, v := range []string{"!bad", "doc-test"} {
			if ok, _ := changes(map[string]string{r.env: v}); ok {
				read = true
			}
		}
		if !read {
			t.Errorf("%s is not read by natsctl serve", r.env)
		}
		for _, k := range r.keys {
			seenKeys[k] = true
			read := false
			for _, v := range []string{`"!bad"`, `"doc-test"`} {
				// A dotted key is written as its block: {"tls": {"cert_file": v}}.
				body := v
				parts := strings.Split(k, ".")
				for i := len(parts) - 1; i >= 0; i-- {
					body = `{"` + parts[i] + `": ` + body + `}`
				}
				ok, err := changes(nil, "-c", writeFile(t, "c.json", body))
				unknown := err != nil && strings.Contains(err.Error(), fmt.Sprintf("%q is not supported", k))
				read = read || ok && !unknown
			}
			if !read {
				t.Errorf("config key %q is not read by natsctl serve", k)
			}
		}
	}
	for _, s := range serveSpecs {
		for _, k := range append([]string{s.key}, s.aliases...) {
			if !seenKeys[k] {
				t.Errorf("config key %q is accepted but not in docs/configuration.md", k)
			}
		}
	}

	// The example config file in the doc is valid and means the defaults.
	conf := exampleBlock(t, doc, 0)
	cfg, err := parseServe(t, nil, "-c", writeFile(t, "natsctl.conf", conf))
	if err != nil {
		t.Fatalf("example config: %v\n%s", err, conf)
	}
	if !sameSettings(cfg, base) {
		t.Errorf("example config is not the defaults:\n%+v\n%+v", cfg, base)
	}
	env := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(exampleBlock(t, doc, 1)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		env[k] = v
	}
	if cfg, err = parseServe(t, env); err != nil || !sameSettings(cfg, base) {
		t.Errorf("example environment is not the defaults: %v\n%+v", err, cfg)
	}
}

// sameSettings compares two configs' settings, leaving out the record of
// which options were given explicitly (the examples give them all).
func sameSettings(a, b *serveConfig) bool {
	x, y := *a, *b
	x.cluster.explicit, y.cluster.explicit = nil, nil
	return reflect.DeepEqual(x, y)
}

// exampleBlock returns the n-th fenced block of doc.
func exampleBlock(t *testing.T, doc string, n int) string {
	t.Helper()
	parts := strings.Split(doc, "```\n")
	if len(parts) < 2*n+2 {
		t.Fatalf("docs/configuration.md has no example block %d", n)
	}
	return parts[2*n+1]
}

func TestParseDocDate(t *testing.T) {
	for in, want := range map[string]string{
		"2026-03-04":                "2026-03-04",
		"2026-03-04T23:30:00-02:00": "2026-03-05",
	} {
		got, err := parseDocDate(in)
		if err != nil || got.Format(time.DateOnly) != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
}

// runArgs runs one natsctl command line in-process.
func runArgs(t *testing.T, args ...string) (code int, out, errOut string) {
	t.Helper()
	ios, _, o, e := iostreams.Test()
	code = run(context.Background(), args, ios)
	return code, o.String(), e.String()
}
