package main

import (
	"encoding/json"
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
