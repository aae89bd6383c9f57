package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/natsctl/natsctl/internal/monitorapi"
)

// JetStreamVersion is the version INFO reports while a streaming engine is
// attached: clients pick JetStream API subjects by it (nats.go needs at
// least 2.9.0 for the current consumer API), so it is raised only on
// servers that actually serve streams.
const JetStreamVersion = "2.10.0"

// Engine is a subsystem that runs inside the server as an in-process
// client (the streaming engine). The server starts it before accepting
// clients and stops it after the last client is gone; it knows nothing else
// about it.
type Engine interface {
	// Start attaches the engine: it subscribes through NewInternalClient and
	// may call EnableJetStream. An error stops Server.Start.
	Start(s *Server) error
	// Shutdown flushes and releases what the engine holds.
	Shutdown(ctx context.Context) error
}

// startEngine runs Options.Engine.Start once, before the accept loop.
func (s *Server) startEngine() error {
	if s.opts.Engine == nil {
		return nil
	}
	var err error
	s.engOnce.Do(func() { err = s.opts.Engine.Start(s) })
	return err
}

// stopEngine runs Options.Engine.Shutdown after the connections are closed.
func (s *Server) stopEngine(ctx context.Context) {
	if s.opts.Engine == nil {
		return
	}
	if err := s.opts.Engine.Shutdown(ctx); err != nil {
		s.log.Error("streaming engine shutdown", "err", err)
	}
}

// EnableJetStream makes INFO advertise "jetstream": true and
// JetStreamVersion. Call it from Engine.Start: the INFO template is read
// without a lock once clients are accepted.
func (s *Server) EnableJetStream() {
	s.info.JetStream = true
	s.info.Version = JetStreamVersion
}

// Engine returns the attached engine (nil when none); the monitor uses it
// for /jsz through an interface of its own.
func (s *Server) Engine() Engine { return s.opts.Engine }

// Logger is the server's logger, for engines.
func (s *Server) Logger() *slog.Logger { return s.log }

// JSZProvider is implemented by an engine that reports /jsz data.
type JSZProvider interface {
	JSInfo() monitorapi.JSInfo
}

// JSZStreamDetailer is implemented by an engine that can list its streams
// (and their consumers) for /jsz?streams=true&consumers=true; the value is
// encoded as the stream_detail array.
type JSZStreamDetailer interface {
	JSZStreams(consumers, config bool) any
}

// JSZ is the /jsz document with the details the query asks for.
func (s *Server) JSZ(accounts, streams, consumers, config bool) monitorapi.JSInfo {
	info := s.JSInfo()
	if info.Disabled || !(accounts || streams || consumers) {
		return info
	}
	acc := &monitorapi.JSAccountDetail{Name: globalAccount, ID: globalAccount, JetStreamStats: info.JetStreamStats}
	if d, ok := s.opts.Engine.(JSZStreamDetailer); ok && (streams || consumers) {
		acc.Streams = d.JSZStreams(consumers, config)
	}
	info.AccountDetails = []*monitorapi.JSAccountDetail{acc}
	return info
}

// JSInfo is the /jsz document: the engine's, or one saying streaming is
// disabled when no engine reports it.
func (s *Server) JSInfo() monitorapi.JSInfo {
	if p, ok := s.opts.Engine.(JSZProvider); ok {
		info := p.JSInfo()
		info.ID = s.id
		return info
	}
	return monitorapi.JSInfo{ID: s.id, Now: time.Now().UTC(), Disabled: true}
}
