package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/natsctl/natsctl/internal/iostreams"
	"github.com/natsctl/natsctl/internal/natsservertest"
	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
	"github.com/natsctl/natsctl/internal/streaming"
)

// bashCompletionScripts are where Debian's bash-completion package (and
// Homebrew's) put the library cobra's bash script builds on.
var bashCompletionScripts = []string{
	"/usr/share/bash-completion/bash_completion",
	"/etc/bash_completion",
	"/opt/homebrew/etc/profile.d/bash_completion.sh",
	"/usr/local/etc/profile.d/bash_completion.sh",
}

// minimalCompWords stands in for bash-completion's _get_comp_words_by_ref
// where the package is not installed, so the test still drives the
// committed script and the real binary. It splits words as bash does for
// simple command lines (no quotes, no = or : in words).
const minimalCompWords = `_get_comp_words_by_ref() {
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	words=("${COMP_WORDS[@]}")
	cword=$COMP_CWORD
}
`

// bashComplete sources completions/natsctl.bash in a non-interactive bash
// with the built natsctl first on PATH and returns what TAB offers for
// words (the last is the one being completed).
func bashComplete(t *testing.T, env []string, words ...string) []string {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	lib := ""
	for _, p := range bashCompletionScripts {
		if _, err := os.Stat(p); err == nil {
			lib = p
			break
		}
	}
	prelude := minimalCompWords
	if lib != "" {
		prelude = "source " + lib + "\n"
	} else {
		t.Log("bash-completion is not installed (Debian: apt-get install bash-completion); using a minimal stand-in")
	}
	script, err := filepath.Abs(filepath.Join(repoRoot, "completions", "natsctl.bash"))
	if err != nil {
		t.Fatal(err)
	}
	cur, prev := words[len(words)-1], words[len(words)-2]
	body := prelude + `source "$1"
shift
COMP_WORDS=("$@")
COMP_CWORD=$(( $# - 1 ))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
__start_natsctl natsctl "$CUR" "$PREV" 2>/dev/null
printf '%s\n' "${COMPREPLY[@]}"
`
	cmd := exec.Command(bash, append([]string{"--norc", "--noprofile", "-c", body, "bash", script}, words...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env,
		"PATH="+filepath.Dir(natsctlBin(t))+string(os.PathListSeparator)+os.Getenv("PATH"),
		"CUR="+cur, "PREV="+prev)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, stderr.String())
	}
	return strings.Fields(string(out))
}

// TestCompletion_BashPubAndSort: sourcing completions/natsctl.bash makes
// `natsctl pu<TAB>` complete to pub, and values come from the tree.
func TestCompletion_BashPubAndSort(t *testing.T) {
	if got := bashComplete(t, nil, "natsctl", "pu"); !reflect.DeepEqual(got, []string{"pub"}) {
		t.Fatalf("natsctl pu<TAB> offered %q, want [pub]", got)
	}
	if got := bashComplete(t, nil, "natsctl", "top", "--sort", "msgs_"); !reflect.DeepEqual(got, []string{"msgs_to", "msgs_from"}) {
		t.Fatalf("natsctl top --sort msgs_<TAB> offered %q", got)
	}
	if got := bashComplete(t, []string{"XDG_CONFIG_HOME=" + writeContexts(t)}, "natsctl", "sub", "--context", "pr"); !reflect.DeepEqual(got, []string{"prod"}) {
		t.Fatalf("natsctl sub --context pr<TAB> offered %q", got)
	}
}

// TestCompletion_BinaryPrintsCommittedScript: the built binary's
// `natsctl completion bash` is byte for byte completions/natsctl.bash.
func TestCompletion_BinaryPrintsCommittedScript(t *testing.T) {
	for _, s := range completionShells {
		out, err := exec.Command(natsctlBin(t), "completion", s.shell).Output()
		if err != nil {
			t.Fatalf("natsctl completion %s: %v", s.shell, err)
		}
		want, err := os.ReadFile(filepath.Join(repoRoot, "completions", s.file))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, want) {
			t.Errorf("natsctl completion %s differs from completions/%s: run `go generate ./...`", s.shell, s.file)
		}
	}
}

// writeContexts makes a config dir with natsctl contexts "local" and
// "prod" and a natscli context "legacy"; it returns the dir.
func writeContexts(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	s := &contextStore{
		file:    filepath.Join(dir, "natsctl", "contexts.yaml"),
		natscli: filepath.Join(dir, "nats", "context"),
	}
	if err := s.writeOwn(ownFile{Contexts: []natsContext{
		{Name: "local", URL: "nats://127.0.0.1:4222"},
		{Name: "prod", URL: "tls://nats.example.com:4222"},
	}}); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(s.natscli, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.natscli, "legacy.json"), []byte(`{"url":"nats://old:4222"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// complete runs `natsctl __complete args...` in-process on root and
// returns the offered values (descriptions dropped) and the directive line.
func complete(t *testing.T, root *cobra.Command, args ...string) (vals []string, directive string) {
	t.Helper()
	var out, errOut bytes.Buffer
	root.SetArgs(append([]string{cobra.ShellCompRequestCmd}, args...))
	root.SetOut(&out)
	root.SetErr(&errOut)
	if err := root.Execute(); err != nil {
		t.Fatalf("__complete %v: %v\n%s", args, err, errOut.String())
	}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if strings.HasPrefix(line, ":") {
			directive = line
			continue
		}
		v, _, _ := strings.Cut(line, "\t")
		vals = append(vals, v)
	}
	return vals, directive
}

func testRoot(t *testing.T) *cobra.Command {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	return newRootCmd(newDeps(ios))
}

func TestCompletion_ContextNames(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", writeContexts(t))
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"pub", "--context", ""}, []string{"legacy", "local", "prod"}},
		{[]string{"req", "--context", "l"}, []string{"legacy", "local"}},
		{[]string{"top", "--sort", "c"}, []string{"cid"}},
		{[]string{"context", "select", ""}, []string{"legacy", "local", "prod"}},
		{[]string{"context", "rm", "p"}, []string{"prod"}},
		{[]string{"context", "show", "prod", ""}, nil}, // one name only
	} {
		got, dir := complete(t, testRoot(t), tc.args...)
		if !reflect.DeepEqual(got, tc.want) || dir != ":4" {
			t.Errorf("%v: got %q %s, want %q :4 (no files)", tc.args, got, dir, tc.want)
		}
	}
	// A new name: no context names offered.
	if got, _ := complete(t, testRoot(t), "context", "add", ""); got != nil {
		t.Errorf("context add: offered %q", got)
	}
}

func TestCompletion_TopSortKeys(t *testing.T) {
	got, _ := complete(t, testRoot(t), "top", "--sort", "")
	want := []string{"cid", "start", "subs", "pending", "msgs_to", "msgs_from", "bytes_to", "bytes_from", "last", "idle", "uptime", "rtt"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q (closed-only keys excluded)", got, want)
	}
	// Every key offered is one top accepts.
	for _, k := range got {
		ios, _, _, _ := iostreams.Test()
		var sort string
		cmd := newTopCmd(&deps{IO: ios}, func(_ context.Context, o *topOptions) error { sort = o.Sort; return nil })
		cmd.SetArgs([]string{"--sort", k})
		if err := cmd.Execute(); err != nil || sort != k {
			t.Errorf("top --sort %s: %v", k, err)
		}
	}
}

// fakeViewCmd has a --stream flag and the connection flags: any such
// command completes stream names without registering anything.
func fakeViewCmd(d *deps) *cobra.Command {
	c := &cobra.Command{Use: "view", RunE: func(*cobra.Command, []string) error { return nil }}
	addConnFlags(c, d)
	c.Flags().String("stream", "", "stream to read")
	return c
}

// TestCompletion_StreamNamesFromServer: stream names come from the server
// the command's connection flags point at, natsctl's or nats-server's.
func TestCompletion_StreamNamesFromServer(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("NATS_URL", "")
	t.Setenv("NATS_CONTEXT", "")
	ours := servertest.Run(t, func(o *server.Options) { o.Engine = streaming.New(streaming.Config{StoreDir: t.TempDir()}) })
	targets := []struct {
		name, url string
		stop      func()
	}{{"natsctl", ours.ClientURL(), func() { _ = ours.Shutdown(context.Background()) }}}
	if !testing.Short() {
		ref := natsservertest.Start(t, "-js", "-sd", t.TempDir())
		targets = append(targets, struct {
			name, url string
			stop      func()
		}{"nats-server", ref.ClientURL, ref.Stop})
	}
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			url := target.url
			for _, name := range []string{"ORDERS", "OUTBOX", "EVENTS"} {
				if _, errOut, err := natsctlRun(t, "stream", "add", name, "--subjects", strings.ToLower(name)+".>", "-s", url); err != nil {
					t.Fatalf("stream add %s: %v %s", name, err, errOut)
				}
			}
			newRoot := func() *cobra.Command {
				ios, _, _, _ := iostreams.Test()
				d := newDeps(ios)
				root := newRootCmd(d)
				root.AddCommand(fakeViewCmd(d))
				addDynamicCompletions(root, d)
				return root
			}
			for _, tc := range []struct {
				args []string
				want []string
			}{
				{[]string{"stream", "info", "--server", url, ""}, []string{"EVENTS", "ORDERS", "OUTBOX"}},
				{[]string{"stream", "rm", "--server", url, "O"}, []string{"ORDERS", "OUTBOX"}},
				{[]string{"str", "purge", "--server", url, "E"}, []string{"EVENTS"}},
				{[]string{"stream", "rmm", "--server", url, "ORDERS", ""}, nil}, // SEQ: nothing to offer
				{[]string{"view", "--server", url, "--stream", "E"}, []string{"EVENTS"}},
			} {
				got, dir := complete(t, newRoot(), tc.args...)
				slices.Sort(got)
				if !reflect.DeepEqual(got, tc.want) || dir != ":4" {
					t.Errorf("%v: got %q %s, want %q :4", tc.args, got, dir, tc.want)
				}
			}
			if got, _ := complete(t, newRoot(), "stream", "add", "--server", url, ""); got != nil {
				t.Errorf("stream add: offered %q", got)
			}
			if _, dir := complete(t, newRoot(), "stream", "backup", "--server", url, "ORDERS", ""); dir != ":0" {
				t.Errorf("stream backup NAME FILE: FILE completes %s, want :0 (files)", dir)
			}

			// Buckets and consumers: created after the stream checks above,
			// since their streams (KV_config, OBJ_files) are streams too.
			for _, args := range [][]string{
				{"kv", "add", "config"}, {"kv", "add", "flags"}, {"object", "add", "files"},
				{"consumer", "add", "ORDERS", "workers"}, {"consumer", "add", "ORDERS", "audit"},
			} {
				if _, errOut, err := natsctlRun(t, append(args, "-s", url)...); err != nil {
					t.Fatalf("%v: %v %s", args, err, errOut)
				}
			}
			for _, tc := range []struct {
				args []string
				want []string
			}{
				{[]string{"kv", "get", "--server", url, ""}, []string{"config", "flags"}},
				{[]string{"kv", "get", "--server", url, "c"}, []string{"config"}},
				{[]string{"kv", "get", "--server", url, "config", ""}, nil},
				{[]string{"object", "info", "--server", url, ""}, []string{"files"}},
				{[]string{"consumer", "info", "--server", url, "ORD"}, []string{"ORDERS"}},
				{[]string{"consumer", "info", "--server", url, "ORDERS", ""}, []string{"audit", "workers"}},
				{[]string{"consumer", "add", "--server", url, "OR"}, []string{"ORDERS"}},
			} {
				got, _ := complete(t, newRoot(), tc.args...)
				slices.Sort(got)
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("%v: got %q, want %q", tc.args, got, tc.want)
				}
			}
			if got, _ := complete(t, newRoot(), "kv", "add", "--server", url, ""); got != nil {
				t.Errorf("kv add: offered %q", got)
			}

			// The server from NATS_URL, as the command itself would use.
			t.Setenv("NATS_URL", url)
			if got, _ := complete(t, newRoot(), "stream", "info", "EV"); !reflect.DeepEqual(got, []string{"EVENTS"}) {
				t.Errorf("with NATS_URL: got %q", got)
			}

			// No server: nothing offered, no error.
			target.stop()
			if got, dir := complete(t, newRoot(), "stream", "info", ""); got != nil || dir != ":4" {
				t.Errorf("server gone: got %q %s", got, dir)
			}
		})
	}
}

func TestArgNames(t *testing.T) {
	for use, want := range map[string][]string{
		"select NAME":            {"name"},
		"info <stream>":          {"stream"},
		"show [NAME]":            {"name"},
		"ls":                     nil,
		"stream":                 nil,
		"add STREAM NAME":        {"stream", "name"},
		"put BUCKET KEY [VALUE]": {"bucket", "key", "value"},
		"sub SUBJECT...":         {"subject"},
		"sign [file] --key SEED": {"file"},
		"x <a> <b> [-f]":         {"a", "b"},
	} {
		if got := argNames(use); !reflect.DeepEqual(got, want) {
			t.Errorf("%q: got %q, want %q", use, got, want)
		}
	}
}
