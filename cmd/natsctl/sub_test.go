package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/client"
)

func TestSubFormats(t *testing.T) {
	eachServer(t, func(t *testing.T, url string) {
		pub, err := client.Connect(context.Background(), client.Options{Servers: []string{url}})
		if err != nil {
			t.Fatal(err)
		}
		defer pub.Close()
		send := func() {
			t.Helper()
			if err := pub.PublishMsg(&client.Msg{Subject: "f.a", Reply: "r", Header: client.Header{"K": {"v"}}, Data: []byte("text")}); err != nil {
				t.Fatal(err)
			}
			if err := pub.PublishMsg(&client.Msg{Subject: "f.b", Data: []byte{0xff, 0x00}}); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			name  string
			o     subOptions
			check func(t *testing.T, out string)
		}{
			{"plain", subOptions{}, func(t *testing.T, out string) {
				want := "[#1] Received on \"f.a\" with reply \"r\"\nK: v\n\ntext\n\n[#2] Received on \"f.b\"\n\xff\x00\n\n"
				if out != want {
					t.Fatalf("got %q\nwant %q", out, want)
				}
			}},
			{"headers-only", subOptions{HeadersOnly: true}, func(t *testing.T, out string) {
				if strings.Contains(out, "text") || !strings.Contains(out, "K: v") {
					t.Fatalf("got %q", out)
				}
			}},
			{"json", subOptions{JSON: true}, func(t *testing.T, out string) {
				lines := strings.Split(strings.TrimSpace(out), "\n")
				if len(lines) != 2 {
					t.Fatalf("got %q", out)
				}
				var a, b jsonMsg
				if json.Unmarshal([]byte(lines[0]), &a) != nil || json.Unmarshal([]byte(lines[1]), &b) != nil {
					t.Fatalf("not JSON lines: %q", out)
				}
				if a.Subject != "f.a" || a.Reply != "r" || *a.Data != "text" || a.Headers["K"][0] != "v" || a.Received.IsZero() {
					t.Fatalf("first %+v", a)
				}
				raw, _ := base64.StdEncoding.DecodeString(b.DataBase64)
				if b.Data != nil || string(raw) != "\xff\x00" {
					t.Fatalf("binary body %+v", b)
				}
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ios, out, errOut := asyncIO()
				o := tc.o
				o.IO, o.Connect, o.Subjects, o.Count = ios, connectTo(url), []string{"f.*"}, 2
				done := goRun(func() error { return runSub(context.Background(), &o) })
				errOut.waitFor(t, "Subscribed")
				send()
				if err := wait(t, done); err != nil {
					t.Fatal(err)
				}
				tc.check(t, out.String())
			})
		}
	})
}

func TestSubWaitAndCancel(t *testing.T) {
	eachServer(t, func(t *testing.T, url string) {
		ios, _, _ := asyncIO()
		err := wait(t, goRun(func() error {
			return runSub(context.Background(), &subOptions{IO: ios, Connect: connectTo(url), Subjects: []string{"quiet"}, Wait: 50 * time.Millisecond})
		}))
		if err != nil {
			t.Fatalf("--wait: %v", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		ios, _, errOut := asyncIO()
		done := goRun(func() error {
			return runSub(ctx, &subOptions{IO: ios, Connect: connectTo(url), Subjects: []string{"quiet"}, Queue: "q"})
		})
		errOut.waitFor(t, "Subscribed")
		cancel() // Ctrl-C
		if err := wait(t, done); err != nil {
			t.Fatalf("cancel: %v", err)
		}
	})
}

func TestSubBadInput(t *testing.T) {
	ios, _, _ := asyncIO()
	for _, tc := range []struct {
		o    subOptions
		want string
	}{
		{subOptions{Subjects: []string{"a..b"}}, `invalid subject "a..b"`},
		{subOptions{Subjects: []string{"a.>.b"}}, `invalid subject`},
		{subOptions{Subjects: []string{"a"}, Queue: "x y"}, `bad queue group`},
	} {
		o := tc.o
		o.IO = ios
		err := runSub(context.Background(), &o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v", tc.o, err)
		}
	}
}
