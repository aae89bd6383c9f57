package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestMain points the default store directory (streaming is on by default)
// at a temporary directory, so tests never write under the user's home.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "natsctl-data")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_DATA_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

func TestServeConfig_JetStream(t *testing.T) {
	cfg, err := parseServe(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.JetStream || cfg.StoreDir != "" || cfg.SyncInterval != "always" {
		t.Fatalf("defaults: jetstream %v store_dir %q sync %q", cfg.JetStream, cfg.StoreDir, cfg.SyncInterval)
	}
	cfg, err = parseServe(t, nil, "--jetstream=false", "--store_dir", "/x", "--max_file_store", "1GB", "--sync_interval", "2m")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.JetStream || cfg.StoreDir != "/x" || cfg.MaxFileStore != 1<<30 || cfg.SyncInterval != "2m" {
		t.Fatalf("flags: %+v", cfg)
	}
	conf := writeFile(t, "js.conf", "jetstream {\n  store_dir: \"/data/js\"\n  max_mem: 1GB\n  max_file_store: 10GB\n  sync_interval: always\n}\n")
	cfg, err = parseServe(t, nil, "-c", conf)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.JetStream || cfg.StoreDir != "/data/js" || cfg.MaxMemStore != 1<<30 || cfg.MaxFileStore != 10<<30 {
		t.Fatalf("jetstream block: %+v", cfg)
	}
	conf = writeFile(t, "off.conf", "jetstream: disabled\n")
	if cfg, err = parseServe(t, nil, "-c", conf); err != nil || cfg.JetStream {
		t.Fatalf("jetstream: disabled: %v %v", cfg.JetStream, err)
	}
	conf = writeFile(t, "js.yaml", "jetstream:\n  store_dir: /y\n")
	if cfg, err = parseServe(t, nil, "-c", conf); err != nil || cfg.StoreDir != "/y" || !cfg.JetStream {
		t.Fatalf("yaml block: %+v %v", cfg, err)
	}
	conf = writeFile(t, "bad.conf", "jetstream {\n  domain: hub\n}\n")
	if _, err := parseServe(t, nil, "-c", conf); err == nil || !strings.Contains(err.Error(), "domain") {
		t.Fatalf("unknown jetstream option: %v", err)
	}
	for _, bad := range []string{"never", "-1s", "0"} {
		if _, err := parseSyncInterval(bad); err == nil {
			t.Errorf("sync_interval %q accepted", bad)
		}
	}
	if d, err := parseSyncInterval("2m"); err != nil || d != 2*time.Minute {
		t.Errorf("sync_interval 2m: %v %v", d, err)
	}
}

func TestServeBinary_StreamsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	p := startServe(t, "--store_dir", dir)
	nc, err := nats.Connect(p.url)
	if err != nil {
		t.Fatal(err)
	}
	if on, _ := nc.ConnectedServerJetStream(); !on {
		t.Fatal("INFO does not advertise jetstream")
	}
	js, _ := jetstream.New(nc)
	ctx := ctxFor(t)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "K", Subjects: []string{"k"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "k", []byte("kept")); err != nil {
		t.Fatal(err)
	}
	nc.Close()

	// A second server on the same directory stops with a clear error.
	out, err := runBinary(t, "serve", "-p", "-1", "--store_dir", dir)
	if err == nil || !strings.Contains(out, "in use") || !strings.Contains(out, dir) {
		t.Fatalf("second server on %s: %v: %s", dir, err, out)
	}

	p.cmd.Process.Kill()
	<-p.done
	p2 := startServe(t, "--store_dir", dir)
	nc2, err := nats.Connect(p2.url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc2.Close()
	js2, _ := jetstream.New(nc2)
	st, err := js2.Stream(ctx, "K")
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.GetMsg(ctx, 1)
	if err != nil || string(m.Data) != "kept" {
		t.Fatalf("after restart: %v %v", m, err)
	}
}

func TestServeBinary_JetStreamOff(t *testing.T) {
	p := startServe(t, "--jetstream=false")
	nc, err := nats.Connect(p.url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if on, _ := nc.ConnectedServerJetStream(); on {
		t.Fatal("INFO advertises jetstream with --jetstream=false")
	}
	if v := nc.ConnectedServerVersion(); v != "2.2.0" {
		t.Fatalf("version %q with streaming off", v)
	}
}
