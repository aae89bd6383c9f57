package streaming

import (
	"bytes"
	"encoding/json"
	"time"
)

// Pausing a consumer (nats-server 2.11, API level 1; its jetstream_api.go
// and consumer.go): while config.pause_until lies in the future the
// consumer delivers nothing, pull requests wait (their expiry and
// heartbeats still run), push consumers send only heartbeats. Acks are
// still taken. When the time passes the delivery goroutine wakes by itself
// and carries on.
//
//	CONSUMER.PAUSE.<stream>.<consumer>   {"pause_until": "<RFC 3339>"}
//
// An empty body or a zero time resumes. Pausing at create time goes
// through pause_until in the config; an update keeps the current pause
// (nats-server ignores pause_until on update: only this API changes it).
// Each change, each create/update request on a paused consumer and the end
// of a pause publish $JS.EVENT.ADVISORY.CONSUMER.PAUSE.<stream>.<consumer>.

const typeConsumerPause = "io.nats.jetstream.api.v1.consumer_pause_response"

type consumerPauseRequest struct {
	PauseUntil time.Time `json:"pause_until,omitempty"`
}

type consumerPauseResponse struct {
	apiResponse
	Paused         bool          `json:"paused"`
	PauseUntil     time.Time     `json:"pause_until"`
	PauseRemaining time.Duration `json:"pause_remaining,omitempty"`
}

type pauseAdvisory struct {
	advisoryEvent
	Stream     string     `json:"stream"`
	Consumer   string     `json:"consumer"`
	Paused     bool       `json:"paused"`
	PauseUntil *time.Time `json:"pause_until,omitempty"`
}

// normPause turns a zero time into no pause and keeps a pause in UTC.
func normPause(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// pausedLocked reports whether delivery is suspended at now (c.mu held).
func (c *consumer) pausedLocked(now time.Time) bool {
	return c.cfg.PauseUntil != nil && now.Before(*c.cfg.PauseUntil)
}

// pauseEndedLocked reports, once, that a pause in force has just run out:
// the delivery goroutine then publishes the advisory (c.mu held).
func (c *consumer) pauseEndedLocked(now time.Time) bool {
	if !c.pauseArmed || c.pausedLocked(now) {
		return false
	}
	c.pauseArmed = false
	return true
}

// armPauseLocked records the pause in force, so that its end is announced
// (c.mu held).
func (c *consumer) armPauseLocked() {
	c.pauseArmed = c.pausedLocked(time.Now())
}

func (e *Engine) consumerPause(stream, name string, body []byte) reply {
	fail := func(err *APIError) reply { return consumerFail(typeConsumerPause, err) }
	var req consumerPauseRequest
	// Like nats-server, a body that is not a JSON object (empty) resumes.
	if b := bytes.TrimSpace(body); len(b) > 0 && (b[0] == '{' || b[0] == '[') {
		if err := json.Unmarshal(b, &req); err != nil {
			return fail(errInvalidJSON(err))
		}
	}
	st := e.lookup(stream)
	if st == nil {
		return fail(errStreamNotFound)
	}
	c := st.consumer(name)
	if c == nil {
		return fail(errConsumerNotFound)
	}
	c.mu.Lock()
	cfg := c.cfg
	c.mu.Unlock()
	old := cfg.PauseUntil
	cfg.PauseUntil = normPause(&req.PauseUntil)
	if err := c.update(&cfg); err != nil {
		return fail(errConsumerCreate(err.Error()))
	}
	if !samePause(old, cfg.PauseUntil) {
		e.advisoryPause(c, cfg.PauseUntil)
	}
	resp := consumerPauseResponse{apiResponse: apiResponse{Type: typeConsumerPause}}
	if cfg.PauseUntil != nil {
		resp.PauseUntil = *cfg.PauseUntil
		if rem := time.Until(resp.PauseUntil); rem > 0 {
			resp.Paused, resp.PauseRemaining = true, rem
		}
	}
	return jsonReply(resp, false)
}

func samePause(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// advisoryPause announces a pause, a resume, or the end of a pause.
func (e *Engine) advisoryPause(c *consumer, until *time.Time) {
	a := pauseAdvisory{
		advisoryEvent: newAdvisoryEvent("io.nats.jetstream.advisory.v1.consumer_pause"),
		Stream:        c.st.name, Consumer: c.name, PauseUntil: until,
	}
	if until != nil {
		a.Paused = time.Now().Before(*until)
	}
	e.advisory("$JS.EVENT.ADVISORY.CONSUMER.PAUSE."+c.st.name+"."+c.name, a)
}
