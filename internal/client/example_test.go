package client_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/natsctl/natsctl/internal/client"
	"github.com/natsctl/natsctl/internal/server"
)

// serverURL is a server the Examples talk to: our own, in-process, so that
// they run wherever the tests run.
var serverURL string

func TestMain(m *testing.M) {
	s, err := server.New(server.Options{Host: "127.0.0.1", Port: -1})
	if err == nil {
		err = s.Start()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "start a server for the examples:", err)
		os.Exit(1)
	}
	serverURL = s.ClientURL()
	code := m.Run()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_ = s.Shutdown(ctx)
	cancel()
	os.Exit(code)
}

func Example() {
	ctx := context.Background()
	nc, err := client.Connect(ctx, client.Options{Servers: []string{serverURL}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer nc.Close()

	sub, _ := nc.SubscribeSync("greet.*")
	_ = nc.Publish("greet.joe", []byte("hello"))
	m, err := sub.NextMsg(time.Second)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %s\n", m.Subject, m.Data)
	// Output: greet.joe: hello
}

func ExampleConn_Request() {
	ctx := context.Background()
	nc, err := client.Connect(ctx, client.Options{Servers: []string{serverURL}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer nc.Close()

	_, _ = nc.Subscribe("time.now", func(m *client.Msg) {
		_ = m.Respond([]byte("it is now"))
	})
	_ = nc.Flush(ctx) // the server has the subscription

	rctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	r, err := nc.Request(rctx, "time.now", nil)
	fmt.Println(string(r.Data), err)

	// Nobody listens here: a distinct error, not a timeout.
	_, err = nc.Request(rctx, "nobody.home", nil)
	fmt.Println(err == client.ErrNoResponders)
	// Output:
	// it is now <nil>
	// true
}

func ExampleConn_QueueSubscribe() {
	ctx := context.Background()
	nc, err := client.Connect(ctx, client.Options{Servers: []string{serverURL}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer nc.Close()

	done := make(chan string, 10)
	for range 2 {
		_, _ = nc.QueueSubscribe("jobs", "workers", func(m *client.Msg) { done <- string(m.Data) })
	}
	_ = nc.Flush(ctx)
	_ = nc.Publish("jobs", []byte("job 1"))
	fmt.Println(<-done) // handled by exactly one of the two workers
	// Output: job 1
}

func ExampleOptions() {
	// Several URLs for failover, credentials, keep-alive and reconnect
	// settings, and callbacks for connection events.
	o := client.Options{
		Servers:       []string{"nats://a.example:4222", "nats://b.example:4222"},
		Name:          "inventory-service",
		CredsFile:     "/etc/nats/inventory.creds",
		PingInterval:  20 * time.Second,
		MaxReconnects: -1, // forever
		DisconnectedHandler: func(_ *client.Conn, err error) {
			fmt.Println("disconnected:", err)
		},
		ReconnectedHandler: func(c *client.Conn) {
			fmt.Println("reconnected to", c.ConnectedURL())
		},
	}
	fmt.Println(len(o.Servers), "servers")
	// Output: 2 servers
}
