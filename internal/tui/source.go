package tui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/natsctl/natsctl/internal/monitorapi"
)

// Request says what one poll asks the server for.
type Request struct {
	Sort  monitorapi.SortOpt // /connz sort; the server sorts before it limits
	Limit int                // /connz limit; <= 0 means the server default (1024)
	Subs  bool               // /connz subs=1: subscription subjects per connection
	// Subjects asks /subjz (a natsctl extension) for the busiest subjects.
	Subjects bool
	// Streams asks /jsz for streams and consumers.
	Streams bool
}

// Snapshot is what one poll returned.
type Snapshot struct {
	Varz  *monitorapi.Varz  `json:"varz"`
	Connz *monitorapi.Connz `json:"connz"`
	// Subjz is nil when it was not asked for or the server has no /subjz.
	Subjz *monitorapi.Subjz `json:"subjz,omitempty"`
	// SubjzErr explains why Subjz is nil although it was asked for.
	SubjzErr string `json:"-"`
	// Jsz is nil when it was not asked for or could not be had (JszErr).
	Jsz    *JSStreams `json:"jsz,omitempty"`
	JszErr string     `json:"-"`
}

// Source fetches snapshots. Fetch runs off the UI goroutine and must honour
// ctx; it returns an error when /varz or /connz cannot be had.
type Source interface {
	Fetch(ctx context.Context, req Request) (*Snapshot, error)
	// Name says what is being watched, for the header and error messages.
	Name() string
}

// ErrNoSubjz means the server does not serve /subjz (nats-server).
var ErrNoSubjz = errors.New("per-subject statistics (/subjz) are not available on this server")

// HTTPSource polls a monitoring HTTP endpoint.
type HTTPSource struct {
	base   *url.URL
	client *http.Client
}

// NewHTTPSource returns a Source for the monitoring endpoint at rawURL
// ("http://127.0.0.1:8222"; a bare host:port gets http://). A nil client
// means one with a 5 s timeout.
func NewHTTPSource(rawURL string, client *http.Client) (*HTTPSource, error) {
	if !strings.Contains(rawURL, "://") {
		rawURL = "http://" + rawURL
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("monitoring URL %q: %w", rawURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("monitoring URL %q: scheme must be http or https (the monitoring port, e.g. http://127.0.0.1:8222)", rawURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("monitoring URL %q has no host", rawURL)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	return &HTTPSource{base: u, client: client}, nil
}

// Name returns the endpoint's URL.
func (s *HTTPSource) Name() string { return s.base.String() }

// Fetch gets /varz, /connz and, when asked, /subjz. A 404 from /subjz is
// not an error: the snapshot then has no Subjz and SubjzErr says why.
func (s *HTTPSource) Fetch(ctx context.Context, req Request) (*Snapshot, error) {
	snap := &Snapshot{Varz: &monitorapi.Varz{}, Connz: &monitorapi.Connz{}}
	if err := s.get(ctx, monitorapi.VarzPath, nil, snap.Varz); err != nil {
		return nil, err
	}
	if err := s.get(ctx, monitorapi.ConnzPath, connzQuery(req), snap.Connz); err != nil {
		return nil, err
	}
	if req.Subjects {
		sz := &monitorapi.Subjz{}
		err := s.get(ctx, monitorapi.SubjzPath, url.Values{"limit": {"100"}}, sz)
		switch {
		case err == nil:
			snap.Subjz = sz
		case errors.Is(err, errNotFound):
			snap.SubjzErr = ErrNoSubjz.Error()
		default:
			snap.SubjzErr = err.Error()
		}
	}
	if req.Streams {
		js := &JSStreams{}
		q := url.Values{"accounts": {"true"}, "streams": {"true"}, "consumers": {"true"}}
		err := s.get(ctx, monitorapi.JszPath, q, js)
		switch {
		case err == nil:
			snap.Jsz = js
		case errors.Is(err, errNotFound):
			snap.JszErr = "this server has no /jsz: start it with JetStream (natsctl serve, nats-server -js)"
		default:
			snap.JszErr = err.Error()
		}
	}
	return snap, nil
}

func connzQuery(req Request) url.Values {
	q := url.Values{}
	if req.Sort != "" {
		q.Set("sort", string(req.Sort))
	}
	if req.Limit > 0 {
		q.Set("limit", strconv.Itoa(req.Limit))
	}
	if req.Subs {
		q.Set("subs", "1")
	}
	return q
}

var errNotFound = errors.New("not found")

// get fetches one endpoint and decodes it into v. A non-200 reply becomes an
// error carrying the status and the start of the body, as nats-top shows it.
func (s *HTTPSource) get(ctx context.Context, path string, q url.Values, v any) error {
	u := *s.base
	u.Path += path
	u.RawQuery = q.Encode()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	resp, err := s.client.Do(hreq)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 80))
		err := fmt.Errorf("GET %s: %s: %s", path, resp.Status, strings.TrimSpace(string(b)))
		if resp.StatusCode == http.StatusNotFound {
			err = fmt.Errorf("%w: %w", errNotFound, err)
		}
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("GET %s: decode: %w", path, err)
	}
	return nil
}
