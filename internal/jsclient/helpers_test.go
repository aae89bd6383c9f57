package jsclient

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/natsservertest"
	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
	"github.com/natsctl/natsctl/internal/streaming"
)

// servers returns client URLs of our server and (without -short) of
// nats-server, both with JetStream.
func servers(t *testing.T) map[string]string {
	t.Helper()
	ours := servertest.Run(t, func(o *server.Options) {
		o.Engine = streaming.New(streaming.Config{StoreDir: t.TempDir()})
	})
	m := map[string]string{"natsctl": ours.ClientURL()}
	if !testing.Short() {
		m["nats-server"] = natsservertest.Start(t, "-js", "-sd", filepath.Join(t.TempDir(), "js")).ClientURL
	}
	return m
}

// forEachServer runs f as a subtest against each server with a connected
// JS context.
func forEachServer(t *testing.T, f func(t *testing.T, ctx context.Context, js *JS)) {
	for name, url := range servers(t) {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			nc, err := client.Connect(ctx, client.Options{Servers: []string{url}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(nc.Close)
			f(t, ctx, New(nc))
		})
	}
}

func mustStream(t *testing.T, ctx context.Context, js *JS, name string, subjects ...string) {
	t.Helper()
	cfg := StreamConfig{Name: name, Subjects: subjects, MaxMsgs: -1, MaxBytes: -1, MaxMsgsPerSubject: -1, MaxMsgSize: -1, MaxConsumers: -1, Replicas: 1, Compression: "none"}
	if _, _, err := js.CreateStream(ctx, name, cfg); err != nil {
		t.Fatal(err)
	}
}

func mustPublish(t *testing.T, ctx context.Context, js *JS, subj, body string) *PubAck {
	t.Helper()
	a, err := js.Publish(ctx, &client.Msg{Subject: subj, Data: []byte(body)})
	if err != nil {
		t.Fatal(err)
	}
	return a
}
