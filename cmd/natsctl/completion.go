package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/natsctl/natsctl/internal/monitorapi"
)

// Shell completion: `natsctl completion bash|zsh|fish|powershell` is cobra's
// default command. Its scripts call `natsctl __complete ...` for every TAB,
// so commands and flags complete from the live tree; the functions here add
// the values cobra cannot know. They attach by walking the tree, so commands
// added later get them without registering anything themselves:
//
//   - a --context flag, and the NAME of `context select|show|rm`: context names;
//   - a --stream flag, and the first argument of a `stream` subcommand whose
//     Use names it (`info NAME`, `rm <stream>`; not add/create):
//     stream names asked from the server the command's connection flags
//     point at, when it answers within completeTimeout;
//   - top's --sort: the /connz sort keys top accepts.

// completeTimeout bounds a completion's round trip to a server: a TAB must
// not hang on an unreachable one.
const completeTimeout = 2 * time.Second

// addDynamicCompletions walks the tree under root and registers value
// completions where a command has none of its own.
func addDynamicCompletions(root *cobra.Command, d *deps) {
	walkCommands(root, func(cmd *cobra.Command) {
		registerFlagCompletion(cmd, "context", completeContextNames)
		registerFlagCompletion(cmd, "stream", streamNameCompleter(d))
		if cmd.Name() == "top" {
			registerFlagCompletion(cmd, "sort", completeTopSort)
		}
		if cmd.ValidArgsFunction != nil || len(cmd.ValidArgs) > 0 || !cmd.HasParent() {
			return
		}
		switch parent, arg := cmd.Parent().Name(), firstArgName(cmd.Use); {
		case parent == "context" && arg == "name" && cmd.Name() != "add":
			cmd.ValidArgsFunction = firstArgOnly(completeContextNames)
		case parent == "stream" && (arg == "name" || strings.Contains(arg, "stream")) && !isCreateVerb(cmd.Name()):
			cmd.ValidArgsFunction = firstArgOnly(streamNameCompleter(d))
		}
	})
}

func walkCommands(cmd *cobra.Command, f func(*cobra.Command)) {
	f(cmd)
	for _, c := range cmd.Commands() {
		walkCommands(c, f)
	}
}

// registerFlagCompletion sets fn for the flag name on cmd when cmd has that
// flag and no completion for it yet.
func registerFlagCompletion(cmd *cobra.Command, name string, fn cobra.CompletionFunc) {
	if cmd.Flags().Lookup(name) == nil {
		return
	}
	if _, ok := cmd.GetFlagCompletionFunc(name); ok {
		return
	}
	// Cannot fail: the flag exists and has no function yet.
	_ = cmd.RegisterFlagCompletionFunc(name, fn)
}

// firstArgName is the lower-cased placeholder of the first positional
// argument in a Use line: "select NAME" -> "name", "info <stream>" -> "stream".
func firstArgName(use string) string {
	f := strings.Fields(use)
	if len(f) < 2 {
		return ""
	}
	return strings.ToLower(strings.Trim(f[1], "<>[]."))
}

func isCreateVerb(name string) bool {
	return slices.Contains([]string{"add", "create", "new"}, name)
}

// firstArgOnly completes the first positional argument with fn, and nothing
// after it.
func firstArgOnly(fn cobra.CompletionFunc) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return fn(cmd, args, toComplete)
	}
}

// completeContextNames lists natsctl's and natscli's contexts, each with its
// URL as the description.
func completeContextNames(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	all, err := newContextStore().all()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, c := range all {
		if strings.HasPrefix(c.Name, toComplete) {
			out = append(out, cobra.CompletionWithDesc(c.Name, c.URL))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeTopSort lists the sort keys top accepts (not the closed-only ones),
// with the direction each sorts in.
func completeTopSort(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	for _, s := range monitorapi.SortOpts {
		if s.ClosedOnly() || !strings.HasPrefix(string(s), toComplete) {
			continue
		}
		dir := "ascending"
		if s.Descending() {
			dir = "descending"
		}
		out = append(out, cobra.CompletionWithDesc(string(s), dir))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// streamNameCompleter asks the server the command's connection flags point
// at for its stream names. No server, no names: completion stays quiet.
func streamNameCompleter(d *deps) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		ctx, cancel := context.WithTimeout(ctx, completeTimeout)
		defer cancel()
		names, err := fetchStreamNames(ctx, d, cmd)
		if err != nil {
			cobra.CompDebugln("stream names: "+err.Error(), false)
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, n := range names {
			if strings.HasPrefix(n, toComplete) {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// streamNamesRequest and streamNamesResponse are the JetStream API's
// STREAM.NAMES messages (ADR-1, JetStream JSON API), paged by offset.
type streamNamesRequest struct {
	Offset int `json:"offset"`
}

type streamNamesResponse struct {
	Total   int      `json:"total"`
	Offset  int      `json:"offset"`
	Limit   int      `json:"limit"`
	Streams []string `json:"streams"`
	Error   *struct {
		Code        int    `json:"code"`
		Description string `json:"description"`
	} `json:"error,omitempty"`
}

// fetchStreamNames connects with cmd's connection flags (flag, environment,
// context: as the command itself would) and pages through the stream names.
func fetchStreamNames(ctx context.Context, d *deps, cmd *cobra.Command) ([]string, error) {
	cf := connFlagsOf(cmd, d)
	o, err := cf.options()
	if err != nil {
		return nil, err
	}
	o.NoReconnect = true
	if o.Timeout <= 0 || o.Timeout > completeTimeout {
		o.Timeout = completeTimeout
	}
	nc, err := d.Connect(ctx, o)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	var names []string
	for {
		req, _ := json.Marshal(streamNamesRequest{Offset: len(names)})
		m, err := nc.Request(ctx, "$JS.API.STREAM.NAMES", req)
		if err != nil {
			return nil, err
		}
		var r streamNamesResponse
		if err := json.Unmarshal(m.Data, &r); err != nil {
			return nil, fmt.Errorf("decode STREAM.NAMES reply: %w", err)
		}
		if r.Error != nil {
			return nil, fmt.Errorf("STREAM.NAMES: %s (%d)", r.Error.Description, r.Error.Code)
		}
		names = append(names, r.Streams...)
		if len(r.Streams) == 0 || len(names) >= r.Total {
			return names, nil
		}
		if len(names) > 100_000 {
			return nil, errors.New("STREAM.NAMES: more than 100000 streams")
		}
	}
}

// connFlagsOf reads the connection flags that addConnFlags registered on cmd
// back into a connFlags, so a completion connects as the command would.
func connFlagsOf(cmd *cobra.Command, d *deps) *connFlags {
	cf := &connFlags{d: d, cmd: cmd, Timeout: defaultTimeout}
	f := cmd.Flags()
	for name, dst := range map[string]*string{
		"server": &cf.Servers, "user": &cf.User, "password": &cf.Password, "token": &cf.Token,
		"nkey": &cf.Nkey, "creds": &cf.Creds, "tlscert": &cf.TLSCert, "tlskey": &cf.TLSKey,
		"tlsca": &cf.TLSCA, "context": &cf.Context,
	} {
		if fl := f.Lookup(name); fl != nil && fl.Value.Type() == "string" {
			*dst = fl.Value.String()
		}
	}
	if t, err := f.GetDuration("timeout"); err == nil {
		cf.Timeout = t
	}
	return cf
}
