package client

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"os"
	"strings"

	"github.com/nats-io/nkeys"
)

// connectInfo is the CONNECT JSON we send.
type connectInfo struct {
	Verbose      bool   `json:"verbose"`
	Pedantic     bool   `json:"pedantic"`
	TLSRequired  bool   `json:"tls_required"`
	Name         string `json:"name,omitempty"`
	Lang         string `json:"lang"`
	Version      string `json:"version"`
	Protocol     int    `json:"protocol"`
	Echo         bool   `json:"echo"`
	Headers      bool   `json:"headers"`
	NoResponders bool   `json:"no_responders"`
	User         string `json:"user,omitempty"`
	Pass         string `json:"pass,omitempty"`
	Token        string `json:"auth_token,omitempty"`
	Nkey         string `json:"nkey,omitempty"`
	Sig          string `json:"sig,omitempty"`
	JWT          string `json:"jwt,omitempty"`
}

// Version is what we report in CONNECT.
const Version = "0.1.0"

// signer produces the nkey (or JWT) credentials that answer a server nonce.
// It reads the files when needed, so that rotated creds are picked up on
// reconnect, and wipes the key after use.
type signer struct {
	seedFile, credsFile string
}

// sign fills c.Nkey/c.JWT/c.Sig for nonce.
func (s signer) sign(c *connectInfo, nonce string) error {
	var kp nkeys.KeyPair
	switch {
	case s.credsFile != "":
		b, err := os.ReadFile(s.credsFile)
		if err != nil {
			return fmt.Errorf("read creds file: %w", err)
		}
		jwt, err := nkeys.ParseDecoratedJWT(b)
		if err != nil || jwt == "" || !strings.Contains(jwt, ".") {
			return fmt.Errorf("creds file %s: no user JWT in it", s.credsFile)
		}
		kp, err = nkeys.ParseDecoratedNKey(b)
		if err != nil {
			return fmt.Errorf("creds file %s: no nkey seed in it: %w", s.credsFile, err)
		}
		c.JWT = jwt
	case s.seedFile != "":
		b, err := os.ReadFile(s.seedFile)
		if err != nil {
			return fmt.Errorf("read nkey seed file: %w", err)
		}
		kp, err = nkeys.ParseDecoratedNKey(b)
		if err != nil {
			return fmt.Errorf("nkey seed file %s: %w", s.seedFile, err)
		}
		pub, err := kp.PublicKey()
		if err != nil {
			return err
		}
		c.Nkey = pub
	default:
		return nil
	}
	defer kp.Wipe()
	sig, err := kp.Sign([]byte(nonce))
	if err != nil {
		return fmt.Errorf("sign nonce: %w", err)
	}
	c.Sig = base64.RawURLEncoding.EncodeToString(sig)
	return nil
}

// check reads the credential files once at Connect, so that a bad file is
// reported before any network traffic.
func (s signer) check() error {
	if s.credsFile == "" && s.seedFile == "" {
		return nil
	}
	return s.sign(&connectInfo{}, "check")
}

// tlsConfig builds the client TLS configuration from o, or returns nil when
// o asks for none.
func (o *Options) tlsConfig() (*tls.Config, error) {
	if o.TLSConfig == nil && o.TLSCAFile == "" && o.TLSCertFile == "" && o.TLSKeyFile == "" && o.TLSServerName == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.TLSConfig != nil {
		cfg = o.TLSConfig.Clone()
	}
	if o.TLSCAFile != "" {
		pem, err := os.ReadFile(o.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("read TLS CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TLS CA file %s: no PEM certificates in it", o.TLSCAFile)
		}
		cfg.RootCAs = pool
	}
	if (o.TLSCertFile == "") != (o.TLSKeyFile == "") {
		return nil, fmt.Errorf("TLS client certificate and key must be given together")
	}
	if o.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.TLSCertFile, o.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("load TLS client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if o.TLSServerName != "" {
		cfg.ServerName = o.TLSServerName
	}
	return cfg, nil
}
