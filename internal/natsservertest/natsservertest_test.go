package natsservertest

import (
	"net"
	"strings"
	"testing"
)

func TestStartReportsPorts(t *testing.T) {
	p := Start(t, "-m", "-1")
	if !strings.HasPrefix(p.ClientURL, "nats://127.0.0.1:") || !strings.HasPrefix(p.MonitorURL, "http://127.0.0.1:") {
		t.Fatalf("urls: %q %q", p.ClientURL, p.MonitorURL)
	}
	c, err := net.Dial("tcp", strings.TrimPrefix(p.ClientURL, "nats://"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := c.Read(buf); err != nil || string(buf) != "INFO " {
		t.Fatalf("read %q, %v", buf, err)
	}
	c.Close()
}
