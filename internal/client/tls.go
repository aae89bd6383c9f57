package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"
)

// startTLS runs the client side of the TLS handshake on nc (for server s)
// and returns the TLS connection with deadline set again, since the
// handshake's context clears it. Called after INFO normally, before it with
// TLSHandshakeFirst.
func (c *Conn) startTLS(ctx context.Context, nc net.Conn, s *server, deadline time.Time) (net.Conn, error) {
	cfg := c.tlsCfg
	if cfg == nil {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		cfg = cfg.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = s.url.Hostname()
	}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		// A server that sends INFO first answers our ClientHello with
		// "INFO {...": not a TLS record. Say what that means.
		var rh tls.RecordHeaderError
		if c.opts.TLSHandshakeFirst && errors.As(err, &rh) {
			return nil, fmt.Errorf("TLS handshake: %w: %w", ErrTLSFirstRefused, err)
		}
		return nil, fmt.Errorf("TLS handshake: %w", err)
	}
	_ = tc.SetDeadline(deadline)
	if err := ctx.Err(); err != nil {
		// Cancelled meanwhile: the dial's watcher may have set its past
		// deadline before the line above undid it.
		return nil, err
	}
	return tc, nil
}
