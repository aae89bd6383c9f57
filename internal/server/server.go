package server

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
)

// Server is one NATS-compatible broker. Build it with New, run it with Start,
// stop it with Shutdown.
type Server struct {
	opts Options
	ln   net.Listener
	wg   sync.WaitGroup
}

// New validates opts and binds the client listener, so that Addr is known
// before Start and a port in use fails here.
func New(opts Options) (*Server, error) {
	opts.setDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port)))
	if err != nil {
		return nil, fmt.Errorf("listen for clients: %w", err)
	}
	return &Server{opts: opts, ln: ln}, nil
}

// Addr is the bound client address.
func (s *Server) Addr() *net.TCPAddr { return s.ln.Addr().(*net.TCPAddr) }

// ClientURL is a nats:// URL for the client listener.
func (s *Server) ClientURL() string { return "nats://" + s.Addr().String() }

// Start begins accepting clients.
func (s *Server) Start() error { return nil }

// Shutdown stops the server.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.ln.Close()
	s.wg.Wait()
	return err
}
