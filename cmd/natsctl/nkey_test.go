package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"golang.org/x/crypto/bcrypt"

	"github.com/natsctl/natsctl/internal/iostreams"
	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

// runCLI runs natsctl with args and stdin, returning stdout and the error.
func runCLI(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	ios, in, out, _ := iostreams.Test()
	in.WriteString(stdin)
	root := newRootCmd(newDeps(ios))
	root.SetArgs(args)
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestNkey_GenPubSignVerify(t *testing.T) {
	for _, typ := range []string{"user", "account", "operator", "server", "cluster", "curve"} {
		out, err := runCLI(t, "", "nkey", "gen", typ, "--pubout")
		if err != nil {
			t.Fatalf("gen %s: %v", typ, err)
		}
		lines := strings.Fields(out)
		if len(lines) != 2 || lines[0][0] != 'S' {
			t.Fatalf("gen %s printed %q", typ, out)
		}
		kp, err := nkeys.FromSeed([]byte(lines[0]))
		if err != nil {
			t.Fatalf("gen %s: seed does not parse: %v", typ, err)
		}
		pub, _ := kp.PublicKey()
		if pub != lines[1] {
			t.Fatalf("gen %s: public key %q, seed's is %q", typ, lines[1], pub)
		}
		got, err := runCLI(t, lines[0]+"\n", "nkey", "pub")
		if err != nil || strings.TrimSpace(got) != pub {
			t.Fatalf("pub of %s seed: %q %v", typ, got, err)
		}
	}
	seed, _ := runCLI(t, "", "nkey", "gen", "user")
	seed = strings.TrimSpace(seed)
	kp, _ := nkeys.FromSeed([]byte(seed))
	pub, _ := kp.PublicKey()
	sig, err := runCLI(t, "nonce-123", "nkey", "sign", "--key", seed)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(sig))
	if err != nil || kp.Verify([]byte("nonce-123"), raw) != nil {
		t.Fatalf("signature %q does not verify: %v", sig, err)
	}
	if out, err := runCLI(t, "nonce-123", "nkey", "verify", "--key", pub, "--sig", strings.TrimSpace(sig)); err != nil || out != "Verified OK\n" {
		t.Fatalf("verify: %q %v", out, err)
	}
	_, err = runCLI(t, "nonce-124", "nkey", "verify", "--key", pub, "--sig", strings.TrimSpace(sig))
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("verify of other data: %v, want exit 1", err)
	}
	if _, err := runCLI(t, "x", "nkey", "sign", "--key", pub); err == nil || !strings.Contains(err.Error(), "needs a seed") {
		t.Fatalf("sign with a public key: %v", err)
	}
}

func TestNkey_Files(t *testing.T) {
	dir := t.TempDir()
	seedFile := filepath.Join(dir, "alice.nk")
	out, err := runCLI(t, "", "nkey", "gen", "user", "-o", seedFile)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(seedFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("seed file %v mode %v", err, fi)
	}
	pub := strings.TrimSpace(out)
	if strings.HasPrefix(pub, "S") || !nkeys.IsValidPublicUserKey(pub) {
		t.Fatalf("with -o, stdout should be the public key only: %q", out)
	}
	if _, err := runCLI(t, "", "nkey", "gen", "user", "-o", seedFile); err == nil {
		t.Fatal("gen overwrote an existing seed file")
	}
	got, err := runCLI(t, "", "nkey", "pub", seedFile, "--json")
	var v struct{ PublicKey, Type string }
	if err != nil || json.Unmarshal([]byte(got), &v) != nil {
		t.Fatalf("pub --json: %q %v", got, err)
	}
	if v.Type != "user" {
		t.Fatalf("type %q", v.Type)
	}
	data := filepath.Join(dir, "data")
	os.WriteFile(data, []byte("payload"), 0o600)
	sig, err := runCLI(t, "", "nkey", "sign", data, "--key", seedFile)
	if err != nil {
		t.Fatal(err)
	}
	sigFile := filepath.Join(dir, "data.sig")
	os.WriteFile(sigFile, []byte(sig), 0o600)
	if out, err := runCLI(t, "", "nkey", "verify", data, "--key", seedFile, "--sig", sigFile); err != nil || out != "Verified OK\n" {
		t.Fatalf("verify with files: %q %v", out, err)
	}
	for _, args := range [][]string{
		{"nkey", "gen", "goblin"},
		{"nkey", "pub", filepath.Join(dir, "missing")},
		{"nkey", "sign", data},
		{"nkey", "verify", data, "--key", seedFile},
	} {
		if _, err := runCLI(t, "", args...); err == nil {
			t.Errorf("%v succeeded", args)
		}
	}
}

// TestNkey_SeedAuthenticatesWithServer: a key made by `nkey gen`, with the
// public key from `nkey pub` in the server config, logs nats.go in.
func TestNkey_SeedAuthenticatesWithServer(t *testing.T) {
	seedFile := filepath.Join(t.TempDir(), "u.nk")
	pub, err := runCLI(t, "", "nkey", "gen", "user", "-o", seedFile)
	if err != nil {
		t.Fatal(err)
	}
	s := servertest.Run(t, func(o *server.Options) { o.Auth.Users = []server.User{{Nkey: strings.TrimSpace(pub)}} })
	opt, err := nats.NkeyOptionFromSeed(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(s.ClientURL(), opt)
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
}

func TestPasswd(t *testing.T) {
	for _, tc := range []struct{ stdin, arg string }{{"", "hunter2"}, {"hunter2\nignored\n", ""}} {
		args := []string{"passwd", "--cost", "4"}
		if tc.arg != "" {
			args = append(args, tc.arg)
		}
		out, err := runCLI(t, tc.stdin, args...)
		if err != nil {
			t.Fatal(err)
		}
		h := strings.TrimSpace(out)
		if !strings.HasPrefix(h, "$2a$04$") || bcrypt.CompareHashAndPassword([]byte(h), []byte("hunter2")) != nil {
			t.Fatalf("hash %q", h)
		}
	}
	if _, err := runCLI(t, "", "passwd"); err == nil {
		t.Fatal("empty password accepted")
	}
}
