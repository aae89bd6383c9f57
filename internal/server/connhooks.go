package server

import "sync"

// connClosedHooks holds, per server, the functions told about closed
// client connections (OnConnClosed). Kept apart from Server so that the
// hook stays a small seam for engines.
var connClosedHooks sync.Map // *Server -> []func(uint64)

var connClosedMu sync.Mutex

// OnConnClosed registers f, called with the id of every client
// connection that closes, after its subscriptions are removed. f runs on
// the closing goroutine without server locks held and must not block.
// The streaming engine uses it to hand a departed deliver-group member's
// unacknowledged messages to the others at once.
func (s *Server) OnConnClosed(f func(cid uint64)) {
	connClosedMu.Lock()
	defer connClosedMu.Unlock()
	var fs []func(uint64)
	if v, ok := connClosedHooks.Load(s); ok {
		fs = v.([]func(uint64))
	}
	connClosedHooks.Store(s, append(fs[:len(fs):len(fs)], f))
}

// notifyConnClosed runs the OnConnClosed hooks for cid.
func (s *Server) notifyConnClosed(cid uint64) {
	v, ok := connClosedHooks.Load(s)
	if !ok {
		return
	}
	for _, f := range v.([]func(uint64)) {
		f(cid)
	}
}
