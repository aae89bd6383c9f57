package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// DefaultTLSTimeout bounds a client's TLS handshake (nats-server's default).
const DefaultTLSTimeout = 2 * time.Second

// TLSOptions configure TLS for client connections, with nats-server's
// semantics. TLS is on when CertFile (with KeyFile) or Config is set.
type TLSOptions struct {
	CertFile string // server certificate (PEM)
	KeyFile  string // its private key (PEM)
	CAFile   string // CAs that sign client certificates (PEM); system roots if empty
	// Verify requires a client certificate signed by CAFile.
	Verify bool
	// VerifyAndMap is Verify, and the certificate names the user (see User).
	VerifyAndMap bool
	// MinVersion is "1.2" (the default) or "1.3".
	MinVersion string
	// HandshakeFirst starts TLS before INFO. By default INFO goes out in
	// plain text with tls_required, and the client then starts TLS.
	HandshakeFirst bool
	// Timeout bounds the handshake; default 2s.
	Timeout time.Duration
	// Config, when set, is used instead of the files (embedding, tests).
	Config *tls.Config
}

// Enabled reports whether client connections use TLS.
func (o *TLSOptions) Enabled() bool { return o.CertFile != "" || o.KeyFile != "" || o.Config != nil }

func (o *TLSOptions) verify() bool { return o.Verify || o.VerifyAndMap }

func (o *TLSOptions) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultTLSTimeout
}

// ServerConfig builds the tls.Config for a listener (the client port, or the
// HTTPS monitoring port) from the options; nil when TLS is off.
func (o *TLSOptions) ServerConfig() (*tls.Config, error) {
	if !o.Enabled() {
		return nil, nil
	}
	if o.Config != nil {
		return o.Config.Clone(), nil
	}
	if o.CertFile == "" || o.KeyFile == "" {
		return nil, errors.New("tls: both a certificate (cert_file, --tlscert) and its key (key_file, --tlskey) are needed")
	}
	cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: load certificate %s and key %s: %w", o.CertFile, o.KeyFile, err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	switch o.MinVersion {
	case "", "1.2":
	case "1.3":
		cfg.MinVersion = tls.VersionTLS13
	default:
		return nil, fmt.Errorf("tls min_version %q: use 1.2 or 1.3", o.MinVersion)
	}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls: read CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls: CA file %s holds no PEM certificate", o.CAFile)
		}
		cfg.ClientCAs = pool
	}
	if o.verify() {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// sendPlainInfo writes INFO (which says tls_required) in plain text on the
// raw socket before the read goroutine starts the handshake: the client
// starts TLS after reading it. With HandshakeFirst nothing is sent before the
// handshake and INFO is the first thing written over TLS (nats-server's
// handshake_first).
func (c *conn) sendPlainInfo() {
	c.mu.Lock()
	chunks := c.out.take(nil)
	c.pending = 0
	c.mu.Unlock()
	_ = c.sec.raw.SetWriteDeadline(time.Now().Add(c.srv.opts.TLS.timeout()))
	bufs := append(net.Buffers(nil), chunks...) // WriteTo nils the entries it consumes
	_, _ = bufs.WriteTo(c.sec.raw)              // a failure shows up in the handshake
	putChunks(chunks)
}

// tlsHandshake completes the handshake within the TLS timeout; on failure the
// connection closes without a word, as nats-server's does.
func (c *conn) tlsHandshake() bool {
	tc, ok := c.nc.(*tls.Conn)
	if !ok {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.srv.opts.TLS.timeout())
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		c.log.Info("TLS handshake error", "err", err)
		c.closeConn(closeTLSHandshake, false)
		return false
	}
	return true
}

// peerCerts are the verified client certificates, if any.
func (c *conn) peerCerts() []*x509.Certificate {
	if tc, ok := c.nc.(*tls.Conn); ok {
		return tc.ConnectionState().PeerCertificates
	}
	return nil
}

// monitorTLS wraps the monitoring listener in TLS when https_port is set,
// with the client certificate and settings (as nats-server does).
func (s *Server) monitorTLS(ln net.Listener) net.Listener {
	if s.opts.HTTPSPort == 0 {
		return ln
	}
	return tls.NewListener(ln, s.tlsConf.Clone())
}

// TLSRequired reports whether clients must use TLS.
func (s *Server) TLSRequired() bool { return s.tlsConf != nil }
