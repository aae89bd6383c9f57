package monitorapi

import (
	"encoding/json"
	"fmt"
)

// HealthStatus is the /healthz document. Status is "ok" with HTTP 200, or
// "error"/"unavailable" with StatusCode (also the HTTP status) and Error.
type HealthStatus struct {
	Status     string         `json:"status"`
	StatusCode int            `json:"status_code,omitempty"`
	Error      string         `json:"error,omitempty"`
	Errors     []HealthzError `json:"errors,omitempty"` // with ?details=true
}

// HealthzError is one failed check.
type HealthzError struct {
	Type     HealthzErrorType `json:"type"`
	Account  string           `json:"account,omitempty"`
	Stream   string           `json:"stream,omitempty"`
	Consumer string           `json:"consumer,omitempty"`
	Error    string           `json:"error,omitempty"`
}

// HealthzErrorType classifies a HealthzError. On the wire it is a string
// ("CONNECTION", "JETSTREAM", ...), as nats-server writes it.
type HealthzErrorType int

// Health check kinds, with nats-server's numbering and names.
const (
	HealthzErrorConn HealthzErrorType = iota
	HealthzErrorBadRequest
	HealthzErrorJetStream
	HealthzErrorAccount
	HealthzErrorStream
	HealthzErrorConsumer
)

var healthzErrorNames = [...]string{
	HealthzErrorConn:       "CONNECTION",
	HealthzErrorBadRequest: "BAD_REQUEST",
	HealthzErrorJetStream:  "JETSTREAM",
	HealthzErrorAccount:    "ACCOUNT",
	HealthzErrorStream:     "STREAM",
	HealthzErrorConsumer:   "CONSUMER",
}

func (t HealthzErrorType) String() string {
	if t >= 0 && int(t) < len(healthzErrorNames) {
		return healthzErrorNames[t]
	}
	return "unknown"
}

// MarshalJSON writes the type's name.
func (t HealthzErrorType) MarshalJSON() ([]byte, error) {
	return json.Marshal(t.String())
}

// UnmarshalJSON accepts the names MarshalJSON writes.
func (t *HealthzErrorType) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("healthz error type: %w", err)
	}
	for i, n := range healthzErrorNames {
		if n == s {
			*t = HealthzErrorType(i)
			return nil
		}
	}
	return fmt.Errorf("unknown healthz error type %q", s)
}
