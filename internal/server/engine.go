package server

import (
	"context"
	"log/slog"
	"slices"
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

// JSZAccountDetailer is implemented by an engine that reports each
// account's streaming for /jsz account_details.
type JSZAccountDetailer interface {
	// JSZAccounts lists the accounts that have streaming, sorted.
	JSZAccounts() []string
	// JSZAccount is one account's detail: usage and API counters and, with
	// streams, its streams (with consumers, their consumers; with config,
	// the configurations); nil when the account has no streaming now.
	JSZAccount(name string, streams, consumers, config bool) *monitorapi.JSAccountDetail
}

// JSZOptions are /jsz's query parameters (nats-server's JSzOptions).
type JSZOptions struct {
	Account   string // acc: only this account's detail
	Accounts  bool   // accounts: every account's detail
	Streams   bool   // streams: with their streams (implies Accounts)
	Consumers bool   // consumers: with the streams' consumers (implies Streams)
	Config    bool   // config: with stream and consumer configurations
	Offset    int    // accounts to skip (sorted by name)
	Limit     int    // at most this many accounts; 0 means 1024
}

// JSZ is the /jsz document with the account details the options ask for,
// chosen as nats-server chooses them: acc names one account (when it has
// streaming, it alone is listed, whatever accounts says), accounts lists
// all of them by name with offset and limit; streams without acc implies
// accounts, consumers implies streams.
func (s *Server) JSZ(o JSZOptions) monitorapi.JSInfo {
	info := s.JSInfo()
	d, ok := s.opts.Engine.(JSZAccountDetailer)
	if info.Disabled || !ok {
		return info
	}
	if o.Consumers {
		o.Streams = true
	}
	if o.Streams && o.Account == "" {
		o.Accounts = true
	}
	if o.Limit == 0 {
		o.Limit = 1024
	}
	names := d.JSZAccounts()
	switch {
	case o.Account != "" && slices.Contains(names, o.Account):
		names = []string{o.Account}
	case o.Accounts && o.Limit > 0:
		names = names[min(max(o.Offset, 0), len(names)):]
		names = names[:min(o.Limit, len(names))]
	case !o.Accounts:
		names = nil
	}
	for _, n := range names {
		if ad := d.JSZAccount(n, o.Streams, o.Consumers, o.Config); ad != nil {
			if a := s.accs.Load().byName[n]; a != nil {
				if ac := a.claims.Load(); ac != nil && ac.Name != "" {
					ad.Name = ac.Name // nats-server shows the JWT's name, id the key
				}
			}
			info.AccountDetails = append(info.AccountDetails, ad)
		}
	}
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
