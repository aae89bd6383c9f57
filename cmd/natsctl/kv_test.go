package main

import (
	"encoding/json"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestKVCommands(t *testing.T) {
	for name, url := range jsTargets(t) {
		t.Run(name, func(t *testing.T) {
			r := runner{t, url}
			if out := r.ok("kv", "add", "cfg", "--history", "3"); !strings.Contains(out, "History: 3") {
				t.Fatalf("add: %s", out)
			}
			r.ok("kv", "put", "cfg", "db.url", "postgres://a")
			r.ok("kv", "put", "cfg", "db.url", "postgres://b")
			if _, _, err := r.run("from stdin\n", "kv", "put", "cfg", "motd"); err != nil {
				t.Fatal(err)
			}
			if out := r.ok("kv", "get", "cfg", "db.url", "--raw"); out != "postgres://b" {
				t.Fatalf("get --raw: %q", out)
			}
			if out := r.ok("kv", "get", "cfg", "motd", "--raw"); out != "from stdin\n" {
				t.Fatalf("get motd: %q", out)
			}
			var e struct {
				Value    string `json:"value"`
				Revision uint64 `json:"revision"`
			}
			if err := json.Unmarshal([]byte(r.ok("kv", "get", "cfg", "db.url", "--json")), &e); err != nil || e.Value != "postgres://b" || e.Revision != 2 {
				t.Fatalf("get --json: %+v %v", e, err)
			}
			if out := r.ok("kv", "ls", "cfg"); out != "db.url\nmotd\n" {
				t.Fatalf("ls cfg: %q", out)
			}
			if out := r.ok("kv", "ls"); !strings.Contains(out, "cfg\t") {
				t.Fatalf("ls: %q", out)
			}
			r.ok("kv", "del", "cfg", "motd")
			r.fails("key not found", "kv", "get", "cfg", "motd")
			out := r.ok("kv", "history", "cfg", "db.url")
			if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 || !strings.Contains(lines[2], "postgres://b") {
				t.Fatalf("history: %q", out)
			}
			if out := r.ok("kv", "watch", "cfg", "--count", "1", "--raw"); out != "postgres://b\n" {
				t.Fatalf("watch: %q", out)
			}
			r.ok("kv", "purge", "cfg", "db.url")
			if out := r.ok("kv", "history", "cfg", "db.url", "--json"); strings.Count(out, "\n") != 1 || !strings.Contains(out, `"PURGE"`) {
				t.Fatalf("history after purge: %q", out)
			}
			var st map[string]any
			if err := json.Unmarshal([]byte(r.ok("kv", "status", "cfg", "--json")), &st); err != nil || st["history"] != 3.0 {
				t.Fatalf("status: %v %v", st, err)
			}
			// nats.go sees what the commands wrote, and the commands what it writes.
			nc, err := nats.Connect(url)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			js, _ := jetstream.New(nc)
			kv, err := js.KeyValue(ctxFor(t), "cfg")
			if err != nil {
				t.Fatal(err)
			}
			r.ok("kv", "put", "cfg", "ours", "1")
			if e, err := kv.Get(ctxFor(t), "ours"); err != nil || string(e.Value()) != "1" {
				t.Fatalf("nats.go get: %v", err)
			}
			if _, err := kv.Put(ctxFor(t), "theirs", []byte("2")); err != nil {
				t.Fatal(err)
			}
			if out := r.ok("kv", "get", "cfg", "theirs", "--raw"); out != "2" {
				t.Fatalf("get theirs: %q", out)
			}
			r.ok("kv", "rm", "cfg")
			r.fails("bucket not found", "kv", "get", "cfg", "ours")
			r.fails("bad key", "kv", "put", "cfg", ".bad", "x")
		})
	}
}

// TestE2EKV: `natsctl kv put b k v` then `natsctl kv get b k --raw` prints v.
func TestE2EKV(t *testing.T) {
	for name, url := range jsBinaryTargets(t) {
		t.Run(name, func(t *testing.T) {
			binary(t, url, "kv", "add", "b")
			binary(t, url, "kv", "put", "b", "k", "v")
			if out := binary(t, url, "kv", "get", "b", "k", "--raw"); out != "v" {
				t.Fatalf("get --raw printed %q", out)
			}
		})
	}
}

// TestKVCreateUpdateRevision: create writes only a new (or deleted) key,
// update only at the key's current revision, and get --revision reads an
// older value; nats.go's KV agrees on what they wrote.
func TestKVCreateUpdateRevision(t *testing.T) {
	for name, url := range jsTargets(t) {
		t.Run(name, func(t *testing.T) {
			r := runner{t, url}
			r.ok("kv", "add", "cas", "--history", "5")
			var w struct {
				Revision uint64 `json:"revision"`
			}
			if err := json.Unmarshal([]byte(r.ok("kv", "create", "cas", "lock", "a", "--json")), &w); err != nil || w.Revision != 1 {
				t.Fatalf("create --json: %+v %v", w, err)
			}
			r.fails("has a value (revision 1)", "kv", "create", "cas", "lock", "b")
			if out := r.ok("kv", "get", "cas", "lock", "--raw"); out != "a" {
				t.Fatalf("after a refused create: %q", out)
			}

			r.fails("is at revision 1, not 7", "kv", "update", "cas", "lock", "b", "7")
			r.ok("kv", "update", "cas", "lock", "b", "1")
			r.fails("is at revision 2, not 1", "kv", "update", "cas", "lock", "c", "1")
			if _, _, err := r.run("from stdin", "kv", "update", "cas", "lock", "2"); err != nil {
				t.Fatalf("update from stdin: %v", err)
			}
			if out := r.ok("kv", "get", "cas", "lock", "--raw"); out != "from stdin" {
				t.Fatalf("after updates: %q", out)
			}
			r.fails("has no revision", "kv", "update", "cas", "nokey", "x", "1")
			r.fails("bad revision", "kv", "update", "cas", "lock", "x", "latest")

			// Older revisions, by number.
			if out := r.ok("kv", "get", "cas", "lock", "--revision", "1", "--raw"); out != "a" {
				t.Fatalf("get --revision 1: %q", out)
			}
			var e struct {
				Value    string `json:"value"`
				Revision uint64 `json:"revision"`
			}
			if err := json.Unmarshal([]byte(r.ok("kv", "get", "cas", "lock", "--revision", "2", "--json")), &e); err != nil || e.Value != "b" || e.Revision != 2 {
				t.Fatalf("get --revision 2 --json: %+v %v", e, err)
			}
			r.ok("kv", "put", "cas", "other", "x") // revision 4
			r.fails("not of key lock", "kv", "get", "cas", "lock", "--revision", "4")
			r.fails("is not stored", "kv", "get", "cas", "lock", "--revision", "99")

			// A deleted key can be created again; its delete marker is not a value.
			r.ok("kv", "del", "cas", "lock") // revision 5
			r.fails("DEL marker", "kv", "get", "cas", "lock", "--revision", "5")
			if err := json.Unmarshal([]byte(r.ok("kv", "create", "cas", "lock", "again", "--json")), &w); err != nil || w.Revision != 6 {
				t.Fatalf("create over a delete: %+v %v", w, err)
			}
			if _, _, err := r.run("piped", "kv", "create", "cas", "fromstdin"); err != nil {
				t.Fatalf("create from stdin: %v", err)
			}

			// nats.go sees the same revisions, and its Update/Create obey ours.
			nc, err := nats.Connect(url)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			js, _ := jetstream.New(nc)
			kv, err := js.KeyValue(ctxFor(t), "cas")
			if err != nil {
				t.Fatal(err)
			}
			if e, err := kv.Get(ctxFor(t), "fromstdin"); err != nil || string(e.Value()) != "piped" {
				t.Fatalf("nats.go get: %v", err)
			}
			if _, err := kv.Create(ctxFor(t), "lock", []byte("theirs")); err == nil {
				t.Fatal("nats.go created over a value natsctl created")
			}
			rev, err := kv.Update(ctxFor(t), "lock", []byte("theirs"), 6)
			if err != nil {
				t.Fatal(err)
			}
			r.ok("kv", "update", "cas", "lock", "ours", strconv.FormatUint(rev, 10))
			if e, err := kv.Get(ctxFor(t), "lock"); err != nil || string(e.Value()) != "ours" {
				t.Fatalf("nats.go after natsctl update: %v", err)
			}
		})
	}
}

// TestE2EKVCreateExit: as a script sees it, a second create of a key
// exits non-zero and says why.
func TestE2EKVCreateExit(t *testing.T) {
	for name, url := range jsBinaryTargets(t) {
		t.Run(name, func(t *testing.T) {
			binary(t, url, "kv", "add", "locks")
			binary(t, url, "kv", "create", "locks", "job", "w1")
			cmd := cli(t, url, "kv", "create", "locks", "job", "w2")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() == 0 || !strings.Contains(stderr.String(), "has a value") {
				t.Fatalf("second create: %v, stderr %q", err, stderr.String())
			}
			if out := binary(t, url, "kv", "get", "locks", "job", "--raw"); out != "w1" {
				t.Fatalf("value after a refused create: %q", out)
			}
		})
	}
}
