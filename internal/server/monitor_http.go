package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/natsctl/natsctl/internal/monitorapi"
)

// monitor is the server's monitoring state: the HTTP listener and what the
// endpoints report beyond the connection table and counters.
type monitor struct {
	ln      net.Listener // nil when monitoring is off
	srv     *http.Server
	proc    procUsage
	closed  closedRing
	subjTop subjectTop
	// subjRate is the mean sampling gap of the top-subjects counter (1:
	// every message, 0: off); read at each sample.
	subjRate atomic.Int64
	stale    atomic.Int64
	reqs     [len(monitorPaths)]atomic.Uint64
}

// monitorPaths are the endpoints, in the order of monitor.reqs.
var monitorPaths = [...]string{
	"/",
	monitorapi.VarzPath,
	monitorapi.ConnzPath,
	monitorapi.RoutezPath,
	monitorapi.SubszPath,
	monitorapi.AccountzPath,
	monitorapi.JszPath,
	monitorapi.HealthzPath,
	monitorapi.SubjzPath,
	MetricsPath,
}

// MetricsPath serves the same figures in Prometheus text format.
const MetricsPath = "/metrics"

// reqStats is /varz http_req_stats: requests served per path.
func (m *monitor) reqStats() map[string]uint64 {
	out := make(map[string]uint64, len(monitorPaths))
	for i, p := range monitorPaths {
		out[p] = m.reqs[i].Load()
	}
	return out
}

// listenMonitor binds the monitoring listener (New calls it, so that a port
// in use fails there and MonitorAddr is known before Start).
func (s *Server) listenMonitor() error {
	s.mon.subjRate.Store(defaultSubjRate)
	if s.opts.HTTPPort == 0 && s.opts.HTTPSPort == 0 {
		return nil
	}
	port := max(s.opts.HTTPPort, s.opts.HTTPSPort, 0) // one of them is 0 (newSecurity)
	ln, err := net.Listen("tcp", net.JoinHostPort(s.opts.HTTPHost, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("listen for monitoring on %s:%d: %w", s.opts.HTTPHost, s.opts.HTTPPort, err)
	}
	s.mon.ln = s.monitorTLS(ln) // HTTPS when https_port is set (tls.go)
	s.mon.srv = &http.Server{
		Handler:           s.monitorHandler(),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	return nil
}

// serveMonitor starts answering monitoring requests (Start calls it).
func (s *Server) serveMonitor() {
	if s.mon.ln == nil {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.mon.srv.Serve(s.mon.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("monitoring listener failed", "err", err)
		}
	}()
	s.log.Info("listening for monitoring", "addr", s.MonitorAddr().String(), "url", s.MonitorURL())
}

// closeMonitor stops the monitoring listener; requests in flight finish
// on their own (they hold no lock for long).
func (s *Server) closeMonitor() {
	if s.mon.srv != nil {
		s.mon.srv.Close()
	} else if s.mon.ln != nil {
		s.mon.ln.Close()
	}
}

// MonitorAddr is the bound monitoring address, nil when monitoring is off.
func (s *Server) MonitorAddr() *net.TCPAddr {
	if s.mon.ln == nil {
		return nil
	}
	return s.mon.ln.Addr().(*net.TCPAddr)
}

// MonitorURL is the monitoring endpoint's base URL ("http://127.0.0.1:8222"),
// empty when monitoring is off.
func (s *Server) MonitorURL() string {
	a := s.MonitorAddr()
	if a == nil {
		return ""
	}
	if s.opts.HTTPSPort != 0 {
		return "https://" + a.String()
	}
	return "http://" + a.String()
}

func (s *Server) monitorHandler() http.Handler {
	mux := http.NewServeMux()
	handle := func(i int, h func(w http.ResponseWriter, r *http.Request)) {
		path := monitorPaths[i]
		if path == "/" {
			path = "/{$}"
		}
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			s.mon.reqs[i].Add(1)
			h(w, r)
		})
	}
	handle(0, s.handleRoot)
	handle(1, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Varz()) })
	handle(2, s.handleConnz)
	handle(3, func(w http.ResponseWriter, r *http.Request) {
		subs := r.URL.Query().Get("subs")
		opts := RoutezOptions{SubsDetail: subs == "detail"}
		opts.Subs, _ = strconv.ParseBool(subs)
		writeJSON(w, http.StatusOK, s.Routez(opts))
	})
	handle(4, s.handleSubsz)
	handle(5, func(w http.ResponseWriter, r *http.Request) {
		az, err := s.Accountz(r.URL.Query().Get("acc"))
		writeResult(w, az, err)
	})
	handle(6, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		flag := func(k string) bool { b, _ := strconv.ParseBool(q.Get(k)); return b }
		num := func(k string) int { n, _ := strconv.Atoi(q.Get(k)); return n }
		info := s.JSZ(JSZOptions{Account: q.Get("acc"), Accounts: flag("accounts"), Streams: flag("streams"),
			Consumers: flag("consumers"), Config: flag("config"), Offset: num("offset"), Limit: num("limit")})
		writeJSON(w, http.StatusOK, &info)
	})
	handle(7, s.handleHealthz)
	handle(8, s.handleSubjz)
	handle(9, s.metricsHandler().ServeHTTP)
	// nats-server's older name for /subsz.
	mux.HandleFunc("/subscriptionsz", func(w http.ResponseWriter, r *http.Request) {
		s.mon.reqs[4].Add(1)
		s.handleSubsz(w, r)
	})
	return mux
}

func (s *Server) handleRoot(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var b strings.Builder
	fmt.Fprintf(&b, "<html><head><title>natsctl %s</title></head><body>\n<h1>natsctl server %s</h1>\n<ul>\n", s.name, s.name)
	for _, p := range monitorPaths[1:] {
		fmt.Fprintf(&b, "<li><a href=\".%s\">%s</a></li>\n", p, p)
	}
	b.WriteString("</ul>\n</body></html>\n")
	w.Write([]byte(b.String()))
}

func (s *Server) handleConnz(w http.ResponseWriter, r *http.Request) {
	q := query{r: r}
	o := ConnzOptions{
		Sort:    monitorapi.SortOpt(r.URL.Query().Get("sort")),
		Offset:  q.int("offset"),
		Limit:   q.int("limit"),
		CID:     q.uint64("cid"),
		Auth:    q.bool("auth"),
		Account: r.URL.Query().Get("acc"),
	}
	if strings.EqualFold(r.URL.Query().Get("subs"), "detail") {
		o.SubsDetail = true
	} else {
		o.Subs = q.bool("subs")
	}
	switch st := strings.ToLower(r.URL.Query().Get("state")); st {
	case "", "open":
		o.State = monitorapi.ConnOpen
	case "closed":
		o.State = monitorapi.ConnClosed
	case "any", "all":
		o.State = monitorapi.ConnAll
	default:
		q.fail("Error decoding state for " + st)
	}
	if q.err != nil {
		writeError(w, http.StatusBadRequest, q.err.Error())
		return
	}
	cz, err := s.Connz(o)
	writeResult(w, cz, err)
}

func (s *Server) handleSubsz(w http.ResponseWriter, r *http.Request) {
	q := query{r: r}
	o := SubszOptions{Subs: q.bool("subs"), Offset: q.int("offset"), Limit: q.int("limit"), Test: r.URL.Query().Get("test")}
	if q.err != nil {
		writeError(w, http.StatusBadRequest, q.err.Error())
		return
	}
	sz, err := s.Subsz(o)
	writeResult(w, sz, err)
}

func (s *Server) handleSubjz(w http.ResponseWriter, r *http.Request) {
	q := query{r: r}
	o := SubjzOptions{Limit: q.int("limit"), Sort: r.URL.Query().Get("sort")}
	if q.err != nil {
		writeError(w, http.StatusBadRequest, q.err.Error())
		return
	}
	sz, err := s.Subjz(o)
	writeResult(w, sz, err)
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	h := s.Healthz()
	code := h.StatusCode
	h.StatusCode = 0 // the HTTP status says it, as nats-server leaves it out
	writeJSON(w, code, h)
}

// query decodes integer and boolean parameters, keeping the first error in
// nats-server's wording.
type query struct {
	r   *http.Request
	err error
}

func (q *query) fail(msg string) {
	if q.err == nil {
		q.err = errors.New(msg)
	}
}

func (q *query) int(name string) int {
	v := q.r.URL.Query().Get(name)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		q.fail(fmt.Sprintf("Error decoding int for '%s': %v", name, err))
	}
	return n
}

func (q *query) uint64(name string) uint64 {
	v := q.r.URL.Query().Get(name)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		q.fail(fmt.Sprintf("Error decoding uint64 for '%s': %v", name, err))
	}
	return n
}

func (q *query) bool(name string) bool {
	v := q.r.URL.Query().Get(name)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		q.fail(fmt.Sprintf("Error decoding boolean for '%s': %v", name, err))
	}
	return b
}

// writeResult writes v, or err as 400 when it is a badRequest, else 500.
func writeResult(w http.ResponseWriter, v any, err error) {
	var br *badRequest
	switch {
	case errors.As(err, &br):
		writeError(w, http.StatusBadRequest, br.msg)
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
	default:
		writeJSON(w, http.StatusOK, v)
	}
}

// writeJSON writes v indented, as nats-server does, and ends the body with
// a newline.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		writeError(w, http.StatusInternalServerError, "encode: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

// writeError answers with a plain-text message. The body always ends with a
// newline: nats-top crashes on an error body without one.
func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.WriteHeader(code)
	w.Write([]byte(strings.TrimRight(msg, "\n") + "\n"))
}
