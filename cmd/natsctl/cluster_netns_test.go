package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// netLab is a private network of namespaces: one per server, each joined
// by a veth pair to a bridge in a hub namespace, plus a veth from the test's
// own namespace to the bridge so that the test's clients reach every server.
type netLab struct {
	t      *testing.T
	prefix string // namespace and interface name prefix
	subnet string // 10.x.y
	dir    string // stream storage of the servers
}

func (l *netLab) run(args ...string) {
	l.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func (l *netLab) ns(i int) string { return fmt.Sprintf("%ss%d", l.prefix, i) }
func (l *netLab) hub() string     { return l.prefix + "hub" }
func (l *netLab) ip(i int) string { return fmt.Sprintf("%s.%d", l.subnet, i) }

// newNetLab builds the lab for n servers, or skips the test when it cannot.
func newNetLab(t *testing.T, n int) *netLab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("partition test needs root (ip netns, veth pairs); run it as root to include it")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("partition test needs the ip command (iproute2)")
	}
	pid := os.Getpid() % 10000
	l := &netLab{t: t, prefix: fmt.Sprintf("nc%d", pid), subnet: fmt.Sprintf("10.213.%d", pid%250), dir: t.TempDir()}
	if out, err := exec.Command("ip", "netns", "add", l.hub()).CombinedOutput(); err != nil {
		t.Skipf("partition test: cannot create network namespaces (%v: %s); needs CAP_SYS_ADMIN", err, out)
	}
	t.Cleanup(func() {
		for i := 1; i <= n; i++ {
			exec.Command("ip", "netns", "del", l.ns(i)).Run()
		}
		exec.Command("ip", "netns", "del", l.hub()).Run() // removes the veths too
	})
	l.run("-n", l.hub(), "link", "add", "br0", "type", "bridge")
	l.run("-n", l.hub(), "link", "set", "br0", "up")
	for i := 1; i <= n; i++ {
		l.run("netns", "add", l.ns(i))
		l.run("-n", l.hub(), "link", "add", fmt.Sprintf("h%d", i), "type", "veth", "peer", "name", "eth0", "netns", l.ns(i))
		l.run("-n", l.hub(), "link", "set", fmt.Sprintf("h%d", i), "master", "br0", "up")
		l.run("-n", l.ns(i), "addr", "add", l.ip(i)+"/24", "dev", "eth0")
		l.run("-n", l.ns(i), "link", "set", "eth0", "up")
		l.run("-n", l.ns(i), "link", "set", "lo", "up")
	}
	// The test's namespace joins the bridge as .100.
	root := l.prefix + "r"
	l.run("-n", l.hub(), "link", "add", "hr", "type", "veth", "peer", "name", root, "netns", "1")
	l.run("-n", l.hub(), "link", "set", "hr", "master", "br0", "up")
	l.run("addr", "add", l.subnet+".100/24", "dev", root)
	l.run("link", "set", root, "up")
	return l
}

// cut takes server i off the network (both directions); heal puts it back.
func (l *netLab) cut(i int)  { l.run("-n", l.hub(), "link", "set", fmt.Sprintf("h%d", i), "down") }
func (l *netLab) heal(i int) { l.run("-n", l.hub(), "link", "set", fmt.Sprintf("h%d", i), "up") }

// serve runs natsctl serve for server i inside its namespace, on fixed
// ports (the namespace is private), seeded with server seed.
func (l *netLab) serve(i, seed int) string {
	t := l.t
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", l.ns(i), natsctlBin(t), "serve", "-a", l.ip(i), "-p", "4222",
		"--cluster_name", "c1", "--cluster", "nats://"+l.ip(i)+":6222", "--routes", "nats://"+l.ip(seed)+":6222",
		"--cluster_ping_interval", "300ms", "--cluster_connect_backoff_max", "300ms",
		"-m", "0", "--store_dir", filepath.Join(l.dir, fmt.Sprint(i)))
	if os.Getenv("NATSCTL_TEST_LOG") != "" {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := "nats://" + l.ip(i) + ":4222"
	deadline := time.Now().Add(20 * time.Second)
	for {
		nc, err := nats.Connect(url)
		if err == nil {
			nc.Close()
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("server %d did not start: %v", i, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestHeavyClusterPartition(t *testing.T) {
	if testing.Short() {
		t.Skip("builds network namespaces")
	}
	lab := newNetLab(t, 3)
	// A ring of seeds: each server knows only one other.
	urls := []string{lab.serve(1, 2), lab.serve(2, 3), lab.serve(3, 1)}
	procs := []*serveProc{{url: urls[0]}, {url: urls[1]}, {url: urls[2]}}
	waitMeshed(t, procs...)

	fast := []nats.Option{nats.PingInterval(300 * time.Millisecond), nats.MaxPingsOutstanding(2)}
	onA, onB := natsConnect(t, urls[0]), natsConnect(t, urls[1])
	moved := make(chan string, 1)
	onC := natsConnect(t, urls[2], append(fast, nats.ReconnectHandler(func(nc *nats.Conn) { moved <- nc.ConnectedUrl() }))...)
	subC, _ := onC.SubscribeSync("to.c")
	ready(t, onA, "ready.c", onC)

	lab.cut(3)
	// The rest keep working.
	subB, _ := onB.SubscribeSync("to.b")
	ready(t, onA, "ready.b", onB)
	onA.Publish("to.b", []byte("during"))
	if _, err := subB.NextMsg(5 * time.Second); err != nil {
		t.Fatalf("A to B during the partition: %v", err)
	}
	// C's client fails over to A or B and keeps its subscription.
	select {
	case u := <-moved:
		if u != urls[0] && u != urls[1] {
			t.Fatalf("C's client moved to %s", u)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("C's client did not fail over")
	}
	ready(t, onA, "ready.c2", onC)
	onA.Publish("to.c", []byte("after failover"))
	if _, err := subC.NextMsg(5 * time.Second); err != nil {
		t.Fatalf("C's client after failover: %v", err)
	}

	lab.heal(3)
	waitMeshed(t, procs...)
	onC2 := natsConnect(t, urls[2])
	sub, _ := onC2.SubscribeSync("to.c2")
	ready(t, onB, "ready.c3", onC2)
	onB.Publish("to.c2", nil)
	if _, err := sub.NextMsg(5 * time.Second); err != nil {
		t.Fatalf("B to C after healing: %v", err)
	}
	if known := onC2.DiscoveredServers(); !slices.Contains(known, urls[0]) || !slices.Contains(known, urls[1]) {
		t.Fatalf("C after healing knows %v", known)
	}
}
