package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConsumerCommands(t *testing.T) {
	for name, url := range jsTargets(t) {
		t.Run(name, func(t *testing.T) {
			r := runner{t, url}
			r.ok("stream", "add", "ORD", "--subjects", "ord.>")
			for i := 1; i <= 3; i++ {
				r.ok("req", "ord.new", fmt.Sprint(i))
			}
			r.ok("req", "ord.old", "old")
			out := r.ok("consumer", "add", "ORD", "w", "--filter", "ord.new", "--max-deliver", "5")
			if !strings.Contains(out, "Filter: ord.new") || !strings.Contains(out, "Pending: 3") {
				t.Fatalf("add: %s", out)
			}
			r.fails("no consumer nope", "consumer", "info", "ORD", "nope")
			if out := r.ok("consumer", "next", "ORD", "w", "--count", "2", "--raw"); out != "1\n2\n" {
				t.Fatalf("next: %q", out)
			}
			var ci struct {
				NumPending    int `json:"num_pending"`
				NumAckPending int `json:"num_ack_pending"`
				Config        struct {
					MaxAckPending int    `json:"max_ack_pending"`
					Description   string `json:"description"`
				} `json:"config"`
			}
			waitFor(t, func() bool {
				_ = json.Unmarshal([]byte(r.ok("consumer", "info", "ORD", "w", "--json")), &ci)
				return ci.NumPending == 1 && ci.NumAckPending == 0
			})
			// --no-ack leaves the message pending an ack.
			if out := r.ok("consumer", "next", "ORD", "w", "--no-ack", "--json"); !strings.Contains(out, `"data":"3"`) {
				t.Fatalf("next --no-ack --json: %q", out)
			}
			r.ok("consumer", "edit", "ORD", "w", "--max-ack-pending", "7", "--description", "edited")
			if err := json.Unmarshal([]byte(r.ok("consumer", "info", "ORD", "w", "--json")), &ci); err != nil ||
				ci.Config.MaxAckPending != 7 || ci.Config.Description != "edited" || ci.NumAckPending != 1 {
				t.Fatalf("after edit: %+v %v", ci, err)
			}
			// Nothing left to deliver: next reports the shortfall, not an error.
			if _, errOut, err := r.run("", "consumer", "next", "ORD", "w", "--wait", "200ms"); err != nil || !strings.Contains(errOut, "0 of 1") {
				t.Fatalf("next on empty: %v %q", err, errOut)
			}

			// A pull consumer read with sub.
			r.ok("consumer", "add", "ORD", "all")
			if out := r.ok("consumer", "sub", "ORD", "all", "--count", "4", "--raw"); out != "1\n2\n3\nold\n" {
				t.Fatalf("sub pull: %q", out)
			}
			// A push consumer read with sub.
			r.ok("consumer", "add", "ORD", "pushed", "--deliver-subject", "pushed.in", "--heartbeat", "1s", "--flow-control", "--filter", "ord.new")
			if out := r.ok("consumer", "sub", "ORD", "pushed", "--count", "3", "--raw"); out != "1\n2\n3\n" {
				t.Fatalf("sub push: %q", out)
			}
			r.fails("is a push consumer", "consumer", "next", "ORD", "pushed")
			out = r.ok("consumer", "ls", "ORD")
			for _, want := range []string{"all\tpull", "pushed\tpush\tord.new", "w\tpull\tord.new"} {
				if !strings.Contains(out, want) {
					t.Fatalf("ls lacks %q: %s", want, out)
				}
			}
			r.ok("consumer", "rm", "ORD", "w")
			r.fails("no consumer w", "consumer", "info", "ORD", "w")
			r.fails("no stream NOPE", "consumer", "ls", "NOPE")
		})
	}
}

// TestE2EConsumerAndObject: the built binary as a script uses it: a work
// queue drained with `consumer next`, a file through the object store.
func TestE2EConsumerAndObject(t *testing.T) {
	for name, url := range jsBinaryTargets(t) {
		t.Run(name, func(t *testing.T) {
			binary(t, url, "stream", "add", "JOBS", "--subjects", "jobs.>")
			for i := 1; i <= 3; i++ {
				binary(t, url, "req", "jobs.x", fmt.Sprint("job", i))
			}
			binary(t, url, "consumer", "add", "JOBS", "w")
			if out := binary(t, url, "consumer", "next", "JOBS", "w", "--count", "3", "--raw"); out != "job1\njob2\njob3\n" {
				t.Fatalf("consumer next: %q", out)
			}
			var ci struct {
				NumPending    int `json:"num_pending"`
				NumAckPending int `json:"num_ack_pending"`
			}
			if err := json.Unmarshal([]byte(binary(t, url, "consumer", "info", "JOBS", "w", "--json")), &ci); err != nil ||
				ci.NumPending != 0 || ci.NumAckPending != 0 {
				t.Fatalf("after next: %+v %v", ci, err)
			}
			dir := t.TempDir()
			src, dst := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
			if err := os.WriteFile(src, []byte(strings.Repeat("natsctl ", 40000)), 0o600); err != nil {
				t.Fatal(err)
			}
			binary(t, url, "object", "add", "files")
			binary(t, url, "object", "put", "files", src)
			binary(t, url, "object", "get", "files", "in.txt", "-o", dst)
			a, _ := os.ReadFile(src)
			b, _ := os.ReadFile(dst)
			if !bytes.Equal(a, b) {
				t.Fatalf("object round trip: %d bytes in, %d out", len(a), len(b))
			}
		})
	}
}
