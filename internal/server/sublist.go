package server

import (
	"strings"
	"sync"
	"sync/atomic"
)

// subscription is one SUB of one connection (later also a route's interest).
type subscription struct {
	c       *conn
	subject string
	queue   string // empty for a plain subscription
	sid     string
	max     atomic.Int64 // auto-unsubscribe after max deliveries; 0 = unlimited
	nm      atomic.Int64 // messages delivered
	handler MsgHandler   // set for in-process subscriptions: called instead of queueing bytes
	// dhandler, when set (with handler), is called instead of handler,
	// with the publisher and the trace (internal.go SubscribeRequests,
	// SubscribeTraced).
	dhandler deliveryHandler
	qw       int32        // a route's queue interest: member count on that server (route_interest.go)
	acc      *Account     // the account whose Sublist holds it; set before Insert
	imp      *importEntry // set for an import's subscription: delivery forwards to another account (imports.go)
}

// matchResult is what a subject matches: plain subscriptions and, per queue
// group, its members. Results are shared through caches: read-only.
type matchResult struct {
	psubs []*subscription
	qsubs [][]*subscription
	rsubs []*subscription // plain interest of routes: one per route connection
}

var emptyResult = &matchResult{}

// maxCache bounds the shared match cache; past it an arbitrary half is dropped.
const maxCache = 1024

// Sublist is the subject index of one account: a trie of subject tokens with
// '*' and '>' branches, and a cache of match results by literal subject.
// Inserts and removes patch the cache (dropping entries the change matches)
// and bump genid so that per-connection caches revalidate.
type Sublist struct {
	mu    sync.RWMutex
	root  *level
	count int
	cache map[string]*matchResult
	genid atomic.Uint64

	hits, misses atomic.Uint64
	inserts      uint64 // guarded by mu; for /subsz
	removes      uint64

	// onChange, when set (clustering), is told of every insert and removal
	// after sl.mu is released, to propagate interest to routes.
	onChange func(sub *subscription, added bool)
}

type level struct {
	nodes    map[string]*node
	pwc, fwc *node // '*' and '>' children
}

type node struct {
	next  *level
	psubs map[*subscription]struct{}
	qsubs map[string]map[*subscription]struct{}
}

// NewSublist returns an empty index.
func NewSublist() *Sublist {
	return &Sublist{root: newLevel(), cache: make(map[string]*matchResult)}
}

func newLevel() *level { return &level{nodes: make(map[string]*node)} }

func (l *level) child(tok string, create bool) *node {
	var n *node
	switch tok {
	case "*":
		n = l.pwc
	case ">":
		n = l.fwc
	default:
		n = l.nodes[tok]
	}
	if n != nil || !create {
		return n
	}
	n = &node{}
	switch tok {
	case "*":
		l.pwc = n
	case ">":
		l.fwc = n
	default:
		l.nodes[tok] = n
	}
	return n
}

func (l *level) empty() bool { return len(l.nodes) == 0 && l.pwc == nil && l.fwc == nil }

func (n *node) empty() bool {
	return len(n.psubs) == 0 && len(n.qsubs) == 0 && (n.next == nil || n.next.empty())
}

// Insert adds sub under its subject.
func (sl *Sublist) Insert(sub *subscription) {
	sl.mu.Lock()
	l := sl.root
	var n *node
	rest := sub.subject
	for {
		tok, more := nextToken(&rest)
		n = l.child(tok, true)
		if !more {
			break
		}
		if n.next == nil {
			n.next = newLevel()
		}
		l = n.next
	}
	if sub.queue == "" {
		if n.psubs == nil {
			n.psubs = make(map[*subscription]struct{})
		}
		n.psubs[sub] = struct{}{}
	} else {
		if n.qsubs == nil {
			n.qsubs = make(map[string]map[*subscription]struct{})
		}
		q := n.qsubs[sub.queue]
		if q == nil {
			q = make(map[*subscription]struct{})
			n.qsubs[sub.queue] = q
		}
		q[sub] = struct{}{}
	}
	sl.count++
	sl.inserts++
	sl.invalidateLocked(sub.subject)
	sl.mu.Unlock()
	if sl.onChange != nil {
		sl.onChange(sub, true)
	}
}

// Remove deletes sub; it reports whether sub was present.
func (sl *Sublist) Remove(sub *subscription) bool {
	if !sl.remove(sub) {
		return false
	}
	if sl.onChange != nil {
		sl.onChange(sub, false)
	}
	return true
}

func (sl *Sublist) remove(sub *subscription) bool {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	var path [32]struct {
		l *level
		n *node
		t string
	}
	depth := 0
	l := sl.root
	var n *node
	rest := sub.subject
	for {
		tok, more := nextToken(&rest)
		n = l.child(tok, false)
		if n == nil {
			return false
		}
		if depth < len(path) {
			path[depth].l, path[depth].n, path[depth].t = l, n, tok
		}
		depth++
		if !more {
			break
		}
		if n.next == nil {
			return false
		}
		l = n.next
	}
	if sub.queue == "" {
		if _, ok := n.psubs[sub]; !ok {
			return false
		}
		delete(n.psubs, sub)
	} else {
		q := n.qsubs[sub.queue]
		if _, ok := q[sub]; !ok {
			return false
		}
		delete(q, sub)
		if len(q) == 0 {
			delete(n.qsubs, sub.queue)
		}
	}
	sl.count--
	sl.removes++
	// Prune empty nodes bottom-up so the trie does not keep dead branches.
	for i := min(depth, len(path)) - 1; i >= 0; i-- {
		p := path[i]
		if !p.n.empty() {
			break
		}
		switch p.t {
		case "*":
			p.l.pwc = nil
		case ">":
			p.l.fwc = nil
		default:
			delete(p.l.nodes, p.t)
		}
	}
	sl.invalidateLocked(sub.subject)
	return true
}

// invalidateLocked drops cached results that a change to pattern affects.
// sl.mu must be held for writing.
func (sl *Sublist) invalidateLocked(pattern string) {
	sl.genid.Add(1)
	if !hasWildcard(pattern) {
		delete(sl.cache, pattern)
		return
	}
	for subj := range sl.cache {
		if matchLiteral(subj, pattern) {
			delete(sl.cache, subj)
		}
	}
}

// Count is the number of subscriptions.
func (sl *Sublist) Count() int {
	sl.mu.RLock()
	defer sl.mu.RUnlock()
	return sl.count
}

// CacheStats returns the cache size and its hit and miss counters.
func (sl *Sublist) CacheStats() (entries int, hits, misses uint64) {
	sl.mu.RLock()
	entries = len(sl.cache)
	sl.mu.RUnlock()
	return entries, sl.hits.Load(), sl.misses.Load()
}

// Match returns the subscriptions interested in the literal subject subj.
func (sl *Sublist) Match(subj string) *matchResult {
	sl.mu.RLock()
	if r, ok := sl.cache[subj]; ok {
		sl.mu.RUnlock()
		sl.hits.Add(1)
		return r
	}
	gen := sl.genid.Load()
	r := &matchResult{}
	var qidx map[string]int
	matchLevel(sl.root, subj, r, &qidx)
	sl.mu.RUnlock()
	sl.misses.Add(1)
	if len(r.psubs) == 0 && len(r.qsubs) == 0 && len(r.rsubs) == 0 {
		r = emptyResult
	}
	sl.mu.Lock()
	// Only cache what is still current: a change since our read would have
	// missed this entry when invalidating.
	if sl.genid.Load() == gen {
		if len(sl.cache) >= maxCache {
			n := 0
			for k := range sl.cache {
				delete(sl.cache, k)
				if n++; n >= maxCache/2 {
					break
				}
			}
		}
		sl.cache[subj] = r
	}
	sl.mu.Unlock()
	return r
}

func matchLevel(l *level, rest string, r *matchResult, qidx *map[string]int) {
	for l != nil {
		tok, more := nextToken(&rest)
		if l.fwc != nil {
			collect(l.fwc, r, qidx)
		}
		if l.pwc != nil {
			if more {
				matchLevel(l.pwc.next, rest, r, qidx)
			} else {
				collect(l.pwc, r, qidx)
			}
		}
		n := l.nodes[tok]
		if n == nil {
			return
		}
		if !more {
			collect(n, r, qidx)
			return
		}
		l = n.next
	}
}

func collect(n *node, r *matchResult, qidx *map[string]int) {
	for s := range n.psubs {
		if s.c != nil && s.c.route != nil {
			r.addRouteSub(s)
			continue
		}
		r.psubs = append(r.psubs, s)
	}
	for q, members := range n.qsubs {
		if *qidx == nil {
			*qidx = make(map[string]int)
		}
		i, ok := (*qidx)[q]
		if !ok {
			i = len(r.qsubs)
			(*qidx)[q] = i
			r.qsubs = append(r.qsubs, nil)
		}
		for s := range members {
			// A route's member stands for qw members on its server, so that
			// a random pick is weighted by member count (as nats-server's
			// RS+ queue weight). Bounded so a peer cannot make us allocate
			// without limit.
			for w := min(max(s.qw, 1), maxQueueWeight); w > 0; w-- {
				r.qsubs[i] = append(r.qsubs[i], s)
			}
		}
	}
}

// maxQueueWeight caps how many times one route's queue interest appears in a
// match result.
const maxQueueWeight = 1024

// addRouteSub records a route's plain interest once per route connection.
func (r *matchResult) addRouteSub(s *subscription) {
	for _, o := range r.rsubs {
		if o.c == s.c {
			return
		}
	}
	r.rsubs = append(r.rsubs, s)
}

// All appends every subscription to dst (for monitoring).
func (sl *Sublist) All(dst []*subscription) []*subscription {
	sl.mu.RLock()
	defer sl.mu.RUnlock()
	var walk func(l *level)
	walkNode := func(n *node) {
		for s := range n.psubs {
			dst = append(dst, s)
		}
		for _, q := range n.qsubs {
			for s := range q {
				dst = append(dst, s)
			}
		}
		if n.next != nil {
			walk(n.next)
		}
	}
	walk = func(l *level) {
		for _, n := range l.nodes {
			walkNode(n)
		}
		if l.pwc != nil {
			walkNode(l.pwc)
		}
		if l.fwc != nil {
			walkNode(l.fwc)
		}
	}
	walk(sl.root)
	return dst
}

// nextToken cuts the first token off *rest; more reports whether tokens remain.
func nextToken(rest *string) (tok string, more bool) {
	s := *rest
	if i := strings.IndexByte(s, '.'); i >= 0 {
		*rest = s[i+1:]
		return s[:i], true
	}
	*rest = ""
	return s, false
}

func hasWildcard(subj string) bool {
	rest := subj
	for {
		tok, more := nextToken(&rest)
		if tok == "*" || tok == ">" {
			return true
		}
		if !more {
			return false
		}
	}
}

// matchLiteral reports whether the literal subject subj matches pattern.
func matchLiteral(subj, pattern string) bool {
	for {
		ptok, pmore := nextToken(&pattern)
		if ptok == ">" {
			return subj != ""
		}
		if subj == "" {
			return false
		}
		stok, smore := nextToken(&subj)
		if ptok != "*" && ptok != stok {
			return false
		}
		if !pmore || !smore {
			return !pmore && !smore
		}
	}
}
