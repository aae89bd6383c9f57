package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/subject"
)

// defaultTimeout is --timeout's default, as natscli's.
const defaultTimeout = 5 * time.Second

// connFlags are the connection flags every client command shares (pub, sub,
// req, reply, bench, stream, ...). Values come from, in order: the flag,
// natscli's environment variable (NATS_URL, NATS_USER, ...), the selected
// context, the default.
type connFlags struct {
	d *deps

	Servers, User, Password, Token string
	Nkey, Creds                    string
	TLSCert, TLSKey, TLSCA         string
	TLSFirst                       bool
	Context                        string
	Timeout                        time.Duration
	cmd                            *cobra.Command
}

// addConnFlags registers the connection flags on cmd.
func addConnFlags(cmd *cobra.Command, d *deps) *connFlags {
	cf := &connFlags{d: d, cmd: cmd}
	f := cmd.Flags()
	f.StringVarP(&cf.Servers, "server", "s", "", "NATS server URLs, comma-separated (env NATS_URL; default "+client.DefaultURL+")")
	f.StringVar(&cf.User, "user", "", "user name, or token (env NATS_USER)")
	f.StringVar(&cf.Password, "password", "", "password (env NATS_PASSWORD)")
	f.StringVar(&cf.Token, "token", "", "authentication token (env NATS_TOKEN)")
	f.StringVar(&cf.Nkey, "nkey", "", "nkey seed file (env NATS_NKEY)")
	f.StringVar(&cf.Creds, "creds", "", "user credentials (.creds) file (env NATS_CREDS)")
	f.StringVar(&cf.TLSCert, "tlscert", "", "TLS client certificate file (env NATS_CERT)")
	f.StringVar(&cf.TLSKey, "tlskey", "", "TLS client key file (env NATS_KEY)")
	f.StringVar(&cf.TLSCA, "tlsca", "", "TLS CA file to verify the server (env NATS_CA)")
	f.BoolVar(&cf.TLSFirst, "tls-first", false, "start TLS before the server's INFO, for servers with tls { handshake_first: true }")
	// natscli spells it --tlsfirst (with --tls-first as its hidden alias):
	// accept both so that scripts move over unchanged.
	f.BoolVar(&cf.TLSFirst, "tlsfirst", false, "alias for --tls-first")
	_ = f.MarkHidden("tlsfirst")
	f.StringVar(&cf.Context, "context", "", "named context to use (env NATS_CONTEXT; see natsctl context ls)")
	f.DurationVar(&cf.Timeout, "timeout", defaultTimeout, "connect and request timeout (env NATS_TIMEOUT)")
	return cf
}

// pick returns the flag value when the flag was given, else the environment
// variable, else the context's value.
func (cf *connFlags) pick(flag, val, env, fromCtx string) string {
	if cf.cmd != nil && cf.cmd.Flags().Changed(flag) {
		return val
	}
	if v := os.Getenv(env); v != "" {
		return v
	}
	if fromCtx != "" {
		return fromCtx
	}
	return val
}

// options resolves the flags, environment and context into client options.
func (cf *connFlags) options() (client.Options, error) {
	var nc natsContext
	name := cf.Context
	if name == "" {
		name = os.Getenv("NATS_CONTEXT")
	}
	store := newContextStore()
	if name == "" {
		name = store.selected()
	}
	if name != "" {
		c, err := store.get(name)
		if err != nil {
			if cf.Context != "" || os.Getenv("NATS_CONTEXT") != "" {
				return client.Options{}, err
			}
			// A stale selection must not break every command.
		} else {
			nc = c
		}
	}
	timeout := cf.Timeout
	if !(cf.cmd != nil && cf.cmd.Flags().Changed("timeout")) {
		if v := os.Getenv("NATS_TIMEOUT"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				return client.Options{}, fmt.Errorf("NATS_TIMEOUT=%q: %w", v, err)
			}
			timeout = d
		}
	}
	servers := cf.pick("server", cf.Servers, "NATS_URL", nc.URL)
	if servers == "" {
		servers = client.DefaultURL
	}
	o := client.Options{
		Servers:      strings.Split(servers, ","),
		Name:         "natsctl " + cf.cmdName(),
		User:         cf.pick("user", cf.User, "NATS_USER", nc.User),
		Password:     cf.pick("password", cf.Password, "NATS_PASSWORD", nc.Password),
		Token:        cf.pick("token", cf.Token, "NATS_TOKEN", nc.Token),
		NkeySeedFile: expandHome(cf.pick("nkey", cf.Nkey, "NATS_NKEY", nc.NKey)),
		CredsFile:    expandHome(cf.pick("creds", cf.Creds, "NATS_CREDS", nc.Creds)),
		TLSCertFile:  expandHome(cf.pick("tlscert", cf.TLSCert, "NATS_CERT", nc.Cert)),
		TLSKeyFile:   expandHome(cf.pick("tlskey", cf.TLSKey, "NATS_KEY", nc.Key)),
		TLSCAFile:    expandHome(cf.pick("tlsca", cf.TLSCA, "NATS_CA", nc.CA)),
		Timeout:      timeout,
	}
	// The flag (either spelling) wins; else the context's tls_first.
	o.TLSHandshakeFirst = nc.TLSFirst
	if cf.changed("tls-first") || cf.changed("tlsfirst") {
		o.TLSHandshakeFirst = cf.TLSFirst
	}
	return o, nil
}

func (cf *connFlags) changed(flag string) bool {
	return cf.cmd != nil && cf.cmd.Flags().Changed(flag)
}

func (cf *connFlags) cmdName() string {
	if cf.cmd == nil {
		return ""
	}
	return cf.cmd.Name()
}

// connect opens the connection, turning failures into errors that say what
// to do.
func (cf *connFlags) connect(ctx context.Context) (*client.Conn, error) {
	o, err := cf.options()
	if err != nil {
		return nil, err
	}
	nc, err := cf.d.Connect(ctx, o)
	if err != nil {
		return nil, explainConnectError(o, err)
	}
	return nc, nil
}

// explainConnectError turns a connect failure into one line naming the
// server and the likely fix.
func explainConnectError(o client.Options, err error) error {
	where := strings.Join(o.Servers, ",")
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("no server at %s: is `natsctl serve` running? (set the address with --server or NATS_URL)", where)
	case errors.Is(err, client.ErrTLSFirstRefused):
		return fmt.Errorf("%s answered in plain text: it does not do TLS first (tls { handshake_first: true }); connect without --tls-first", where)
	case errors.Is(err, client.ErrNoInfo) && !o.TLSHandshakeFirst && (errors.Is(err, context.DeadlineExceeded) || isTimeout(err)):
		return fmt.Errorf("no INFO from %s within %s: if the server does TLS first (tls { handshake_first: true }) add --tls-first, else check the address or raise --timeout", where, o.Timeout)
	case errors.Is(err, client.ErrAuthorization):
		return fmt.Errorf("not authorized by %s: check --user/--password, --token, --nkey or --creds", where)
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return fmt.Errorf("no answer from %s within %s: check the address and any firewall, or raise --timeout", where, o.Timeout)
	case errors.Is(err, os.ErrNotExist), errors.Is(err, os.ErrPermission):
		return fmt.Errorf("cannot read a credentials file: %v", err)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Errorf("cannot resolve %q: check the server address", dnsErr.Name)
	}
	return fmt.Errorf("cannot connect to %s: %w", where, err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// expandHome turns a leading ~/ into the home directory, as shells do for
// unquoted paths but natscli's context files hold literally.
func expandHome(p string) string {
	if strings.HasPrefix(p, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			return h + p[1:]
		}
	}
	return p
}

// checkSubject gives a one-line error for a bad subject before any network
// traffic.
func checkSubject(s string, wildcards bool) error {
	ok := subject.ValidPublish(s)
	if wildcards {
		ok = subject.ValidSubscribe(s)
	}
	if ok {
		return nil
	}
	if !wildcards && subject.ValidSubscribe(s) {
		return fmt.Errorf("invalid subject %q: wildcards (* and >) are for subscribing, not publishing", s)
	}
	return fmt.Errorf("invalid subject %q: use dot-separated tokens without spaces or empty tokens, e.g. orders.new", s)
}

// parseHeaders turns -H key:value flags into a header.
func parseHeaders(hs []string) (client.Header, error) {
	if len(hs) == 0 {
		return nil, nil
	}
	h := client.Header{}
	for _, kv := range hs {
		k, v, ok := strings.Cut(kv, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || !client.ValidHeaderKey(k) || !client.ValidHeaderValue(v) {
			return nil, fmt.Errorf("bad header %q: use -H key:value (a key without spaces or colons)", kv)
		}
		h.Add(k, v)
	}
	return h, nil
}
