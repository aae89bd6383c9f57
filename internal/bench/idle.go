package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// HoldIdle opens n raw client connections to addr (host:port): each reads
// INFO, sends CONNECT and PING and waits for PONG, then only answers the
// server's PINGs. Raw sockets with one goroutine each keep this process
// small, so that only the server's memory per connection is measured. No
// authentication or TLS. ready is called once all are up; HoldIdle returns
// when ctx ends, closing them, or with the first failure.
func HoldIdle(ctx context.Context, addr string, n int, ready func(n int)) error {
	if n <= 0 {
		return errors.New("--clients must be positive")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	conns := make([]net.Conn, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	for range min(n, 32) { // dial in parallel, but do not stampede the listener
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				c, err := openIdle(ctx, addr)
				if err != nil {
					select {
					case errs <- fmt.Errorf("connection %d of %d: %w", i+1, n, err):
					default:
					}
					cancel()
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	select {
	case err := <-errs:
		return err
	default:
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	lost := make(chan error, 1)
	for _, c := range conns {
		go answerPings(c, lost)
	}
	ready(n)
	select {
	case <-ctx.Done():
		return nil
	case err := <-lost:
		return err
	}
}

func openIdle(ctx context.Context, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReaderSize(c, 4096)
	line, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "INFO ") {
		c.Close()
		return nil, fmt.Errorf("no INFO from the server: %v", err)
	}
	if _, err := c.Write([]byte("CONNECT {\"verbose\":false,\"pedantic\":false,\"name\":\"natsctl bench idle\",\"lang\":\"go\",\"protocol\":1}\r\nPING\r\n")); err != nil {
		c.Close()
		return nil, err
	}
	for {
		line, err = br.ReadString('\n')
		if err != nil {
			c.Close()
			return nil, err
		}
		switch {
		case strings.HasPrefix(line, "PONG"):
			_ = c.SetDeadline(time.Time{})
			return c, nil
		case strings.HasPrefix(line, "-ERR"):
			c.Close()
			return nil, fmt.Errorf("server: %s", strings.TrimSpace(line))
		}
	}
}

// answerPings keeps c alive: it answers PING with PONG and ignores the rest.
func answerPings(c net.Conn, lost chan<- error) {
	br := bufio.NewReaderSize(c, 512)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				select {
				case lost <- fmt.Errorf("an idle connection was closed: %w", err):
				default:
				}
			}
			return
		}
		if strings.HasPrefix(line, "PING") {
			if _, err := c.Write([]byte("PONG\r\n")); err != nil {
				return
			}
		}
	}
}
