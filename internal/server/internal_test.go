package server_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natsctl/natsctl/internal/server/servertest"
)

func TestInternalClient_RequestReply(t *testing.T) {
	s := servertest.Run(t)
	ic := s.NewInternalClient("engine")
	defer ic.Close()
	var gotHdr atomic.Value
	_, err := ic.Subscribe("svc.>", "", func(subject, reply string, hdr, data []byte) {
		gotHdr.Store(string(hdr))
		// Replying from inside the handler is allowed.
		ic.Publish(reply, "", []byte("NATS/1.0\r\nX: 1\r\n\r\n"), append([]byte(subject+":"), data...))
	})
	if err != nil {
		t.Fatal(err)
	}
	nc := connect(t, s)
	m := nats.NewMsg("svc.a")
	m.Header.Set("K", "v")
	m.Data = []byte("hi")
	resp, err := nc.RequestMsg(m, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Data) != "svc.a:hi" || resp.Header.Get("X") != "1" {
		t.Fatalf("reply %q headers %v", resp.Data, resp.Header)
	}
	if h, _ := gotHdr.Load().(string); h != "NATS/1.0\r\nK: v\r\n\r\n" {
		t.Fatalf("handler got headers %q", h)
	}
	if !s.HasInterest("svc.x") || s.HasInterest("other") {
		t.Fatal("HasInterest wrong")
	}
	// In-process subscriptions are interest: no 503 for their subjects.
	if _, err := nc.Request("svc.b", nil, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestInternalClient_PublishToClients(t *testing.T) {
	s := servertest.Run(t)
	ic := s.NewInternalClient("engine")
	nc := connect(t, s)
	sub, _ := nc.SubscribeSync("out")
	q1, _ := nc.QueueSubscribeSync("out", "g")
	nc.Flush()
	if err := ic.Publish("out", "r", nil, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if m := nextMsg(t, sub); string(m.Data) != "x" || m.Reply != "r" {
		t.Fatalf("got %q reply %q", m.Data, m.Reply)
	}
	nextMsg(t, q1)
	if err := ic.Publish("bad..subject", "", nil, nil); err == nil {
		t.Fatal("invalid subject accepted")
	}
}
