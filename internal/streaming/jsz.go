package streaming

import (
	"math"
	"slices"
	"time"

	"github.com/natsctl/natsctl/internal/monitorapi"
	"github.com/natsctl/natsctl/internal/server"
)

// JSInfo returns the engine's /jsz document (nats-server's shape, without
// account details): configuration, streams, messages, bytes, memory and
// storage used, and API counters, summed over the engines of every
// account, as nats-server sums its accounts (natscli's server report
// jetstream showed the global account's alone). The monitor serves it
// through server.JSInfo.
func (e *Engine) JSInfo() monitorapi.JSInfo {
	info := e.ownJSInfo()
	for _, c := range e.accountEngines() {
		ci := c.ownJSInfo()
		if ci.Disabled {
			continue
		}
		info.Streams += ci.Streams
		info.Consumers += ci.Consumers
		info.Messages += ci.Messages
		info.Bytes += ci.Bytes
		info.Memory += ci.Memory
		info.Store += ci.Store
		info.Accounts++
		info.Total++
		info.API.Total += ci.API.Total
		info.API.Errors += ci.API.Errors
		info.API.Inflight += ci.API.Inflight
	}
	return info
}

// ownJSInfo is JSInfo for this engine's account alone.
func (e *Engine) ownJSInfo() monitorapi.JSInfo {
	info := monitorapi.JSInfo{
		Now: time.Now().UTC(),
		Config: monitorapi.JetStreamConfig{
			MaxMemory:    limitOrNone(e.cfg.MaxMemory),
			MaxStore:     limitOrNone(e.cfg.MaxStore),
			StoreDir:     e.cfg.StoreDir,
			SyncInterval: e.cfg.SyncInterval,
			SyncAlways:   e.cfg.SyncInterval == 0,
		},
	}
	if e.srv != nil {
		info.ID = e.srv.ID()
	}
	e.mu.RLock()
	started := e.started
	e.mu.RUnlock()
	if !started {
		info.Disabled = true
		return info
	}
	for _, st := range e.sortedStreams() {
		s := st.st.State(false)
		info.Streams++
		info.Consumers += st.numConsumers()
		info.Messages += s.Msgs
		info.Bytes += s.Bytes
		if st.config().Storage == MemoryStorage {
			info.Memory += s.Bytes
		} else {
			info.Store += s.Bytes
		}
	}
	info.Accounts, info.Total = 1, 1
	info.API = monitorapi.JetStreamAPIStats{Level: apiLevel, Total: e.apiTotal.Load(), Errors: e.apiErrors.Load(), Inflight: uint64(len(e.apiQ))}
	return info
}

// JSZAccounts implements server.JSZAccountDetailer: the accounts with a
// running engine, sorted.
func (e *Engine) JSZAccounts() []string {
	e.mu.RLock()
	started := e.started
	e.mu.RUnlock()
	var out []string
	if started {
		out = append(out, server.GlobalAccountName)
	}
	for _, c := range e.accountEngines() {
		out = append(out, c.cfg.Account)
	}
	slices.Sort(out)
	return out
}

// JSZAccount implements server.JSZAccountDetailer: account name's entry of
// account_details, in nats-server's AccountDetail shape (usage and API
// counters; no API level, account count or HA assets, which nats-server
// reports only in the totals).
func (e *Engine) JSZAccount(name string, streams, consumers, config bool) *monitorapi.JSAccountDetail {
	var ae *Engine
	if name == server.GlobalAccountName {
		ae = e
	} else {
		for _, c := range e.accountEngines() {
			if c.cfg.Account == name {
				ae = c
			}
		}
	}
	if ae == nil {
		return nil
	}
	ji := ae.ownJSInfo()
	if ji.Disabled {
		return nil
	}
	d := &monitorapi.JSAccountDetail{Name: name, ID: name, JetStreamStats: monitorapi.JetStreamStats{
		Memory: ji.Memory, Store: ji.Store,
		// No account has a reservation of its own: nats-server reports
		// such an account's unlimited (-1) limits as the largest uint64.
		ReservedMemory: math.MaxUint64, ReservedStore: math.MaxUint64,
		API: monitorapi.JetStreamAPIStats{Total: ji.API.Total, Errors: ji.API.Errors},
	}}
	if streams {
		if sd := ae.JSDetails(consumers, config); len(sd) > 0 {
			d.Streams = sd
		}
	}
	return d
}
