package main

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/iostreams"
)

func TestPubFlags(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	var got *pubOptions
	cmd := newPubCmd(&deps{IO: ios}, func(_ context.Context, o *pubOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"subj", "body", "-H", "a:1", "-H", "b:2", "--reply", "r", "-n", "3", "--sleep", "1ms", "--quiet"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	want := []string{"a:1", "b:2"}
	if got.Subject != "subj" || got.Body != "body" || !got.HasBody || !reflect.DeepEqual(got.Headers, want) ||
		got.Reply != "r" || got.Count != 3 || got.Sleep != time.Millisecond || !got.Quiet {
		t.Fatalf("%+v", got)
	}
}

func TestPubSubCommands(t *testing.T) {
	eachServer(t, func(t *testing.T, url string) {
		sios, out, serr := asyncIO()
		ctx := context.Background()
		subDone := goRun(func() error {
			return runSub(ctx, &subOptions{IO: sios, Connect: connectTo(url), Subjects: []string{"foo"}, Count: 3, Raw: true})
		})
		serr.waitFor(t, "Subscribed")

		pios, _, _, perr := iostreams.Test()
		err := runPub(ctx, &pubOptions{IO: pios, Connect: connectTo(url), Subject: "foo", Body: "msg {{.Count}}", HasBody: true, Count: 3})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(perr.String(), "Published 3 messages") {
			t.Fatalf("confirmation %q", perr.String())
		}
		if err := wait(t, subDone); err != nil {
			t.Fatal(err)
		}
		if got := out.String(); got != "msg 1\nmsg 2\nmsg 3\n" {
			t.Fatalf("sub printed %q", got)
		}
	})
}

func TestPubStdinLinesAndTemplates(t *testing.T) {
	eachServer(t, func(t *testing.T, url string) {
		sios, out, serr := asyncIO()
		subDone := goRun(func() error {
			return runSub(context.Background(), &subOptions{IO: sios, Connect: connectTo(url), Subjects: []string{"lines.>"}, Count: 4, Raw: true})
		})
		serr.waitFor(t, "Subscribed")
		ios, in, _, errOut := iostreams.Test()
		in.WriteString("one\ntwo\n")
		if err := runPub(context.Background(), &pubOptions{IO: ios, Connect: connectTo(url), Subject: "lines.{{.Count}}", Lines: true, Count: 1}); err != nil {
			t.Fatal(err)
		}
		ios, in, _, _ = iostreams.Test()
		in.WriteString("whole body")
		if err := runPub(context.Background(), &pubOptions{IO: ios, Connect: connectTo(url), Subject: "lines.x", Count: 1, Quiet: true}); err != nil {
			t.Fatal(err)
		}
		ios, _, _, _ = iostreams.Test()
		if err := runPub(context.Background(), &pubOptions{IO: ios, Connect: connectTo(url), Subject: "lines.r", Body: "{{Random 5 5}}|{{.Unix}}|{{.ID}}", HasBody: true, Count: 1, Quiet: true}); err != nil {
			t.Fatal(err)
		}
		if err := wait(t, subDone); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != 4 || lines[0] != "one" || lines[1] != "two" || lines[2] != "whole body" {
			t.Fatalf("got %q", lines)
		}
		parts := strings.Split(lines[3], "|")
		if len(parts) != 3 || len(parts[0]) != 5 || len(parts[1]) < 10 || len(parts[2]) != 22 {
			t.Fatalf("template output %q", lines[3])
		}
		if !strings.Contains(errOut.String(), "Published 2 messages") {
			t.Fatalf("confirmation %q", errOut.String())
		}
	})
}

func TestPubBadInput(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	for _, tc := range []struct {
		o    pubOptions
		want string
	}{
		{pubOptions{Subject: "a b", HasBody: true, Count: 1}, `invalid subject "a b"`},
		{pubOptions{Subject: "a.*", HasBody: true, Count: 1}, "wildcards"},
		{pubOptions{Subject: "a", HasBody: true, Count: 1, Headers: []string{"nocolon"}}, `bad header "nocolon"`},
		{pubOptions{Subject: "a", HasBody: true, Count: 0}, "--count"},
		{pubOptions{Subject: "a", Body: "{{.Nope", HasBody: true, Count: 1}, "bad template"},
		{pubOptions{Subject: "a", HasBody: true, Count: 1, Reply: "x y"}, "--reply"},
	} {
		o := tc.o
		o.IO = ios
		o.Connect = nil // a nil Connect panics: input errors come first
		err := runPub(context.Background(), &o)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: err %v, want one line containing %q", tc.o, err, tc.want)
		}
	}
}
