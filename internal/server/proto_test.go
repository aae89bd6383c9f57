package server_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/natsservertest"
	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

// protoCases are exact wire exchanges. Each runs against our server and, as a
// check that the expectation is right, against the reference nats-server
// with the same limits (max_payload 1024).
var protoCases = []struct {
	name   string
	send   []string
	want   string // every byte after INFO
	closed bool   // the server closes after want
}{
	{"ping before connect", []string{"PING\r\n"}, "PONG\r\n", false},
	{"verbose by default", []string{"CONNECT {}\r\n", "SUB foo 1\r\nPUB foo 5\r\nhello\r\nPING\r\n"},
		"+OK\r\n+OK\r\n+OK\r\nMSG foo 1 5\r\nhello\r\nPONG\r\n", false},
	{"quiet", []string{`CONNECT {"verbose":false}` + "\r\nSUB foo 1\r\nPUB foo bar 2\r\nhi\r\nPING\r\n"},
		"MSG foo 1 bar 2\r\nhi\r\nPONG\r\n", false},
	{"empty payload", []string{`CONNECT {"verbose":false}` + "\r\nSUB foo 1\r\nPUB foo 0\r\n\r\nPING\r\n"},
		"MSG foo 1 0\r\n\r\nPONG\r\n", false},
	{"case, tabs and spaces", []string{"connect {\"verbose\":false}\r\nsub\tfoo  q1 \t 1\r\npub   foo\t 2\r\nhi\r\nping  \r\n"},
		"MSG foo 1 2\r\nhi\r\nPONG\r\n", false},
	{"lf only", []string{`CONNECT {"verbose":false}` + "\nPING\n"}, "PONG\r\n", false},
	{"hmsg", []string{`CONNECT {"verbose":false,"headers":true}` + "\r\nSUB foo 1\r\nHPUB foo rep 18 20\r\nNATS/1.0\r\nA: B\r\n\r\nhi\r\nPING\r\n"},
		"HMSG foo 1 rep 18 20\r\nNATS/1.0\r\nA: B\r\n\r\nhi\r\nPONG\r\n", false},
	{"no responders", []string{`CONNECT {"verbose":false,"headers":true,"no_responders":true}` + "\r\nSUB r 1\r\nPUB svc r 2\r\nhi\r\nPING\r\n"},
		"HMSG r 1 35 35\r\nNATS/1.0 503\r\nNats-Subject: svc\r\n\r\n\r\nPONG\r\n", false},
	{"queue group", []string{`CONNECT {"verbose":false}` + "\r\nSUB foo q 1\r\nSUB foo q 2\r\nSUB foo 3\r\nPUB foo 1\r\na\r\nPING\r\n"},
		"", false}, // checked separately: one of sid 1/2 plus sid 3
	{"unsub max", []string{"CONNECT {}\r\n", "SUB foo 1\r\nUNSUB 1 1\r\nPUB foo 1\r\na\r\nPUB foo 1\r\nb\r\nPING\r\n"},
		"+OK\r\n+OK\r\n+OK\r\n+OK\r\nMSG foo 1 1\r\na\r\n+OK\r\nPONG\r\n", false},
	{"unsub unknown sid", []string{"CONNECT {}\r\n", "UNSUB 99\r\nPING\r\n"}, "+OK\r\n+OK\r\nPONG\r\n", false},
	{"duplicate sid ignored", []string{`CONNECT {"verbose":false}` + "\r\nSUB foo 1\r\nSUB bar 1\r\nPUB foo 1\r\na\r\nPUB bar 1\r\nb\r\nPING\r\n"},
		"MSG foo 1 1\r\na\r\nPONG\r\n", false},
	{"echo off", []string{`CONNECT {"verbose":false,"echo":false}` + "\r\nSUB foo 1\r\nPUB foo 1\r\na\r\nPING\r\n"}, "PONG\r\n", false},
	{"client +OK and INFO ignored", []string{`CONNECT {"verbose":false}` + "\r\n+OK\r\nINFO {}\r\nPING\r\n"}, "PONG\r\n", false},
	{"pedantic publish subject", []string{`CONNECT {"pedantic":true}` + "\r\n", "PUB foo..bar 2\r\nhi\r\nPING\r\n"},
		"+OK\r\n-ERR 'Invalid Publish Subject'\r\n+OK\r\nPONG\r\n", false},
	{"pedantic wildcard publish", []string{`CONNECT {"pedantic":true,"verbose":false}` + "\r\nPUB foo.* 2\r\nhi\r\nPING\r\n"},
		"-ERR 'Invalid Publish Subject'\r\nPONG\r\n", false},
	{"non-pedantic bad subject", []string{`CONNECT {"pedantic":false,"verbose":false}` + "\r\nSUB foo 1\r\nPUB foo..bar 2\r\nhi\r\nPING\r\n"},
		"PONG\r\n", false},
	{"invalid subscription subject", []string{"CONNECT {}\r\n", "SUB foo..bar 1\r\nPING\r\n"},
		"+OK\r\n-ERR 'Invalid Subject'\r\nPONG\r\n", false},
	{"unknown op", []string{"CONNECT {}\r\n", "FOO bar\r\n"}, "+OK\r\n-ERR 'Unknown Protocol Operation'\r\n", true},
	{"empty line", []string{`CONNECT {"verbose":false}` + "\r\n\r\n"}, "-ERR 'Unknown Protocol Operation'\r\n", true},
	{"max payload", []string{`CONNECT {"verbose":false}` + "\r\nPUB foo 2000\r\n"}, "-ERR 'Maximum Payload Violation'\r\n", true},
	{"max control line", []string{`CONNECT {"verbose":false}` + "\r\nSUB " + strings.Repeat("a", 5000) + " 1\r\n"},
		"-ERR 'maximum control line exceeded'\r\n", true},
	{"max control line unterminated", []string{`CONNECT {"verbose":false}` + "\r\nPUB " + strings.Repeat("a", 5000)},
		"-ERR 'maximum control line exceeded'\r\n", true},
	{"non-numeric size", []string{`CONNECT {"verbose":false}` + "\r\nSUB foo 1\r\nPUB foo abc\r\nabc\r\n"}, "", true},
	{"negative size", []string{`CONNECT {"verbose":false}` + "\r\nSUB foo 1\r\nPUB foo -1\r\n"}, "", true},
	{"missing size", []string{`CONNECT {"verbose":false}` + "\r\nSUB foo 1\r\nPUB foo\r\n"}, "", true},
	{"payload longer than declared", []string{`CONNECT {"verbose":false}` + "\r\nSUB foo 1\r\nPUB foo 2\r\nhello\r\n"},
		"-ERR 'Unknown Protocol Operation'\r\n", true},
	{"too many pub args", []string{`CONNECT {"verbose":false}` + "\r\nPUB foo bar baz 1\r\na\r\n"}, "", true},
	{"hpub header larger than total", []string{`CONNECT {"verbose":false,"headers":true}` + "\r\nHPUB foo 30 10\r\n"}, "", true},
	{"hpub without headers", []string{`CONNECT {"verbose":false,"headers":false}` + "\r\nHPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"}, "", true},
	{"bad connect json", []string{"CONNECT {bad\r\n"}, "", true},
	{"no responders without headers", []string{`CONNECT {"no_responders":true,"verbose":false}` + "\r\n"},
		"-ERR 'no responders requires headers support'\r\n", true},
	{"client -ERR", []string{`CONNECT {"verbose":false}` + "\r\n-ERR 'x'\r\n"}, "", true},
}

func TestProto_Wire(t *testing.T) {
	targets := map[string]func(t *testing.T) string{
		"natsctl": func(t *testing.T) string {
			return servertest.Run(t, func(o *server.Options) { o.MaxPayload = 1024 }).Addr().String()
		},
		"nats-server": func(t *testing.T) string {
			conf := filepath.Join(t.TempDir(), "s.conf")
			os.WriteFile(conf, []byte("max_payload: 1024\n"), 0o600)
			p := natsservertest.Start(t, "-c", conf)
			return strings.TrimPrefix(p.ClientURL, "nats://")
		},
	}
	for name, start := range targets {
		t.Run(name, func(t *testing.T) {
			if name == "nats-server" && testing.Short() {
				t.Skip("reference comparison skipped in -short")
			}
			addr := start(t)
			for _, tc := range protoCases {
				t.Run(tc.name, func(t *testing.T) {
					rc := dialAddr(t, addr)
					for _, s := range tc.send {
						rc.send(s)
					}
					if tc.name == "queue group" {
						got := rc.line()
						if got != "MSG foo 1 1\r\n" && got != "MSG foo 2 1\r\n" && got != "MSG foo 3 1\r\n" {
							t.Fatalf("got %q", got)
						}
						rc.expect("a\r\n")
						rest := rc.line() + rc.line()
						rest += rc.line()
						if strings.Count(rest+got, "MSG foo ") != 2 || !strings.HasSuffix(rest, "PONG\r\n") {
							t.Fatalf("queue group delivery: %q", got+rest)
						}
						return
					}
					if tc.closed {
						if got := rc.expectClosed(); got != tc.want {
							t.Fatalf("got %q before close, want %q", got, tc.want)
						}
						return
					}
					rc.expect(tc.want)
					rc.expectOpen()
				})
			}
		})
	}
}

func TestProto_Info(t *testing.T) {
	s := servertest.Run(t, func(o *server.Options) { o.ServerName = "n1"; o.MaxPayload = 2048 })
	rc := dialRaw(t, s)
	body := strings.TrimSuffix(strings.TrimPrefix(rc.info, "INFO "), " \r\n")
	var info map[string]any
	if err := json.Unmarshal([]byte(body), &info); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"server_name": "n1", "version": server.ProtocolVersion, "proto": float64(1), "host": "127.0.0.1",
		"port": float64(s.Addr().Port), "headers": true, "max_payload": float64(2048), "client_ip": "127.0.0.1",
	}
	for k, v := range want {
		if info[k] != v {
			t.Errorf("INFO %s = %v, want %v", k, info[k], v)
		}
	}
	if id, _ := info["server_id"].(string); len(id) != 56 || id[0] != 'N' {
		t.Errorf("server_id %q is not a server nkey", id)
	}
	if _, ok := info["client_id"].(float64); !ok {
		t.Errorf("no client_id in %s", body)
	}
	// Key order as nats-server sends it.
	order := []string{"server_id", "server_name", "version", "proto", "go", "host", "port", "headers", "max_payload", "client_id", "client_ip"}
	last := -1
	for _, k := range order {
		i := strings.Index(body, `"`+k+`"`)
		if i < last {
			t.Errorf("INFO field %s out of nats-server's order: %s", k, body)
		}
		last = i
	}
}

func TestProto_RandomBytesCloseOnlyThatSocket(t *testing.T) {
	s := servertest.Run(t)
	good := dialRaw(t, s)
	good.send(`CONNECT {"verbose":false}` + "\r\nSUB x 1\r\nPING\r\n")
	good.expect("PONG\r\n")
	junk := make([]byte, 64*1024)
	for i := range junk {
		junk[i] = byte(i*7919 + i>>3) // deterministic noise
	}
	for round := 0; round < 5; round++ {
		bad := dialRaw(t, s)
		bad.c.Write(junk[round:])
		bad.expectClosed()
	}
	other := dialRaw(t, s)
	other.send(`CONNECT {"verbose":false}` + "\r\nPUB x 2\r\nok\r\nPING\r\n")
	other.expect("PONG\r\n")
	good.expect("MSG x 1 2\r\nok\r\n")
	good.expectOpen()
	deadline := time.Now().Add(5 * time.Second)
	for s.NumConns() != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("server holds %d connections, want 2", s.NumConns())
		}
		time.Sleep(time.Millisecond)
	}
}
