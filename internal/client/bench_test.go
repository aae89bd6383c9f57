package client

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"
)

// sinkServer completes the handshake and then discards everything except
// PINGs, which it answers: it measures the client, not a server.
func sinkServer(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				fmt.Fprintf(nc, "INFO {\"server_id\":\"sink\",\"headers\":true,\"max_payload\":1048576}\r\n")
				// Find PINGs in the stream without parsing payloads (the
				// benchmarks never publish one), keeping 3 bytes of overlap
				// for a PING split across reads.
				buf := make([]byte, 256<<10)
				keep := 0
				for {
					n, err := nc.Read(buf[keep:])
					if err != nil {
						return
					}
					n += keep
					for i := 0; ; {
						j := bytes.Index(buf[i:n], pingProto[:4])
						if j < 0 {
							break
						}
						if _, err := nc.Write(pongProto); err != nil {
							return
						}
						i += j + 4
					}
					keep = min(3, n)
					copy(buf, buf[n-keep:n])
				}
			}()
		}
	}()
	return "nats://" + l.Addr().String()
}

func BenchmarkPublish(b *testing.B) {
	for _, size := range []int{16, 128, 1024} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			c := connect(b, sinkServer(b))
			data := make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := c.Publish("bench.subject", data); err != nil {
					b.Fatal(err)
				}
			}
			if err := c.FlushTimeout(30 * time.Second); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// TestPublishNoAlloc: once the buffers have grown, Publish does not allocate.
func TestPublishNoAlloc(t *testing.T) {
	c := connect(t, sinkServer(t))
	data := make([]byte, 128)
	for range 10000 {
		_ = c.Publish("warm.up", data)
	}
	flush(t, c)
	allocs := testing.AllocsPerRun(10000, func() {
		_ = c.Publish("bench.subject", data)
	})
	if allocs > 0.01 {
		t.Fatalf("Publish allocates %.3f times per call", allocs)
	}
}

// BenchmarkReceive measures the receive path without a network: parse MSG
// ops from a buffer, look up the subscription, copy into a Msg, queue it, and
// have the subscription's goroutine hand it to the callback.
func BenchmarkReceive(b *testing.B) {
	for _, size := range []int{16, 128, 1024} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			c := &Conn{subs: map[uint64]*Subscription{}, closed: make(chan struct{})}
			c.opts.setDefaults()
			c.events = newDispatcher()
			c.ctx, c.cancel = context.WithCancel(context.Background())
			done := make(chan struct{})
			var n int
			s := &Subscription{
				Subject: "bench", conn: c, sid: 1, mode: modeCallback,
				cb: func(*Msg) {
					if n++; n == b.N {
						close(done)
					}
				},
				msgsLimit: -1, bytesLimit: -1,
				kick: make(chan struct{}, 1), closedCh: make(chan struct{}), done: make(chan struct{}),
			}
			c.subs[1] = s
			go s.consume()
			// A read buffer's worth of messages, parsed over and over.
			one := append(fmt.Appendf(nil, "MSG bench.subject 1 %d\r\n", size), make([]byte, size)...)
			one = append(one, "\r\n"...)
			var buf []byte
			per := 0
			for len(buf)+len(one) <= readBufSize {
				buf = append(buf, one...)
				per++
			}
			p := &parser{}
			h := &sockHandler{c: c}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for sent := 0; sent < b.N; {
				chunk := buf
				if left := b.N - sent; left < per {
					chunk = buf[:left*len(one)]
				}
				if err := p.parse(chunk, h); err != nil {
					b.Fatal(err)
				}
				sent += len(chunk) / len(one)
			}
			select {
			case <-done:
			case <-time.After(time.Minute):
				b.Fatal("callback did not see every message")
			}
			s.close()
		})
	}
}
