package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/iostreams"
)

// startReply runs `reply` on a goroutine until the test ends.
func startReply(t *testing.T, o replyOptions) {
	t.Helper()
	ios, _, errOut := asyncIO()
	o.IO = ios
	ctx, cancel := context.WithCancel(context.Background())
	done := goRun(func() error { return runReply(ctx, &o) })
	errOut.waitFor(t, "Replying on")
	t.Cleanup(func() {
		cancel()
		if err := wait(t, done); err != nil {
			t.Errorf("reply: %v", err)
		}
	})
}

func TestReqReplyCommand(t *testing.T) {
	eachServer(t, func(t *testing.T, url string) {
		startReply(t, replyOptions{Connect: connectTo(url), Subject: "svc", Command: "tr a-z A-Z", Queue: defaultReplyQueue})
		ios, _, out, _ := iostreams.Test()
		err := runReq(context.Background(), &reqOptions{IO: ios, Connect: connectTo(url), Subject: "svc", Body: "hello", HasBody: true, Replies: 1, Count: 1, Raw: true, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if out.String() != "HELLO\n" {
			t.Fatalf("got %q", out.String())
		}
	})
}

func TestReqReplyTemplateEchoAndJSON(t *testing.T) {
	eachServer(t, func(t *testing.T, url string) {
		startReply(t, replyOptions{Connect: connectTo(url), Subject: "tmpl", Body: "#{{.Count}}: {{.Request}}", Queue: defaultReplyQueue})
		startReply(t, replyOptions{Connect: connectTo(url), Subject: "echo", Echo: true})
		ios, _, out, _ := iostreams.Test()
		err := runReq(context.Background(), &reqOptions{IO: ios, Connect: connectTo(url), Subject: "tmpl", Body: "hi {{.Count}}", HasBody: true, Replies: 1, Count: 2, Raw: true, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if out.String() != "#1: hi 1\n#2: hi 2\n" {
			t.Fatalf("got %q", out.String())
		}
		ios, _, out, _ = iostreams.Test()
		err = runReq(context.Background(), &reqOptions{IO: ios, Connect: connectTo(url), Subject: "echo", Body: "ping", HasBody: true, Headers: []string{"X:1"}, Replies: 1, Count: 1, JSON: true, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		var j jsonMsg
		if err := json.Unmarshal([]byte(out.String()), &j); err != nil {
			t.Fatalf("%q: %v", out.String(), err)
		}
		if j.Data == nil || *j.Data != "ping" || j.Headers["X"][0] != "1" || j.Headers["Natsctl-Subject"][0] != "echo" {
			t.Fatalf("echo reply %+v", j)
		}
	})
}

func TestReqMultipleReplies(t *testing.T) {
	eachServer(t, func(t *testing.T, url string) {
		startReply(t, replyOptions{Connect: connectTo(url), Subject: "all", Body: "a"})
		startReply(t, replyOptions{Connect: connectTo(url), Subject: "all", Body: "b"})
		ios, _, out, _ := iostreams.Test()
		err := runReq(context.Background(), &reqOptions{IO: ios, Connect: connectTo(url), Subject: "all", HasBody: true, Replies: 2, Count: 1, Raw: true, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if got := out.String(); got != "a\nb\n" && got != "b\na\n" {
			t.Fatalf("got %q", got)
		}
	})
}

func TestReqErrors(t *testing.T) {
	eachServer(t, func(t *testing.T, url string) {
		nc, err := client.Connect(context.Background(), client.Options{Servers: []string{url}})
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		if _, err := nc.Subscribe("silent", func(*client.Msg) {}); err != nil {
			t.Fatal(err)
		}
		if err := nc.FlushTimeout(5 * time.Second); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			subject, want string
			replies       int
		}{
			{"nobody", `no responders on "nobody"`, 1},
			{"nobody", `no responders on "nobody"`, 3},
			{"silent", `no reply on "silent" within 100ms`, 1},
			{"silent", `no reply on "silent" within 100ms`, 2},
		} {
			ios, _, _, _ := iostreams.Test()
			err := runReq(context.Background(), &reqOptions{IO: ios, Connect: connectTo(url), Subject: tc.subject, HasBody: true, Replies: tc.replies, Count: 1, Timeout: 100 * time.Millisecond})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s replies=%d: %v, want %q", tc.subject, tc.replies, err, tc.want)
			}
		}
	})
}

func TestReplyCount(t *testing.T) {
	eachServer(t, func(t *testing.T, url string) {
		ios, _, errOut := asyncIO()
		done := goRun(func() error {
			return runReply(context.Background(), &replyOptions{IO: ios, Connect: connectTo(url), Subject: "once", Body: "x", Count: 1, Queue: defaultReplyQueue})
		})
		errOut.waitFor(t, "Replying on")
		rios, _, out, _ := iostreams.Test()
		if err := runReq(context.Background(), &reqOptions{IO: rios, Connect: connectTo(url), Subject: "once", HasBody: true, Replies: 1, Count: 1, Raw: true, Timeout: 5 * time.Second}); err != nil {
			t.Fatal(err)
		}
		if err := wait(t, done); err != nil {
			t.Fatal(err)
		}
		if out.String() != "x\n" {
			t.Fatalf("got %q", out.String())
		}
	})
}
