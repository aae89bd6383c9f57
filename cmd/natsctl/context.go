package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

// natsContext is a named connection setting: server URLs and credentials.
// The JSON names are natscli's, so its context files read as they are.
type natsContext struct {
	Name        string `json:"name,omitempty" mapstructure:"name"`
	Description string `json:"description,omitempty" mapstructure:"description"`
	URL         string `json:"url,omitempty" mapstructure:"url"`
	User        string `json:"user,omitempty" mapstructure:"user"`
	Password    string `json:"password,omitempty" mapstructure:"password"`
	Token       string `json:"token,omitempty" mapstructure:"token"`
	Creds       string `json:"creds,omitempty" mapstructure:"creds"`
	NKey        string `json:"nkey,omitempty" mapstructure:"nkey"`
	Cert        string `json:"cert,omitempty" mapstructure:"cert"`
	Key         string `json:"key,omitempty" mapstructure:"key"`
	CA          string `json:"ca,omitempty" mapstructure:"ca"`
	TLSFirst    bool   `json:"tls_first,omitempty" mapstructure:"tls_first"`
	// Source is "natsctl" or "nats" (natscli's files); not stored.
	Source string `json:"source,omitempty" mapstructure:"-"`
}

// contextStore reads our own contexts (one YAML file, through viper) and
// natscli's (one JSON file per context). Only ours are written.
type contextStore struct {
	file      string // $XDG_CONFIG_HOME/natsctl/contexts.yaml
	natscli   string // $XDG_CONFIG_HOME/nats/context
	natscliTx string // $XDG_CONFIG_HOME/nats/context.txt: natscli's selection
}

func newContextStore() *contextStore {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		if h, err := os.UserHomeDir(); err == nil {
			dir = filepath.Join(h, ".config")
		}
	}
	return &contextStore{
		file:      filepath.Join(dir, "natsctl", "contexts.yaml"),
		natscli:   filepath.Join(dir, "nats", "context"),
		natscliTx: filepath.Join(dir, "nats", "context.txt"),
	}
}

// ownFile is the decoded natsctl file.
type ownFile struct {
	Current  string        `mapstructure:"current"`
	Contexts []natsContext `mapstructure:"contexts"`
}

func (s *contextStore) readOwn() (ownFile, error) {
	var f ownFile
	v := viper.New()
	v.SetConfigFile(s.file)
	if err := v.ReadInConfig(); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return f, nil
		}
		return f, fmt.Errorf("read %s: %w", s.file, err)
	}
	if err := v.Unmarshal(&f); err != nil {
		return f, fmt.Errorf("read %s: %w", s.file, err)
	}
	for i := range f.Contexts {
		f.Contexts[i].Source = "natsctl"
	}
	return f, nil
}

func (s *contextStore) writeOwn(f ownFile) error {
	if err := os.MkdirAll(filepath.Dir(s.file), 0o700); err != nil {
		return err
	}
	list := make([]map[string]any, 0, len(f.Contexts))
	for _, c := range f.Contexts {
		var m map[string]any
		b, _ := json.Marshal(c)
		_ = json.Unmarshal(b, &m)
		delete(m, "source")
		list = append(list, m)
	}
	v := viper.New()
	v.SetConfigType("yaml")
	v.Set("current", f.Current)
	v.Set("contexts", list)
	// Credentials live here: readable by the user only.
	if err := v.WriteConfigAs(s.file); err != nil {
		return fmt.Errorf("write %s: %w", s.file, err)
	}
	return os.Chmod(s.file, 0o600)
}

// readNatscli reads natscli's context files; unreadable ones are skipped.
func (s *contextStore) readNatscli() []natsContext {
	m, _ := filepath.Glob(filepath.Join(s.natscli, "*.json"))
	var out []natsContext
	for _, p := range m {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var c natsContext
		if json.Unmarshal(b, &c) != nil {
			continue
		}
		c.Name = strings.TrimSuffix(filepath.Base(p), ".json")
		c.Source = "nats"
		out = append(out, c)
	}
	return out
}

// all lists every context; ours win over natscli's of the same name.
func (s *contextStore) all() ([]natsContext, error) {
	own, err := s.readOwn()
	if err != nil {
		return nil, err
	}
	out := own.Contexts
	seen := map[string]bool{}
	for _, c := range out {
		seen[c.Name] = true
	}
	for _, c := range s.readNatscli() {
		if !seen[c.Name] {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (s *contextStore) get(name string) (natsContext, error) {
	all, err := s.all()
	if err != nil {
		return natsContext{}, err
	}
	for _, c := range all {
		if c.Name == name {
			return c, nil
		}
	}
	return natsContext{}, fmt.Errorf("no context named %q: see `natsctl context ls`", name)
}

// selected is our selection, else natscli's.
func (s *contextStore) selected() string {
	if own, err := s.readOwn(); err == nil && own.Current != "" {
		return own.Current
	}
	b, err := os.ReadFile(s.natscliTx)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func newContextCmd(d *deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "context",
		Aliases: []string{"ctx"},
		Short:   "Manage named connection contexts (server URLs and credentials)",
		Long: `Contexts name a set of server URLs and credentials, so that --context NAME
(or NATS_CONTEXT, or the selected context) replaces a row of flags.

natsctl keeps its contexts in $XDG_CONFIG_HOME/natsctl/contexts.yaml
(default ~/.config/natsctl) and also reads the nats CLI's contexts
(~/.config/nats/context/*.json), so existing ones work as they are.`,
		Example: `  natsctl context add local --server nats://127.0.0.1:4222 --select
  natsctl context add prod --server tls://nats.example.com:4222 --creds ~/prod.creds
  natsctl context ls
  natsctl pub --context prod orders.new '{"id":1}'`,
	}
	cmd.AddCommand(newContextAddCmd(d), newContextLsCmd(d), newContextSelectCmd(d),
		newContextShowCmd(d), newContextRmCmd(d))
	return cmd
}

func newContextAddCmd(d *deps) *cobra.Command {
	var c natsContext
	var sel bool
	cmd := &cobra.Command{
		Use:   "add NAME",
		Short: "Add or replace a context",
		Example: `  natsctl context add local --server nats://127.0.0.1:4222 --description "my laptop" --select
  natsctl context add cluster -s nats://a:4222,nats://b:4222 --user app --password secret`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c.Name = args[0]
			return runContextAdd(d, newContextStore(), c, sel)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&c.URL, "server", "s", "", "server URLs, comma-separated")
	f.StringVar(&c.Description, "description", "", "what the context is for")
	f.StringVar(&c.User, "user", "", "user name")
	f.StringVar(&c.Password, "password", "", "password")
	f.StringVar(&c.Token, "token", "", "token")
	f.StringVar(&c.NKey, "nkey", "", "nkey seed file")
	f.StringVar(&c.Creds, "creds", "", "credentials file")
	f.StringVar(&c.Cert, "tlscert", "", "TLS client certificate file")
	f.StringVar(&c.Key, "tlskey", "", "TLS client key file")
	f.StringVar(&c.CA, "tlsca", "", "TLS CA file")
	f.BoolVar(&c.TLSFirst, "tls-first", false, "start TLS before the server's INFO (servers with tls { handshake_first: true })")
	f.BoolVar(&sel, "select", false, "make it the selected context")
	return cmd
}

func runContextAdd(d *deps, s *contextStore, c natsContext, sel bool) error {
	if c.Name == "" || strings.ContainsAny(c.Name, `/\ `) {
		return fmt.Errorf("bad context name %q: use letters, digits, - and _", c.Name)
	}
	own, err := s.readOwn()
	if err != nil {
		return err
	}
	replaced := false
	for i := range own.Contexts {
		if own.Contexts[i].Name == c.Name {
			own.Contexts[i], replaced = c, true
		}
	}
	if !replaced {
		own.Contexts = append(own.Contexts, c)
	}
	if sel {
		own.Current = c.Name
	}
	if err := s.writeOwn(own); err != nil {
		return err
	}
	verb := "Added"
	if replaced {
		verb = "Replaced"
	}
	fmt.Fprintf(d.IO.ErrOut, "%s context %q in %s\n", verb, c.Name, s.file)
	return nil
}

func newContextLsCmd(d *deps) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List contexts; * marks the selected one",
		Example: "  natsctl context ls\n  natsctl context ls --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runContextLs(d.IO.Out, newContextStore(), asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func runContextLs(w io.Writer, s *contextStore, asJSON bool) error {
	all, err := s.all()
	if err != nil {
		return err
	}
	sel := s.selected()
	if asJSON {
		type row struct {
			natsContext
			Selected bool `json:"selected"`
		}
		rows := make([]row, 0, len(all))
		for _, c := range all {
			c.Password, c.Token = redact(c.Password), redact(c.Token)
			rows = append(rows, row{c, c.Name == sel})
		}
		return json.NewEncoder(w).Encode(rows)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSOURCE\tURL\tDESCRIPTION")
	for _, c := range all {
		name := c.Name
		if name == sel {
			name += "*"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, c.Source, c.URL, c.Description)
	}
	return tw.Flush()
}

func newContextSelectCmd(d *deps) *cobra.Command {
	return &cobra.Command{
		Use:     "select NAME",
		Short:   "Select the context used when none is named",
		Example: "  natsctl context select prod",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s := newContextStore()
			if _, err := s.get(args[0]); err != nil {
				return err
			}
			own, err := s.readOwn()
			if err != nil {
				return err
			}
			own.Current = args[0]
			if err := s.writeOwn(own); err != nil {
				return err
			}
			fmt.Fprintf(d.IO.ErrOut, "Selected context %q\n", args[0])
			return nil
		},
	}
}

func newContextShowCmd(d *deps) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "show [NAME]",
		Short:   "Show a context (default: the selected one); secrets are masked",
		Example: "  natsctl context show\n  natsctl context show prod --json",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s := newContextStore()
			name := s.selected()
			if len(args) == 1 {
				name = args[0]
			}
			if name == "" {
				return errors.New("no context selected: name one, or select one with `natsctl context select NAME`")
			}
			c, err := s.get(name)
			if err != nil {
				return err
			}
			c.Password, c.Token = redact(c.Password), redact(c.Token)
			if asJSON {
				return json.NewEncoder(d.IO.Out).Encode(c)
			}
			tw := tabwriter.NewWriter(d.IO.Out, 0, 4, 2, ' ', 0)
			for _, kv := range [][2]string{
				{"Name", c.Name}, {"Source", c.Source}, {"Description", c.Description}, {"Server URLs", c.URL},
				{"User", c.User}, {"Password", c.Password}, {"Token", c.Token}, {"Creds", c.Creds},
				{"NKey", c.NKey}, {"TLS cert", c.Cert}, {"TLS key", c.Key}, {"TLS CA", c.CA},
				{"TLS first", yesIf(c.TLSFirst)},
			} {
				if kv[1] != "" {
					fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
				}
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newContextRmCmd(d *deps) *cobra.Command {
	return &cobra.Command{
		Use:     "rm NAME",
		Short:   "Remove a natsctl context",
		Example: "  natsctl context rm old",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s := newContextStore()
			own, err := s.readOwn()
			if err != nil {
				return err
			}
			kept := own.Contexts[:0]
			for _, c := range own.Contexts {
				if c.Name != args[0] {
					kept = append(kept, c)
				}
			}
			if len(kept) == len(own.Contexts) {
				if _, err := s.get(args[0]); err == nil {
					return fmt.Errorf("context %q belongs to the nats CLI: remove it with `nats context rm %s`", args[0], args[0])
				}
				return fmt.Errorf("no context named %q: see `natsctl context ls`", args[0])
			}
			own.Contexts = kept
			if own.Current == args[0] {
				own.Current = ""
			}
			if err := s.writeOwn(own); err != nil {
				return err
			}
			fmt.Fprintf(d.IO.ErrOut, "Removed context %q\n", args[0])
			return nil
		},
	}
}

func redact(s string) string {
	if s == "" {
		return ""
	}
	return "********"
}

// yesIf shows a boolean setting only when it is on.
func yesIf(b bool) string {
	if b {
		return "yes"
	}
	return ""
}
