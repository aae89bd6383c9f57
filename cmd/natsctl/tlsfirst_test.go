package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/natsctl/natsctl/internal/natsservertest"
	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

// TestConnFlags_TLSFirst: --tls-first (and natscli's --tlsfirst, and a
// context's tls_first) reach the client, against our server and nats-server
// configured for TLS first; the mismatches both ways say what to do.
func TestConnFlags_TLSFirst(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("NATS_URL", "")
	t.Setenv("NATS_CONTEXT", "")
	t.Setenv("NATS_CA", "")
	pki := servertest.NewPKI(t)
	conf := filepath.Join(t.TempDir(), "tlsfirst.conf")
	if err := os.WriteFile(conf, []byte(pki.ServerConf("handshake_first: true")), 0o600); err != nil {
		t.Fatal(err)
	}
	servers := []struct {
		name  string
		start func(t *testing.T) string
	}{
		{"natsctl", func(t *testing.T) string {
			return servertest.Run(t, func(o *server.Options) { pki.Options(o); o.TLS.HandshakeFirst = true }).ClientURL()
		}},
		{"nats-server", func(t *testing.T) string {
			_, hp, _ := strings.Cut(natsservertest.Start(t, "-c", conf).ClientURL, "://")
			return "nats://" + hp
		}},
	}
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			url := s.start(t)
			for _, flag := range []string{"--tls-first", "--tlsfirst"} {
				if _, errOut, code := runRoot(t, "pub", "-s", url, "--tlsca", pki.CA, flag, "x", "y"); code != 0 {
					t.Fatalf("pub %s: %d %s", flag, code, errOut)
				}
			}
			_, errOut, code := runRoot(t, "pub", "-s", url, "--tlsca", pki.CA, "--timeout", "300ms", "x", "y")
			if code == 0 || !strings.Contains(errOut, "add --tls-first") {
				t.Fatalf("without --tls-first: %d %q", code, errOut)
			}
			ctxName := "first-" + s.name
			if _, errOut, code := runRoot(t, "context", "add", ctxName, "-s", url, "--tlsca", pki.CA, "--tls-first"); code != 0 {
				t.Fatal(errOut)
			}
			if _, errOut, code := runRoot(t, "pub", "--context", ctxName, "x", "y"); code != 0 {
				t.Fatalf("pub with a tls_first context: %d %s", code, errOut)
			}
			out, _, _ := runRoot(t, "context", "show", ctxName, "--json")
			if !strings.Contains(out, `"tls_first":true`) {
				t.Fatalf("context show --json: %s", out)
			}
		})
	}
	plain := servertest.Run(t).ClientURL()
	_, errOut, code := runRoot(t, "pub", "-s", plain, "--tls-first", "x", "y")
	if code == 0 || !strings.Contains(errOut, "does not do TLS first") || !strings.Contains(errOut, "without --tls-first") {
		t.Fatalf("--tls-first at a plain server: %d %q", code, errOut)
	}
}
