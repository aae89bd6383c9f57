package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/natsctl/natsctl/internal/server"
)

type serveOptions struct {
	deps       *deps
	flags      *pflag.FlagSet
	configFile string
	signal     string
	getenv     func(string) string
	profile    int // hidden: pprof HTTP port (serveprofile.go)
	// ready, when set, is called with the started server (tests).
	ready func(*server.Server)
}

func newServeCmd(d *deps, runF func(context.Context, *serveOptions) error) *cobra.Command {
	so := &serveOptions{deps: d, getenv: os.Getenv}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the NATS-compatible server",
		Long: `Run the NATS-compatible server.

With no flags it listens for clients on 127.0.0.1:4222 and serves monitoring
(nats-server's /varz, /connz, /subsz, /healthz, ..., Prometheus /metrics and
natsctl's /subjz) on 127.0.0.1:8222, loopback only; -m 0 turns monitoring
off. Options come from flags (nats-server's names), NATSCTL_<KEY> environment
variables and a config file (--config: nats-server's .conf format, or YAML,
TOML, JSON), in that order of precedence. Durations take Go durations (2m, 10s) or seconds;
sizes take bytes or KB/MB/GB.

Signals: SIGINT/SIGTERM shut down gracefully, SIGUSR2 enters lame duck mode.
--signal sends one to a running server found through its pid file (-P).

Security (docs/security.md has the details):
  Listening beyond loopback (-a 0.0.0.0) with no authentication starts with a
  loud warning; --require_auth refuses to start instead.
  --auth TOKEN          every client sends this token (nats.Token, --token)
  --user U --pass P     one user and password; P may be a bcrypt hash ($2a$...)
  authorization { users = [...] } in the config file: many users, each with a
                        password (plain or bcrypt) or an nkey (U...: the client
                        signs a nonce from INFO with its seed, which never
                        crosses the wire; make keys with natsctl nkey gen user),
                        and permissions (publish/subscribe allow/deny with
                        wildcards, allow_responses, "subject queue" entries)
  --tls --tlscert F --tlskey K   TLS; INFO is sent in plain text with
                        tls_required, then the client starts TLS
  --tlsverify --tlscacert CA     mutual TLS: client certificates are required
  tls { verify_and_map: true }   the certificate's subject names the user
  tls { handshake_first: true }  TLS before INFO (nats.TLSHandshakeFirst())
  --https_port 8443     monitoring over HTTPS with the same certificate
  Failed authentication gets -ERR 'Authorization Violation' and is closed; a
  client that does not authenticate within authorization.timeout (2s) gets
  -ERR 'Authentication Timeout'. Permission violations get
  -ERR 'Permissions Violation for Publish to "subj"' and stay connected.`,
		Example: `  natsctl serve
  natsctl serve -p -1 -D
  natsctl serve -m 0                 # no monitoring port
  natsctl serve -a 0.0.0.0 -m 8223   # all interfaces, monitoring on 8223
  natsctl serve -c nats-server.conf
  NATSCTL_MAX_PAYLOAD=4MB natsctl serve
  natsctl serve -P /tmp/natsctl.pid &
  natsctl serve -P /tmp/natsctl.pid --signal ldm

  # token, one user, TLS, mutual TLS
  natsctl serve -a 0.0.0.0 --auth s3cr3t
  natsctl serve --user app --pass "$(natsctl passwd hunter2)"   # a bcrypt hash; or a plain password
  natsctl serve --tls --tlscert server.pem --tlskey server-key.pem
  natsctl serve --tlsverify --tlscert server.pem --tlskey server-key.pem --tlscacert ca.pem

  # users, nkeys and permissions in a config file (nats-server's format)
  cat > auth.conf <<'EOF'
  authorization {
    timeout: 2
    users = [
      {user: alice, password: "$2a$11$...", permissions: {
        publish: {allow: ["orders.>"], deny: ["orders.secret"]}
        subscribe: ["_INBOX.>", "jobs.* workers"]}}
      {nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4,
       permissions: {subscribe: "svc.>", allow_responses: true}}
    ]
  }
  EOF
  natsctl serve -c auth.conf --require_auth -a 0.0.0.0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			so.flags = cmd.Flags()
			return runF(cmd.Context(), so)
		},
	}
	f := cmd.Flags()
	f.SortFlags = false
	f.StringVarP(&so.configFile, "config", "c", "", "config file (nats-server .conf, YAML, TOML or JSON)")
	addServeFlags(f)
	f.IntVar(&so.profile, "profile", 0, "serve pprof on 127.0.0.1:PORT (for benchmarks)")
	_ = f.MarkHidden("profile")
	f.StringVar(&so.signal, "signal", "", "send a signal to a running server and exit: stop, quit, term, reload, reopen or ldm, optionally =PID or =PIDFILE")
	return cmd
}

func runServe(ctx context.Context, so *serveOptions) error {
	cfg, err := loadServeConfig(so.flags, so.configFile, so.getenv)
	if err != nil {
		return err
	}
	if so.signal != "" {
		return sendSignal(so.signal, cfg.PidFile, so.deps.IO.Out)
	}
	logOut := so.deps.IO.ErrOut
	if cfg.LogFile != "" {
		f, err := os.OpenFile(cfg.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("open log file: %w", err)
		}
		defer f.Close()
		logOut = f
	}
	cfg.Logger = newServerLogger(logOut, cfg.Debug || cfg.Trace)
	v, _, _ := buildVersion()
	server.Version = v

	if cfg.cluster.jsOff {
		cfg.Logger.Info("streams (JetStream) are off on this cluster member: streams are not clustered yet; run --jetstream on one server of the cluster and the others reach its streams over routes")
	}
	eng, err := newStreamingEngine(cfg)
	if err != nil {
		return err
	}
	if eng != nil {
		cfg.Engine = eng
	}
	cfg.ConfigReload = func() (server.Options, error) { return reloadedOptions(so) }
	s, err := server.New(cfg.Options)
	if err != nil {
		return err
	}
	if cfg.PidFile != "" {
		if err := os.WriteFile(cfg.PidFile, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			s.Shutdown(context.Background())
			return fmt.Errorf("write pid file: %w", err)
		}
		defer os.Remove(cfg.PidFile)
	}
	if err := s.Start(); err != nil {
		s.Shutdown(context.Background())
		return err
	}
	if so.profile > 0 {
		stop, err := startProfiler(so.profile, cfg.Logger)
		if err != nil {
			s.Shutdown(context.Background())
			return err
		}
		defer stop()
	}
	if so.ready != nil {
		so.ready(s)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, sigLameDuck, syscall.SIGHUP)
	defer signal.Stop(sigs)
	for {
		select {
		case <-ctx.Done():
			cfg.Logger.Info("shutting down")
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return s.Shutdown(sctx)
		case <-s.Done():
			return nil
		case sig := <-sigs:
			switch sig {
			case sigLameDuck:
				go s.LameDuck(context.Background())
			case syscall.SIGHUP:
				reloadServe(s, so, cfg.Logger)
			}
		}
	}
}

// newServerLogger logs with timestamps and levels; debug also shows
// connection events and, with trace, protocol lines.
func newServerLogger(w io.Writer, debug bool) *slog.Logger {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// Signal names as nats-server's --signal takes them.
var signalNames = map[string]syscall.Signal{
	"stop":   syscall.SIGKILL,
	"quit":   syscall.SIGINT,
	"term":   syscall.SIGTERM,
	"reload": syscall.SIGHUP,
	"reopen": sigReopen,
	"ldm":    sigLameDuck,
}

// sendSignal implements --signal NAME[=PID|=PIDFILE].
func sendSignal(spec, pidFile string, out io.Writer) error {
	name, target, _ := strings.Cut(spec, "=")
	sig, ok := signalNames[strings.ToLower(name)]
	if !ok {
		return fmt.Errorf("--signal %q: want one of stop, quit, term, reload, reopen, ldm", name)
	}
	if target == "" {
		target = pidFile
	}
	if target == "" {
		return errors.New("--signal: no process given: use --signal " + name + "=PID or point -P at the server's pid file")
	}
	pid, err := strconv.Atoi(target)
	if err != nil {
		b, rerr := os.ReadFile(target)
		if rerr != nil {
			return fmt.Errorf("--signal: read pid file: %w (is the server running with -P %s?)", rerr, target)
		}
		if pid, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
			return fmt.Errorf("--signal: pid file %s holds %q, not a process ID", target, b)
		}
	}
	if err := killPID(pid, sig); err != nil {
		return fmt.Errorf("--signal %s to process %d: %w", name, pid, err)
	}
	fmt.Fprintf(out, "sent %s to process %d\n", name, pid)
	return nil
}
