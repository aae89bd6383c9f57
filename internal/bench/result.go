package bench

import "time"

// Result is one run's outcome.
type Result struct {
	Mode     string          `json:"mode"`
	Started  time.Time       `json:"started"`
	Config   ConfigSummary   `json:"config"`
	Groups   []*Group        `json:"groups"`
	Delivery *Delivery       `json:"delivery,omitempty"`
	Latency  *LatencySummary `json:"latency,omitempty"`
	Server   *ServerSample   `json:"server,omitempty"`
	Warnings []string        `json:"warnings,omitempty"`

	hist *Latency
}

// Group returns the group of role ("pub", "sub", "req", "rep"), or nil.
func (r *Result) Group(role string) *Group {
	for _, g := range r.Groups {
		if g.Role == role {
			return g
		}
	}
	return nil
}

// Histogram returns the merged latency histogram, or nil when the mode
// measured none.
func (r *Result) Histogram() *Latency { return r.hist }

// ConfigSummary is the part of the configuration a report repeats.
type ConfigSummary struct {
	Msgs         int           `json:"msgs,omitempty"`
	Duration     time.Duration `json:"duration_ns,omitempty"`
	Size         int           `json:"size"`
	HeaderBytes  int           `json:"header_bytes,omitempty"`
	Pubs         int           `json:"pubs"`
	Subs         int           `json:"subs"`
	Subject      string        `json:"subject"`
	MultiSubject bool          `json:"multisubject,omitempty"`
	Rate         float64       `json:"rate,omitempty"`
	Warmup       time.Duration `json:"warmup_ns,omitempty"`
	JS           *JSConfig     `json:"js,omitempty"` // streaming modes only
}

func summarize(c Config) ConfigSummary {
	return ConfigSummary{
		Msgs: c.Msgs, Duration: c.Duration, Size: c.Size, HeaderBytes: headerLen(c.Header),
		Pubs: c.Pubs, Subs: c.Subs, Subject: c.Subject, MultiSubject: c.MultiSubject,
		Rate: c.Rate, Warmup: c.Warmup, JS: c.JS.summary(c.Mode),
	}
}

// headerLen is the size of h on the wire (NATS/1.0 line, one line per
// value, blank line), as HPUB counts it.
func headerLen(h map[string][]string) int {
	if len(h) == 0 {
		return 0
	}
	n := len("NATS/1.0\r\n") + 2
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return n
}
