package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/natsctl/natsctl/internal/iostreams"
	"github.com/natsctl/natsctl/internal/server"
)

// parseServe runs the serve command's flag parsing and config loading only.
func parseServe(t *testing.T, env map[string]string, args ...string) (*serveConfig, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var cfg *serveConfig
	var lerr error
	cmd := newServeCmd(&deps{IO: ios}, func(_ context.Context, so *serveOptions) error {
		cfg, lerr = loadServeConfig(so.flags, so.configFile, func(k string) string { return env[k] })
		return nil
	})
	cmd.SetArgs(args)
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	if err := cmd.Execute(); err != nil {
		return nil, err
	}
	return cfg, lerr
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestServeConfig_Defaults(t *testing.T) {
	cfg, err := parseServe(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := server.DefaultOptions()
	if cfg.HTTPPort != 8222 || cfg.HTTPHost != "" {
		t.Fatalf("monitoring default: http_port %d http_host %q, want 8222 and the client host", cfg.HTTPPort, cfg.HTTPHost)
	}
	if cfg.Host != "127.0.0.1" || cfg.Port != 4222 || cfg.MaxPayload != d.MaxPayload || cfg.MaxControlLine != d.MaxControlLine ||
		cfg.MaxPending != d.MaxPending || cfg.WriteDeadline != d.WriteDeadline || cfg.PingInterval != d.PingInterval ||
		cfg.PingMax != d.PingMax || cfg.MaxConnections != d.MaxConnections {
		t.Fatalf("defaults differ from nats-server's: %+v", cfg.Options)
	}
}

func TestServeConfig_Files(t *testing.T) {
	cases := map[string]string{
		"s.conf": "# nats-server format\nlisten: 127.0.0.2:5222\nserver_name: n1\nmax_payload: 2MB\nping_interval: \"30s\"\nwrite_deadline: 3\nmax_connections: 10\ndebug: true\n",
		"s.yaml": "host: 127.0.0.2\nport: 5222\nserver_name: n1\nmax_payload: 2MB\nping_interval: 30s\nwrite_deadline: 3\nmax_connections: 10\ndebug: true\n",
		"s.json": `{"host":"127.0.0.2","port":5222,"server_name":"n1","max_payload":2097152,"ping_interval":"30s","write_deadline":"3s","max_connections":10,"debug":true}`,
		"s.toml": "host = \"127.0.0.2\"\nport = 5222\nserver_name = \"n1\"\nmax_payload = \"2MB\"\nping_interval = \"30s\"\nwrite_deadline = 3\nmax_connections = 10\ndebug = true\n",
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			cfg, err := parseServe(t, nil, "-c", writeFile(t, name, body))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Host != "127.0.0.2" || cfg.Port != 5222 || cfg.ServerName != "n1" || cfg.MaxPayload != 2<<20 ||
				cfg.PingInterval != 30*time.Second || cfg.WriteDeadline != 3*time.Second || cfg.MaxConnections != 10 || !cfg.Debug {
				t.Fatalf("got %+v", cfg)
			}
		})
	}
}

func TestServeConfig_Precedence(t *testing.T) {
	file := writeFile(t, "s.yaml", "port: 1111\nmax_payload: 1000\nping_max: 5\n")
	env := map[string]string{"NATSCTL_PORT": "2222", "NATSCTL_MAX_PAYLOAD": "2000"}
	cfg, err := parseServe(t, env, "-c", file, "-p", "3333")
	if err != nil {
		t.Fatal(err)
	}
	// flag > environment > file > default
	if cfg.Port != 3333 || cfg.MaxPayload != 2000 || cfg.PingMax != 5 || cfg.MaxPending != server.DefaultMaxPending {
		t.Fatalf("got port %d max_payload %d ping_max %d", cfg.Port, cfg.MaxPayload, cfg.PingMax)
	}
}

func TestServeConfig_Errors(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want []string
	}{
		{[]string{"-c", writeFile(t, "s.conf", "port: 4222\ngateway { port: 7222 }\n")}, nil, []string{`"gateway"`, "not supported"}},
		{[]string{"-c", writeFile(t, "s.conf", "cluster { port: 6222, pool_size: 3 }\n")}, nil, []string{`"pool_size"`, "not supported"}},
		{[]string{"--routes", "nats://127.0.0.1:6222"}, nil, []string{"--cluster"}},
		{[]string{"-c", writeFile(t, "s.yaml", "bogus_key: 1\n")}, nil, []string{`"bogus_key"`}},
		{[]string{"-p", "70000"}, nil, []string{"port", "70000", "-1 to 65535"}},
		{[]string{"--max_payload", "lots"}, nil, []string{"max_payload", "not a size"}},
		{[]string{"--ping_interval", "soon"}, nil, []string{"ping_interval", "not a duration"}},
		{nil, map[string]string{"NATSCTL_PING_MAX": "0"}, []string{"ping_max", "NATSCTL_PING_MAX", "1 to"}},
		{[]string{"-c", filepath.Join(t.TempDir(), "missing.conf")}, nil, []string{"read config"}},
	}
	for _, tc := range cases {
		_, err := parseServe(t, tc.env, tc.args...)
		if err == nil {
			t.Errorf("%v %v: accepted", tc.args, tc.env)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q does not mention %q", tc.args, err, w)
			}
		}
	}
}

func TestServe_InProcess(t *testing.T) {
	ios, _, _, errOut := iostreams.Test()
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan *server.Server, 1)
	done := make(chan error, 1)
	cmd := newServeCmd(&deps{IO: ios}, func(ctx context.Context, so *serveOptions) error {
		so.ready = func(s *server.Server) { started <- s }
		return runServe(ctx, so)
	})
	cmd.SetArgs([]string{"-p", "-1", "-m", "-1"})
	go func() { done <- cmd.ExecuteContext(ctx) }()
	var s *server.Server
	select {
	case s = <-started:
	case err := <-done:
		t.Fatalf("serve exited: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start")
	}
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
	resp, err := http.Get(s.MonitorURL() + "/healthz")
	if err != nil {
		t.Fatalf("monitoring: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %s", resp.Status)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve returned %v", err)
	}
	if want := "listening for monitoring\" addr=" + s.MonitorAddr().String(); !strings.Contains(errOut.String(), want) {
		t.Fatalf("log lacks %q:\n%s", want, errOut)
	}
}

func TestServeConfig_Monitoring(t *testing.T) {
	cases := []struct {
		args     []string
		env      map[string]string
		host     string
		port     int
		describe string
	}{
		{[]string{"-m", "0"}, nil, "", 0, "off"},
		{[]string{"--http_port", "-1"}, nil, "", -1, "random"},
		{[]string{"-m", "9000", "--http_host", "0.0.0.0"}, nil, "0.0.0.0", 9000, "flags"},
		{nil, map[string]string{"NATSCTL_HTTP_PORT": "7777"}, "", 7777, "environment"},
		{[]string{"-c", writeFile(t, "m.conf", "http: 127.0.0.3:9999\n")}, nil, "127.0.0.3", 9999, "conf http: host:port"},
		{[]string{"-c", writeFile(t, "m.yaml", "http_port: 8333\n")}, nil, "", 8333, "yaml"},
	}
	for _, tc := range cases {
		cfg, err := parseServe(t, tc.env, tc.args...)
		if err != nil {
			t.Fatalf("%s: %v", tc.describe, err)
		}
		if cfg.HTTPHost != tc.host || cfg.HTTPPort != tc.port {
			t.Errorf("%s: http_host %q http_port %d, want %q %d", tc.describe, cfg.HTTPHost, cfg.HTTPPort, tc.host, tc.port)
		}
	}
	if _, err := parseServe(t, nil, "-m", "-2"); err == nil || !strings.Contains(err.Error(), "http_port") {
		t.Fatalf("-m -2: %v", err)
	}
}

// ---- end to end with the built binary ----

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// natsctlBin builds natsctl once per test run.
func natsctlBin(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "natsctl-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "natsctl")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = &buildError{string(out)}
		}
	})
	if binErr != nil {
		t.Fatalf("build natsctl: %v", binErr)
	}
	return binPath
}

type buildError struct{ out string }

func (e *buildError) Error() string { return e.out }

type serveProc struct {
	cmd   *exec.Cmd
	url   string
	route string        // nats://host:port of the route listener, with --cluster
	mon   chan string   // the monitoring URL, once logged (see monitorURL)
	done  chan struct{} // closed when the process has exited
	err   error         // its exit status, once done
}

var (
	addrRE  = regexp.MustCompile(`listening for client connections"? addr=(\S+)`)
	routeRE = regexp.MustCompile(`listening for route connections"? addr=(\S+)`)
	monRE   = regexp.MustCompile(`listening for monitoring"? addr=\S+ url=(\S+)`)
)

// startServe runs `natsctl serve -p -1 args...` and waits for its address.
func startServe(t *testing.T, args ...string) *serveProc {
	t.Helper()
	cmd := exec.Command(natsctlBin(t), append([]string{"serve", "-p", "-1", "-m", "-1"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: cmd, done: make(chan struct{}), mon: make(chan string, 1)}
	addr, route := make(chan string, 1), make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if os.Getenv("NATSCTL_TEST_LOG") != "" {
				fmt.Fprintln(os.Stderr, sc.Text())
			}
			if m := addrRE.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
			if m := routeRE.FindStringSubmatch(sc.Text()); m != nil {
				route <- m[1]
			}
			if m := monRE.FindStringSubmatch(sc.Text()); m != nil {
				p.mon <- m[1]
			}
		}
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	select {
	case a := <-addr:
		p.url = "nats://" + a
	case <-time.After(20 * time.Second):
		t.Fatal("natsctl serve did not report its address")
	}
	if slices.Contains(args, "--cluster") {
		select {
		case a := <-route:
			p.route = "nats://" + a
		case <-time.After(20 * time.Second):
			t.Fatal("natsctl serve did not report its route address")
		}
	}
	return p
}

func TestServeBinary_SIGTERMExitsZero(t *testing.T) {
	p := startServe(t)
	nc, err := nats.Connect(p.url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if p.err != nil {
			t.Fatalf("exit after SIGTERM: %v", p.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("did not exit after SIGTERM")
	}
}

func TestServeBinary_SignalLameDuckMovesClient(t *testing.T) {
	pid := filepath.Join(t.TempDir(), "a.pid")
	a := startServe(t, "-P", pid, "--lame_duck_grace_period", "100ms", "--lame_duck_duration", "1s")
	b := startServe(t)
	reconnected := make(chan string, 1)
	nc, err := nats.Connect(a.url+","+b.url, nats.DontRandomize(), nats.ReconnectWait(50*time.Millisecond),
		nats.ReconnectHandler(func(c *nats.Conn) { reconnected <- c.ConnectedUrl() }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if nc.ConnectedUrl() != a.url {
		t.Fatalf("connected to %s, want %s", nc.ConnectedUrl(), a.url)
	}
	sub, _ := nc.SubscribeSync("after.ldm")
	out, err := exec.Command(natsctlBin(t), "serve", "--signal", "ldm", "-P", pid).CombinedOutput()
	if err != nil {
		t.Fatalf("--signal ldm: %v: %s", err, out)
	}
	select {
	case u := <-reconnected:
		if u != b.url {
			t.Fatalf("moved to %s, want %s", u, b.url)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("client did not move to the second server")
	}
	// The subscription was carried over.
	nc.Publish("after.ldm", []byte("x"))
	if _, err := sub.NextMsg(5 * time.Second); err != nil {
		t.Fatalf("subscription after move: %v", err)
	}
	select {
	case <-a.done:
	case <-time.After(20 * time.Second):
		t.Fatal("lame duck server did not exit")
	}
}

var _ = cobra.Command{}

// monitorURL waits for the server's monitoring URL (startServe runs -m -1).
func (p *serveProc) monitorURL(t *testing.T) string {
	t.Helper()
	select {
	case u := <-p.mon:
		p.mon <- u // for the next call
		return u
	case <-time.After(20 * time.Second):
		t.Fatal("natsctl serve did not report its monitoring URL")
		return ""
	}
}
