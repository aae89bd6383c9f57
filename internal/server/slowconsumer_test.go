package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/monitorapi"
	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/server/servertest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestSlowConsumer_AttributedInConnzAndLog: a subscriber that stops reading
// is cut off as a slow consumer; /connz?state=closed names the
// subscription that held most of its pending bytes, and so does the log.
func TestSlowConsumer_AttributedInConnzAndLog(t *testing.T) {
	logs := &syncBuffer{}
	s := servertest.Run(t, servertest.Monitoring, func(o *server.Options) {
		o.MaxPending = 256 << 10
		o.MaxPayload = 64 << 10
		o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})

	// A raw subscriber with a small receive buffer that never reads after
	// its PONG: two subscriptions, the wildcard one gets the big messages.
	nc, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.(*net.TCPConn).SetReadBuffer(4096)
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(nc)
	if _, err := br.ReadString('\n'); err != nil { // INFO
		t.Fatal(err)
	}
	if _, err := nc.Write([]byte("CONNECT {\"verbose\":false,\"name\":\"stuck\"}\r\nSUB big.> 1\r\nSUB small q 2\r\nPING\r\n")); err != nil {
		t.Fatal(err)
	}
	if l, err := br.ReadString('\n'); err != nil || l != "PONG\r\n" {
		t.Fatalf("%q %v", l, err)
	}

	pub := connect(t, s)
	big := bytes.Repeat([]byte("b"), 8<<10)
	for i := 0; s.SlowConsumers() == 0; i++ {
		if i > 100000 {
			t.Fatal("no slow consumer after 800 MB")
		}
		pub.Publish("big.orders", big)
		if i%10 == 0 {
			pub.Publish("small", []byte("s"))
			pub.Flush()
		}
	}

	var ci *monitorapi.ConnInfo
	waitFor(t, "the slow-consumer attribution", func() bool {
		_, b := httpGet(t, s.MonitorURL()+"/connz?state=closed")
		var cz monitorapi.Connz
		if err := json.Unmarshal(b, &cz); err != nil {
			t.Fatal(err)
		}
		for _, c := range cz.Conns {
			if c.Name == "stuck" && c.SlowConsumer != nil {
				ci = c
			}
		}
		if ci == nil {
			t.Logf("%s", b)
		}
		return ci != nil
	})
	sc := ci.SlowConsumer
	if ci.Reason != monitorapi.ReasonSlowConsumerPendingBytes && ci.Reason != monitorapi.ReasonSlowConsumerWriteDeadline {
		t.Errorf("reason %q", ci.Reason)
	}
	if sc.Sid != "1" || sc.Subject != "big.>" || sc.MsgSubject != "big.orders" || sc.Queue != "" ||
		sc.PendingMsgs <= 0 || sc.PendingBytes < sc.PendingMsgs*int64(len(big)) || sc.PendingBytes > 256<<10 {
		t.Errorf("attribution %+v", sc)
	}
	// The attribution goroutine logs just after /connz can show it.
	hasLog := func() bool {
		log := logs.String()
		return strings.Contains(log, "slow consumer") && strings.Contains(log, "subject=big.>") && strings.Contains(log, "msg_subject=big.orders")
	}
	deadline := time.Now().Add(5 * time.Second)
	for !hasLog() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // polling the log
	}
	if !hasLog() {
		t.Errorf("log lacks the attribution:\n%s", logs.String())
	}
}
