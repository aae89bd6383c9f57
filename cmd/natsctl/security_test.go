package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"
	"golang.org/x/crypto/bcrypt"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/iostreams"
	"github.com/natsctl/natsctl/internal/natsservertest"
	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

// authMethod is one way to authenticate, configured the same on our server
// and on nats-server, with the command flags and client options that pass
// it and the flags that must fail.
type authMethod struct {
	name   string
	opts   func(*server.Options)
	conf   string
	flags  []string
	client func(*client.Options)
	bad    []string
}

func authMethods(t *testing.T) []authMethod {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	h, _ := bcrypt.GenerateFromPassword([]byte("hunter2"), bcrypt.MinCost)
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	seedFile := write("user.nk", string(seed)+"\n")
	other, _ := nkeys.CreateUser()
	otherSeed, _ := other.Seed()
	otherFile := write("other.nk", string(otherSeed)+"\n")
	pki := servertest.NewPKI(t)
	return []authMethod{
		{name: "token",
			opts: func(o *server.Options) { o.Auth.Token = "s3cr3t" }, conf: `authorization { token: "s3cr3t" }`,
			flags: []string{"--token", "s3cr3t"}, client: func(o *client.Options) { o.Token = "s3cr3t" },
			bad: []string{"--token", "wrong"}},
		{name: "user and password",
			opts:  func(o *server.Options) { o.Auth.Users = []server.User{{Username: "app", Password: "pw"}} },
			conf:  `authorization { users = [ {user: app, password: pw} ] }`,
			flags: []string{"--user", "app", "--password", "pw"}, client: func(o *client.Options) { o.User, o.Password = "app", "pw" },
			bad: []string{"--user", "app", "--password", "nope"}},
		{name: "bcrypt user",
			opts:  func(o *server.Options) { o.Auth.Users = []server.User{{Username: "app", Password: string(h)}} },
			conf:  fmt.Sprintf(`authorization { users = [ {user: app, password: %q} ] }`, h),
			flags: []string{"--user", "app", "--password", "hunter2"}, client: func(o *client.Options) { o.User, o.Password = "app", "hunter2" },
			bad: []string{"--user", "app", "--password", string(h)}},
		{name: "nkey",
			opts:  func(o *server.Options) { o.Auth.Users = []server.User{{Nkey: pub}} },
			conf:  fmt.Sprintf(`authorization { users = [ {nkey: %s} ] }`, pub),
			flags: []string{"--nkey", seedFile}, client: func(o *client.Options) { o.NkeySeedFile = seedFile },
			bad: []string{"--nkey", otherFile}},
		{name: "tls",
			opts: pki.Options, conf: pki.ServerConf(""),
			flags: []string{"--tlsca", pki.CA}, client: func(o *client.Options) { o.TLSCAFile = pki.CA },
			bad: []string{}}, // no CA: the server certificate is not trusted
		{name: "mutual tls",
			opts: func(o *server.Options) { pki.Options(o); o.TLS.Verify = true }, conf: pki.ServerConf("verify: true"),
			flags: []string{"--tlsca", pki.CA, "--tlscert", pki.ClientCert, "--tlskey", pki.ClientK},
			client: func(o *client.Options) {
				o.TLSCAFile, o.TLSCertFile, o.TLSKeyFile = pki.CA, pki.ClientCert, pki.ClientK
			},
			bad: []string{"--tlsca", pki.CA}}, // no client certificate
	}
}

// cliAsync runs natsctl with args on a goroutine.
func cliAsync(args ...string) (<-chan error, *syncBuffer, *syncBuffer) {
	out, errOut := &syncBuffer{}, &syncBuffer{}
	ios := &iostreams.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut}
	root := newRootCmd(newDeps(ios))
	root.SetArgs(args)
	root.SetOut(out)
	root.SetErr(errOut)
	return goRun(func() error { return root.ExecuteContext(context.Background()) }), out, errOut
}

// TestSecurity_CommandsAndClientEachMethod: natsctl pub/sub/req/reply and
// the client library authenticate with every method against our server and
// against nats-server configured the same way, and fail with wrong
// credentials.
func TestSecurity_CommandsAndClientEachMethod(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // no natscli context
	for _, env := range []string{"NATS_URL", "NATS_CONTEXT", "NATS_USER", "NATS_PASSWORD", "NATS_TOKEN", "NATS_NKEY", "NATS_CREDS", "NATS_CERT", "NATS_KEY", "NATS_CA"} {
		t.Setenv(env, "")
	}
	for _, m := range authMethods(t) {
		t.Run(m.name, func(t *testing.T) {
			servers := map[string]func(t *testing.T) string{
				"natsctl": func(t *testing.T) string {
					s := servertest.Run(t, m.opts, func(o *server.Options) { o.AuthTimeout = 20 * time.Second }) // a loaded machine
					if s.TLSRequired() {
						return "tls://" + s.Addr().String()
					}
					return s.ClientURL()
				},
				"nats-server": func(t *testing.T) string {
					conf := filepath.Join(t.TempDir(), "s.conf")
					os.WriteFile(conf, []byte(m.conf+"\n"), 0o600)
					return natsservertest.Start(t, "-c", conf).ClientURL
				},
			}
			for _, name := range []string{"natsctl", "nats-server"} {
				t.Run(name, func(t *testing.T) {
					url := servers[name](t)
					withFlags := func(args ...string) []string {
						return append(append(args, "--server", url, "--timeout", "5s"), m.flags...)
					}
					// Client library.
					o := client.Options{Servers: []string{url}, NoReconnect: true}
					m.client(&o)
					nc, err := client.Connect(context.Background(), o)
					if err != nil {
						t.Fatalf("client: %v", err)
					}
					if err := nc.Publish("lib", []byte("x")); err != nil {
						t.Fatal(err)
					}
					if err := nc.Flush(context.Background()); err != nil {
						t.Fatal(err)
					}
					nc.Close()

					// sub + pub.
					subDone, subOut, subErr := cliAsync(withFlags("sub", "sec.t", "--count", "1", "--raw")...)
					subErr.waitFor(t, "Subscribed")
					if _, err := runCLI(t, "", withFlags("pub", "sec.t", "hello")...); err != nil {
						t.Fatalf("pub: %v", err)
					}
					if err := wait(t, subDone); err != nil {
						t.Fatalf("sub: %v (%s)", err, subErr)
					}
					if got := subOut.String(); got != "hello\n" {
						t.Fatalf("sub printed %q", got)
					}
					// reply + req.
					repDone, _, repErr := cliAsync(withFlags("reply", "sec.svc", "--echo", "--count", "1")...)
					repErr.waitFor(t, "Replying")
					out, err := runCLI(t, "", withFlags("req", "sec.svc", "ping", "--raw")...)
					if err != nil || out != "ping\n" {
						t.Fatalf("req: %q %v", out, err)
					}
					if err := wait(t, repDone); err != nil {
						t.Fatalf("reply: %v", err)
					}

					// Wrong credentials fail, and say so.
					args := append([]string{"pub", "sec.t", "x", "--server", url, "--timeout", "2s"}, m.bad...)
					if _, err := runCLI(t, "", args...); err == nil {
						t.Fatalf("pub with %v succeeded", m.bad)
					}
				})
			}
		})
	}
}
