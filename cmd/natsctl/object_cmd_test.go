package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestObjectCommands(t *testing.T) {
	for name, url := range jsTargets(t) {
		t.Run(name, func(t *testing.T) {
			r := runner{t, url}
			dir := t.TempDir()
			content := make([]byte, 200*1024+3)
			_, _ = rand.Read(content)
			src := filepath.Join(dir, "blob.bin")
			if err := os.WriteFile(src, content, 0o600); err != nil {
				t.Fatal(err)
			}
			r.ok("object", "add", "files")
			r.ok("object", "put", "files", src, "--description", "random bytes")
			if _, _, err := r.run("hello", "object", "put", "files", "-", "--name", "greeting.txt"); err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(dir, "out.bin")
			r.ok("object", "get", "files", "blob.bin", "-o", dst)
			if got, _ := os.ReadFile(dst); !bytes.Equal(got, content) {
				t.Fatalf("get -o: %d bytes differ", len(got))
			}
			if out := r.ok("object", "get", "files", "greeting.txt"); out != "hello" {
				t.Fatalf("get to stdout: %q", out)
			}
			out := r.ok("object", "ls", "files")
			if !strings.Contains(out, "blob.bin\t200.0 KiB\t2\t") || !strings.Contains(out, "greeting.txt\t5 B\t1\t") {
				t.Fatalf("ls: %q", out)
			}
			var info struct {
				Size   uint64 `json:"size"`
				Digest string `json:"digest"`
			}
			if err := json.Unmarshal([]byte(r.ok("object", "info", "files", "blob.bin", "--json")), &info); err != nil ||
				info.Size != uint64(len(content)) || !strings.HasPrefix(info.Digest, "SHA-256=") {
				t.Fatalf("info: %+v %v", info, err)
			}
			if out := r.ok("object", "watch", "files", "--count", "2"); strings.Count(out, "PUT files > ") != 2 {
				t.Fatalf("watch: %q", out)
			}
			if out := r.ok("object", "ls"); !strings.Contains(out, "files\t") {
				t.Fatalf("ls buckets: %q", out)
			}
			// nats.go reads what the commands stored, and the other way round.
			nc, err := nats.Connect(url)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			js, _ := jetstream.New(nc)
			ob, err := js.ObjectStore(ctxFor(t), "files")
			if err != nil {
				t.Fatal(err)
			}
			if b, err := ob.GetBytes(ctxFor(t), "blob.bin"); err != nil || !bytes.Equal(b, content) {
				t.Fatalf("nats.go get: %v", err)
			}
			if _, err := ob.PutString(ctxFor(t), "theirs", "from nats.go"); err != nil {
				t.Fatal(err)
			}
			if out := r.ok("object", "get", "files", "theirs"); out != "from nats.go" {
				t.Fatalf("get theirs: %q", out)
			}
			r.ok("object", "rm", "files", "blob.bin")
			r.fails("object not found", "object", "get", "files", "blob.bin", "-o", dst)
			if _, err := ob.GetInfo(ctxFor(t), "blob.bin"); err != jetstream.ErrObjectNotFound {
				t.Fatalf("nats.go after rm: %v", err)
			}
			r.ok("object", "rm", "files")
			r.fails("bucket not found", "object", "ls", "files")
		})
	}
}
