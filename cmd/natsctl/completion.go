package main

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/natsctl/natsctl/internal/jsclient"
	"github.com/natsctl/natsctl/internal/monitorapi"
)

// Shell completion: `natsctl completion bash|zsh|fish|powershell` is cobra's
// default command. Its scripts call `natsctl __complete ...` for every TAB,
// so commands and flags complete from the live tree; the functions here add
// the values cobra cannot know. They attach by walking the tree and reading
// each command's Use line, so commands added later get them without
// registering anything themselves:
//
//   - a --context flag, and the NAME of `context select|show|rm`: context names;
//   - a --stream flag, a STREAM argument, and the NAME of a `stream`
//     subcommand (`stream info NAME`; not add): stream names;
//   - the BUCKET of `kv` and `object` subcommands (not add): bucket names;
//   - the NAME after a STREAM of `consumer` subcommands (not add): that
//     stream's consumers;
//   - top's --sort: the /connz sort keys top accepts.
//
// Names of streams, buckets and consumers come from the server the
// command's connection flags point at, when it answers within
// completeTimeout. Other arguments of those commands complete file names
// only where the placeholder says FILE.

// completeTimeout bounds a completion's round trip to a server: a TAB must
// not hang on an unreachable one.
const completeTimeout = 2 * time.Second

// addDynamicCompletions walks the tree under root and registers value
// completions where a command has none of its own.
func addDynamicCompletions(root *cobra.Command, d *deps) {
	walkCommands(root, func(cmd *cobra.Command) {
		registerFlagCompletion(cmd, "context", completeContextNames)
		registerFlagCompletion(cmd, "stream", jsCompleter(d, listStreams))
		if cmd.Name() == "top" {
			registerFlagCompletion(cmd, "sort", completeTopSort)
		}
		if cmd.ValidArgsFunction == nil && len(cmd.ValidArgs) == 0 && cmd.HasParent() {
			cmd.ValidArgsFunction = positionalCompleter(d, cmd)
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

// argNames are the lower-cased placeholders of the positional arguments in
// a Use line, up to the first flag: "info STREAM [NAME]" -> [stream name].
func argNames(use string) []string {
	var out []string
	for _, f := range strings.Fields(use)[1:] {
		if strings.HasPrefix(f, "-") || strings.HasPrefix(f, "[-") {
			break
		}
		out = append(out, strings.ToLower(strings.Trim(f, "<>[].")))
	}
	return out
}

func isCreateVerb(name string) bool {
	return slices.Contains([]string{"add", "create", "new"}, name)
}

// argCompleter is the completion of the argument at position pos of a
// command named verb under parent, whose placeholders are names; nil when
// nothing better than cobra's default is known.
func argCompleter(d *deps, parent, verb string, names []string, pos int) cobra.CompletionFunc {
	if isCreateVerb(verb) && !(parent == "consumer" && names[pos] == "stream") {
		return nil // a new name: nothing existing to offer
	}
	switch name := names[pos]; {
	case parent == "context" && name == "name":
		return completeContextNames
	case name == "stream", parent == "stream" && pos == 0 && name == "name":
		return jsCompleter(d, listStreams)
	case parent == "kv" && name == "bucket":
		return jsCompleter(d, listKVBuckets)
	case parent == "object" && name == "bucket":
		return jsCompleter(d, listObjectBuckets)
	case parent == "consumer" && name == "name" && pos == 1 && names[0] == "stream":
		return jsCompleter(d, listConsumers)
	}
	return nil
}

// positionalCompleter completes cmd's arguments by position; nil when no
// position has a rule.
func positionalCompleter(d *deps, cmd *cobra.Command) cobra.CompletionFunc {
	names := argNames(cmd.Use)
	comps := make([]cobra.CompletionFunc, len(names))
	found := false
	for i := range names {
		comps[i] = argCompleter(d, cmd.Parent().Name(), cmd.Name(), names, i)
		found = found || comps[i] != nil
	}
	if !found {
		return nil
	}
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) >= len(comps) {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		if comps[len(args)] == nil {
			if strings.Contains(names[len(args)], "file") {
				return nil, cobra.ShellCompDirectiveDefault // FILE: file names
			}
			return nil, cobra.ShellCompDirectiveNoFileComp // SEQ, KEY, ...
		}
		return comps[len(args)](cmd, args, toComplete)
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

// A lister names what the server holds: streams, buckets, consumers. args
// are the command's arguments before the one being completed.
type lister func(ctx context.Context, js *jsclient.JS, args []string) ([]string, error)

func listStreams(ctx context.Context, js *jsclient.JS, _ []string) ([]string, error) {
	return js.StreamNames(ctx, "")
}

func listKVBuckets(ctx context.Context, js *jsclient.JS, _ []string) ([]string, error) {
	return js.KVBuckets(ctx)
}

func listObjectBuckets(ctx context.Context, js *jsclient.JS, _ []string) ([]string, error) {
	return js.ObjectBuckets(ctx)
}

func listConsumers(ctx context.Context, js *jsclient.JS, args []string) ([]string, error) {
	cs, err := js.Consumers(ctx, args[0])
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(cs))
	for _, c := range cs {
		names = append(names, c.Name)
	}
	return names, nil
}

// jsCompleter asks the server the command's connection flags point at
// (flag, environment, context: as the command itself would) through list.
// No server, no names: completion stays quiet.
func jsCompleter(d *deps, list lister) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		names, err := fetchNames(cmd, d, args, list)
		if err != nil {
			cobra.CompDebugln("natsctl completion: "+err.Error(), false)
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

func fetchNames(cmd *cobra.Command, d *deps, args []string, list lister) ([]string, error) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, completeTimeout)
	defer cancel()
	o, err := connFlagsOf(cmd, d).options()
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
	return list(ctx, jsclient.New(nc), args)
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
	if b, err := f.GetBool("tls-first"); err == nil { // --tlsfirst shares its variable
		cf.TLSFirst = b
	}
	return cf
}
