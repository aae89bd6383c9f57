package server

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Exports and imports between accounts (nats-server accounts.go semantics):
//
//   - A stream export lets other accounts import messages published in the
//     exporter on its subjects; the importer may rename them (prefix or to).
//     The import is a subscription in the exporter's Sublist whose delivery
//     republishes the message in the importer.
//   - A service export lets other accounts send requests to it; the importer
//     publishes on its local subject (to), the request is republished in the
//     exporter with a reply subject of the form _R_.<id>.<n>, and the
//     response on that subject is carried back to the requester's reply
//     subject in the importer (respMap).
//
// An import is authorized when the exporter exports a subject the import's
// subject is a subset of, to everyone or to the importer by name; otherwise
// the server refuses to start (or the reload fails).

// Export is one entry of an account's exports: Stream or Service is the
// subject (wildcards allowed).
type Export struct {
	Stream, Service string
	// Accounts may import it; empty means every account.
	Accounts []string
	// ResponseType of a service: "singleton" (default), "stream" or
	// "chunked"; the latter two allow several responses until
	// ResponseThreshold (default 2m) passes.
	ResponseType      string
	ResponseThreshold time.Duration
	// AllowTrace (services only) lets a traced request be traced on in the
	// exporter (nats-server allow_trace); otherwise the trace stops at the
	// import.
	AllowTrace bool
}

// Import is one entry of an account's imports: a Stream or a Service of
// Account on Subject. To renames it in the importer (for a service, the
// subject the importer's clients publish to); Prefix (streams only)
// prepends "prefix." instead.
type Import struct {
	Service bool
	Account string
	Subject string
	To      string
	Prefix  string
	// AllowTrace (streams only) lets a traced message be traced on in this
	// account (nats-server allow_trace); otherwise the trace stops at the
	// import.
	AllowTrace bool
}

// ErrImportNotAuthorized is returned by New and Reload for an import the
// exporter does not allow.
var ErrImportNotAuthorized = errors.New("import not authorized")

// maxImportHops bounds chains of imports (A imports B imports A ...).
const maxImportHops = 8

const defaultRespThreshold = 2 * time.Minute

type exportEntry struct {
	service    bool
	subject    string
	accounts   map[string]bool // nil: public
	singleton  bool
	threshold  time.Duration
	allowTrace bool
}

type importEntry struct {
	service bool
	from    *Account // the exporter
	to      *Account // the importer
	exp     *exportEntry
	src     string // subject the import subscribes to (in its sub's account)
	local   string // the importer's subject
	tr      *transform
	sub     *subscription
	resp    *respMap // set for an exporter's response subscription
	// allowTrace: a stream import that carries traces on (Import.AllowTrace).
	allowTrace bool
}

// wireImports compiles every account's exports, then checks and builds its
// imports; the subscriptions are installed by installImports.
func wireImports(opts *Options, as *accountSet) error {
	for _, ao := range opts.Accounts {
		a := as.byName[ao.Name]
		a.exports = nil
		for i, e := range ao.Exports {
			ee, err := compileExport(e)
			if err != nil {
				return fmt.Errorf("accounts %s exports[%d]: %w", ao.Name, i, err)
			}
			a.exports = append(a.exports, ee)
		}
	}
	for _, ao := range opts.Accounts {
		a := as.byName[ao.Name]
		a.imports = nil
		for i, im := range ao.Imports {
			ie, err := compileImport(a, im, as)
			if err != nil {
				return fmt.Errorf("accounts %s imports[%d]: %w", ao.Name, i, err)
			}
			a.imports = append(a.imports, ie)
		}
	}
	return nil
}

func compileExport(e Export) (*exportEntry, error) {
	ee := &exportEntry{subject: e.Stream, singleton: true, threshold: e.ResponseThreshold, allowTrace: e.AllowTrace}
	switch {
	case e.Stream != "" && e.Service != "":
		return nil, errors.New("an export is a stream or a service, not both")
	case e.Service != "":
		ee.service, ee.subject = true, e.Service
	case e.Stream == "":
		return nil, errors.New("an export needs a stream or a service subject")
	}
	if !validSubject([]byte(ee.subject)) {
		return nil, fmt.Errorf("invalid subject %q", ee.subject)
	}
	switch strings.ToLower(e.ResponseType) {
	case "", "singleton":
	case "stream", "chunked":
		if !ee.service {
			return nil, errors.New("response_type applies to service exports only")
		}
		ee.singleton = false
	default:
		return nil, fmt.Errorf("response_type %q: want singleton, stream or chunked", e.ResponseType)
	}
	if ee.threshold <= 0 {
		ee.threshold = defaultRespThreshold
	}
	if len(e.Accounts) > 0 {
		ee.accounts = map[string]bool{}
		for _, n := range e.Accounts {
			ee.accounts[n] = true
		}
	}
	return ee, nil
}

func compileImport(a *Account, im Import, as *accountSet) (*importEntry, error) {
	kind := "stream"
	if im.Service {
		kind = "service"
	}
	from := as.byName[im.Account]
	switch {
	case im.Account == "":
		return nil, fmt.Errorf("%s import of %q: needs the exporting account", kind, im.Subject)
	case from == nil:
		return nil, fmt.Errorf("%s import of %q: account %q does not exist", kind, im.Subject, im.Account)
	case from == a:
		return nil, fmt.Errorf("%s import of %q: an account cannot import from itself", kind, im.Subject)
	case !validSubject([]byte(im.Subject)):
		return nil, fmt.Errorf("%s import: invalid subject %q", kind, im.Subject)
	case im.Service && im.Prefix != "":
		return nil, fmt.Errorf("service import of %q: prefix applies to stream imports; use to", im.Subject)
	case im.To != "" && im.Prefix != "":
		return nil, fmt.Errorf("%s import of %q: use to or prefix, not both", kind, im.Subject)
	}
	exp := from.findExport(im.Service, im.Subject, a.Name)
	if exp == nil {
		return nil, fmt.Errorf("%w: %s import of %q from account %s: %s does not export it to %s (add it to %s's exports)",
			ErrImportNotAuthorized, kind, im.Subject, from.Name, from.Name, a.Name, from.Name)
	}
	ie := &importEntry{service: im.Service, from: from, to: a, exp: exp, allowTrace: im.AllowTrace && !im.Service}
	local := im.Subject
	switch {
	case im.Prefix != "":
		local = im.Prefix + "." + im.Subject
	case im.To != "":
		local = im.To
	}
	if !validSubject([]byte(local)) {
		return nil, fmt.Errorf("%s import of %q: invalid local subject %q", kind, im.Subject, local)
	}
	ie.local = local
	var err error
	if im.Service { // the importer publishes on local; the exporter sees subject
		ie.src = local
		ie.tr, err = newTransform(local, im.Subject)
	} else { // the exporter publishes on subject; the importer sees local
		ie.src = im.Subject
		ie.tr, err = newTransform(im.Subject, local)
	}
	if err != nil {
		return nil, fmt.Errorf("%s import of %q: %w", kind, im.Subject, err)
	}
	return ie, nil
}

// findExport returns a's export of the given kind that covers subject and
// admits account importer, or nil.
func (a *Account) findExport(service bool, subject, importer string) *exportEntry {
	for _, e := range a.exports {
		if e.service != service || !subsetOf(subject, e.subject) {
			continue
		}
		if e.accounts == nil || e.accounts[importer] {
			return e
		}
	}
	return nil
}

// subsetOf reports whether every subject matching pattern sub also matches
// pattern of (nats-server's isSubsetMatch).
func subsetOf(sub, of string) bool {
	st, ot := strings.Split(sub, "."), strings.Split(of, ".")
	for i, o := range ot {
		if o == ">" {
			return i < len(st)
		}
		if i >= len(st) {
			return false
		}
		s := st[i]
		switch {
		case o == "*":
			if s == ">" {
				return false
			}
		case s != o:
			return false
		}
	}
	return len(st) == len(ot)
}

// installImports subscribes every import of as: service imports in the
// importer, stream imports in the exporter, and one response subscription
// per exporter of services.
func (s *Server) installImports(as *accountSet) {
	for _, a := range as.byName {
		for _, ie := range a.imports {
			s.installImport(ie)
		}
	}
}

// installImport subscribes one import: a service import in the importer, a
// stream import in the exporter.
func (s *Server) installImport(ie *importEntry) {
	in := ie.to
	if !ie.service {
		in = ie.from
	} else {
		ie.from.resp.init(s, ie.from)
	}
	ie.sub = &subscription{c: in.importConn(s), subject: ie.src, sid: "import", acc: in, imp: ie}
	in.sl.Insert(ie.sub)
}

// uninstallImports removes the subscriptions of the imports of accounts
// (before a reload installs the new ones).
func (s *Server) uninstallImports(as *accountSet) {
	for _, a := range as.byName {
		for _, ie := range a.imports {
			if ie.sub != nil {
				ie.sub.acc.sl.Remove(ie.sub)
			}
		}
	}
}

// importConn is the account's in-process connection that owns its import
// subscriptions.
func (a *Account) importConn(s *Server) *conn {
	a.icOnce.Do(func() { a.ic = s.newAccountInternalClient("import "+a.Name, a) })
	return a.ic.c
}

// forwardImport carries a message delivered to an import subscription into
// the other account; c is the publishing connection.
func (c *conn) forwardImport(sub *subscription, pa *pubArgs, payload []byte) bool {
	if c.hops >= maxImportHops {
		return false
	}
	ie := sub.imp
	var dst *Account
	subject := ie.tr.apply(pa.subject)
	reply := pa.reply
	route := false
	hdr, mt := pa.hdr, c.mt
	tracedStream := false // a traced stream import: egresses name the subscription as the exporter sees it
	switch {
	case ie.resp != nil: // a response carried back to the requester
		mt = nil // nats-server traces a response on its own
		e := ie.resp.take(string(pa.subject))
		if e == nil {
			return false
		}
		dst, subject, reply = e.acc, []byte(e.reply), nil
	case ie.service:
		dst, route = ie.from, true
		if mt != nil {
			mt.serviceImport(dst.Name, pa.subject, subject)
			if !ie.exp.allowTrace { // the exporter does not take traces (msgtrace.go)
				if mt.only {
					return true
				}
				mt = nil
				hdr, payload = withTraceDest(hdr, payload, traceDisabled)
			} else if !mt.only {
				// The exporter's copy names a response subject of the
				// exporter that leads back to the destination, as
				// nats-server's does (a server it reaches sends its
				// event there).
				hdr, payload = withTraceDest(hdr, payload, string(ie.from.resp.add(ie.to, mt.dest, ie.exp)))
			}
		}
		if !dst.hasInterest(string(subject)) {
			// Nobody serves it in the exporter: the requester gets the
			// 503 status a request to its own account would get.
			if len(pa.reply) > 0 && c.opts.NoResponders {
				c.noResponders(pa)
			}
			return true
		}
		if len(reply) > 0 && (mt == nil || !mt.only) {
			reply = ie.from.resp.add(ie.to, string(reply), ie.exp)
		}
	default:
		dst = ie.to
		if mt != nil {
			mt.streamExport(dst.Name, subject)
			if !ie.allowTrace { // the importer does not take traces
				if mt.only {
					return true
				}
				mt = nil
			}
		}
		tracedStream = mt != nil
	}
	if sub.c != nil && sub.c.srv != nil {
		var prev *importEntry
		if tracedStream {
			prev, mt.via = mt.via, ie
		}
		sub.c.srv.forward(c.hops+1, dst, route, subject, reply, hdr, payload, mt)
		if tracedStream {
			mt.via = prev
		}
	}
	return true
}

// forward publishes a message in dst as an in-process client would; mt is
// the trace it carries on, if any.
func (s *Server) forward(hops int, dst *Account, route bool, subject, reply []byte, hdr int, payload []byte, mt *msgTrace) {
	fc := s.fwdPool.Get().(*conn)
	fc.acc, fc.hops, fc.noRoute, fc.mt = dst, hops, !route, mt
	pa := pubArgs{subject: subject, reply: reply, hdr: hdr, size: len(payload)}
	_ = fc.processPub(&pa, payload)
	fc.inMsgs, fc.inBytes = 0, 0 // counted once, at the publisher
	fc.flushBatch()
	fc.acc, fc.mt = nil, nil
	s.fwdPool.Put(fc)
}

// ---- subject transforms ----

// transform maps a subject matching from to the pattern to: each '*' and
// '>' of to (in order), or "$n" / "{{wildcard(n)}}", takes the n-th token
// that a wildcard of from matched.
type transform struct {
	from, to []string
	ident    bool
}

func newTransform(from, to string) (*transform, error) {
	t := &transform{from: strings.Split(from, "."), to: strings.Split(to, "."), ident: from == to}
	nwc := 0
	for _, tok := range t.from {
		if tok == "*" || tok == ">" {
			nwc++
		}
	}
	used := 0
	for _, tok := range t.to {
		switch {
		case tok == "*" || tok == ">":
			used++
		case wildcardRef(tok) > 0:
			if wildcardRef(tok) > nwc {
				return nil, fmt.Errorf("%q refers to wildcard %d of %q, which has %d", to, wildcardRef(tok), from, nwc)
			}
		}
	}
	if used > nwc {
		return nil, fmt.Errorf("%q has more wildcards than %q", to, from)
	}
	return t, nil
}

// wildcardRef is n for "$n" or "{{wildcard(n)}}", else 0.
func wildcardRef(tok string) int {
	var num string
	switch {
	case len(tok) > 1 && tok[0] == '$':
		num = tok[1:]
	case strings.HasPrefix(tok, "{{wildcard(") && strings.HasSuffix(tok, ")}}"):
		num = strings.TrimSpace(tok[len("{{wildcard(") : len(tok)-3])
	default:
		return 0
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 {
		return 0
	}
	return n
}

// apply maps the literal subject subj.
func (t *transform) apply(subj []byte) []byte {
	if t.ident {
		return subj
	}
	toks := strings.Split(string(subj), ".")
	var caps []string
	for i, f := range t.from {
		switch {
		case f == ">":
			caps = append(caps, strings.Join(toks[min(i, len(toks)):], "."))
		case f == "*" && i < len(toks):
			caps = append(caps, toks[i])
		}
	}
	out := make([]byte, 0, len(subj)+16)
	next := 0
	for i, tok := range t.to {
		if i > 0 {
			out = append(out, '.')
		}
		switch n := wildcardRef(tok); {
		case tok == "*" || tok == ">":
			if next < len(caps) {
				out = append(out, caps[next]...)
			}
			next++
		case n > 0 && n <= len(caps):
			out = append(out, caps[n-1]...)
		default:
			out = append(out, tok...)
		}
	}
	return out
}

// ---- service responses ----

// respMap holds, for an exporter of services, the requests forwarded to it
// that await a response: its reply subject _R_.<id>.<n> -> the requester.
type respMap struct {
	once   sync.Once
	prefix string
	next   atomic.Uint64
	mu     sync.Mutex
	m      map[string]*respEntry
	swept  time.Time
	sub    *subscription
	imp    importEntry
}

type respEntry struct {
	acc       *Account
	reply     string
	singleton bool
	expires   time.Time
}

// init subscribes the exporter to its response subjects, once.
func (r *respMap) init(s *Server, a *Account) {
	r.once.Do(func() {
		r.prefix = "_R_." + string(newNonce()[:6]) + "."
		r.m = map[string]*respEntry{}
		r.imp = importEntry{from: a, to: a, resp: r, tr: &transform{ident: true}}
		r.sub = &subscription{c: a.importConn(s), subject: r.prefix + ">", sid: "responses", acc: a, imp: &r.imp}
		a.sl.Insert(r.sub)
	})
}

// add records a forwarded request and returns its reply subject in the
// exporter.
func (r *respMap) add(to *Account, reply string, exp *exportEntry) []byte {
	subj := r.prefix + uitoa(r.next.Add(1))
	now := time.Now()
	r.mu.Lock()
	if now.Sub(r.swept) > time.Second && len(r.m) > 0 {
		for k, e := range r.m {
			if now.After(e.expires) {
				delete(r.m, k)
			}
		}
		r.swept = now
	}
	r.m[subj] = &respEntry{acc: to, reply: reply, singleton: exp.singleton, expires: now.Add(exp.threshold)}
	r.mu.Unlock()
	return []byte(subj)
}

// take returns the requester of a response on subj, forgetting it after a
// singleton's one response.
func (r *respMap) take(subj string) *respEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.m[subj]
	if e == nil {
		return nil
	}
	if e.singleton || time.Now().After(e.expires) {
		delete(r.m, subj)
	}
	if time.Now().After(e.expires) {
		return nil
	}
	return e
}
