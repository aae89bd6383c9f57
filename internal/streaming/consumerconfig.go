package streaming

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ConsumerConfig is a consumer's configuration with nats-server's JSON
// names (server/consumer.go ConsumerConfig). Fields natsctl does not
// implement are refused by name on create (decodeConsumerConfig), never
// dropped.
type ConsumerConfig struct {
	Durable            string            `json:"durable_name,omitempty"`
	Name               string            `json:"name,omitempty"`
	Description        string            `json:"description,omitempty"`
	DeliverPolicy      DeliverPolicy     `json:"deliver_policy"`
	OptStartSeq        uint64            `json:"opt_start_seq,omitempty"`
	OptStartTime       *time.Time        `json:"opt_start_time,omitempty"`
	AckPolicy          AckPolicy         `json:"ack_policy"`
	AckWait            time.Duration     `json:"ack_wait,omitempty"`
	MaxDeliver         int               `json:"max_deliver,omitempty"`
	BackOff            []time.Duration   `json:"backoff,omitempty"`
	FilterSubject      string            `json:"filter_subject,omitempty"`
	FilterSubjects     []string          `json:"filter_subjects,omitempty"`
	ReplayPolicy       ReplayPolicy      `json:"replay_policy"`
	RateLimit          uint64            `json:"rate_limit_bps,omitempty"`
	MaxWaiting         int               `json:"max_waiting,omitempty"`
	MaxAckPending      int               `json:"max_ack_pending,omitempty"`
	HeadersOnly        bool              `json:"headers_only,omitempty"`
	MaxRequestBatch    int               `json:"max_batch,omitempty"`
	MaxRequestExpires  time.Duration     `json:"max_expires,omitempty"`
	MaxRequestMaxBytes int               `json:"max_bytes,omitempty"`
	DeliverSubject     string            `json:"deliver_subject,omitempty"`
	DeliverGroup       string            `json:"deliver_group,omitempty"`
	FlowControl        bool              `json:"flow_control,omitempty"`
	Heartbeat          time.Duration     `json:"idle_heartbeat,omitempty"`
	InactiveThreshold  time.Duration     `json:"inactive_threshold,omitempty"`
	Replicas           int               `json:"num_replicas"`
	MemoryStorage      bool              `json:"mem_storage,omitempty"`
	Metadata           map[string]string `json:"metadata,omitempty"`
	// PauseUntil suspends delivery until then (consumerpause.go); nil: not paused.
	PauseUntil *time.Time `json:"pause_until,omitempty"`
}

// Defaults, nats-server's (JsAckWaitDefault, JsDefaultMaxAckPending,
// JSWaitQueueDefaultMax, JsDeleteWaitTimeDefault).
const (
	defaultAckWait           = 30 * time.Second
	defaultMaxAckPending     = 1000
	defaultMaxWaiting        = 512
	defaultEphemeralInactive = 5 * time.Second
)

var consumerFields = map[string]bool{
	"durable_name": true, "name": true, "description": true, "deliver_policy": true,
	"opt_start_seq": true, "opt_start_time": true, "ack_policy": true, "ack_wait": true,
	"max_deliver": true, "backoff": true, "filter_subject": true, "filter_subjects": true,
	"replay_policy": true, "rate_limit_bps": true, "max_waiting": true,
	"max_ack_pending": true, "headers_only": true, "max_batch": true, "max_expires": true,
	"max_bytes": true, "deliver_subject": true, "deliver_group": true, "flow_control": true,
	"idle_heartbeat": true, "inactive_threshold": true, "num_replicas": true,
	"mem_storage": true, "metadata": true, "pause_until": true,
}

// consumerCreateRequest is the body of CONSUMER.CREATE and
// CONSUMER.DURABLE.CREATE.
type consumerCreateRequest struct {
	Stream   string          `json:"stream_name"`
	Config   json.RawMessage `json:"config"`
	Action   string          `json:"action,omitempty"`
	Pedantic bool            `json:"pedantic,omitempty"`
}

// decodeConsumerConfig decodes the "config" object, refusing by name any
// field that natsctl does not implement and that holds a non-zero value
// (sample_freq, priority groups, ...). A zero pause_until (natscli sends
// Go's zero time) is no pause; a pause is kept in UTC, as nats-server does.
func decodeConsumerConfig(raw json.RawMessage) (*ConsumerConfig, *APIError) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, errInvalidJSON(err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !consumerFields[k] && !zeroJSON(m[k]) {
			return nil, errConsumerCreate(fmt.Sprintf("consumer configuration field %q is not supported by natsctl yet; remove it", k))
		}
	}
	var cfg ConsumerConfig
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, errInvalidJSON(err)
	}
	cfg.PauseUntil = normPause(cfg.PauseUntil)
	return &cfg, nil
}

// filters returns the consumer's filter set (nil: everything).
func (c *ConsumerConfig) filters() []string {
	if c.FilterSubject != "" {
		return []string{c.FilterSubject}
	}
	return c.FilterSubjects
}

func (c *ConsumerConfig) isPush() bool { return c.DeliverSubject != "" }

// setConsumerDefaults fills what nats-server fills on create
// (setConsumerConfigDefaults), so the config returned is the one in force.
func setConsumerDefaults(c *ConsumerConfig, sc *StreamConfig) {
	if c.MaxDeliver == 0 || c.MaxDeliver < -1 {
		c.MaxDeliver = -1
	}
	c.MaxWaiting = max(c.MaxWaiting, 0)
	if c.MaxAckPending < -1 {
		c.MaxAckPending = -1
	}
	c.MaxRequestBatch = max(c.MaxRequestBatch, 0)
	c.MaxRequestExpires = max(c.MaxRequestExpires, 0)
	c.MaxRequestMaxBytes = max(c.MaxRequestMaxBytes, 0)
	c.Heartbeat = max(c.Heartbeat, 0)
	c.InactiveThreshold = max(c.InactiveThreshold, 0)
	if c.DeliverSubject == "" && c.MaxWaiting == 0 {
		c.MaxWaiting = defaultMaxWaiting
	}
	if c.AckWait == 0 && c.AckPolicy != AckNone {
		c.AckWait = defaultAckWait
	}
	if len(c.BackOff) > 0 {
		c.AckWait = c.BackOff[0]
	}
	if c.MaxAckPending == 0 {
		c.MaxAckPending = sc.ConsumerLimits.MaxAckPending
	}
	if c.InactiveThreshold == 0 {
		c.InactiveThreshold = sc.ConsumerLimits.InactiveThreshold
	}
	if c.MaxAckPending == 0 && c.AckPolicy != AckNone {
		c.MaxAckPending = defaultMaxAckPending
	}
	if c.Durable == "" && c.InactiveThreshold == 0 {
		c.InactiveThreshold = defaultEphemeralInactive
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.Durable != "" && c.Name == "" {
		c.Name = c.Durable
	}
}

// validateConsumer applies nats-server's checks (checkConsumerCfg) for
// the features natsctl has, with its error codes.
func validateConsumer(c *ConsumerConfig, sc *StreamConfig) *APIError {
	if c.Durable != "" && c.Name != "" && c.Durable != c.Name {
		return apiErr(400, 10132, "Consumer Durable and Name have to be equal if both are provided")
	}
	for _, n := range []string{c.Durable, c.Name} {
		switch {
		case strings.ContainsAny(n, `/\`):
			return apiErr(400, 10127, "Consumer name can not contain path separators")
		case strings.ContainsAny(n, ".*> \t\r\n"):
			return apiErr(400, 10103, "durable name can not contain '.', '*', '>'")
		case len(n) > 255:
			return apiErr(400, 10102, "consumer name is too long, maximum allowed is 255")
		}
	}
	if len(c.Description) > 4096 {
		return apiErr(400, 10107, "consumer description is too long, maximum allowed is 4096")
	}
	switch {
	case c.Replicas > 1:
		return apiErr(500, 10074, "replicas > 1 not supported in non-clustered mode")
	case c.Replicas < 0:
		return apiErr(400, 10133, "replicas count cannot be negative")
	case c.AckWait < 0:
		return apiErr(400, 10183, "consumer ack wait needs to be positive")
	}
	if len(c.BackOff) > 0 {
		if c.MaxDeliver != -1 && c.MaxDeliver <= len(c.BackOff) {
			return apiErr(400, 10116, "max deliver is required to be > length of backoff values")
		}
		for _, d := range c.BackOff {
			if d <= 0 {
				return apiErr(400, 10184, "consumer backoff needs to be positive")
			}
		}
	}
	switch c.DeliverPolicy {
	case DeliverByStartSequence:
		if c.OptStartSeq == 0 {
			return apiErr(400, 10094, "consumer delivery policy is deliver by start sequence, but optional start sequence is not set")
		}
		if c.OptStartTime != nil {
			return apiErr(400, 10094, "consumer delivery policy is deliver by start sequence, but optional start time is also set")
		}
	case DeliverByStartTime:
		if c.OptStartTime == nil {
			return apiErr(400, 10094, "consumer delivery policy is deliver by start time, but optional start time is not set")
		}
		if c.OptStartSeq != 0 {
			return apiErr(400, 10094, "consumer delivery policy is deliver by start time, but optional start sequence is also set")
		}
	default:
		if c.OptStartSeq != 0 {
			return apiErr(400, 10094, fmt.Sprintf("consumer delivery policy is deliver %s, but optional start sequence is also set", c.DeliverPolicy))
		}
		if c.OptStartTime != nil {
			return apiErr(400, 10094, fmt.Sprintf("consumer delivery policy is deliver %s, but optional start time is also set", c.DeliverPolicy))
		}
	}
	if c.FilterSubject != "" && len(c.FilterSubjects) > 0 {
		return apiErr(400, 10136, "consumer cannot have both FilterSubject and FilterSubjects specified")
	}
	for i, f := range c.FilterSubjects {
		if f == "" {
			return apiErr(400, 10139, "consumer filter in FilterSubjects cannot be empty")
		}
		for _, g := range c.FilterSubjects[i+1:] {
			if subjectsOverlap(f, g) {
				return apiErr(400, 10138, "consumer subject filters cannot overlap")
			}
		}
	}
	for _, f := range c.filters() {
		if !validSubject(f) || !filterInStream(f, sc.Subjects) {
			return apiErr(400, 10093, "consumer filter subject is not a valid subset of the interest subjects")
		}
	}
	if c.isPush() {
		switch {
		case !validSubject(c.DeliverSubject):
			return apiErr(400, 10112, "invalid push consumer deliver subject")
		case hasWildToken(c.DeliverSubject):
			return apiErr(400, 10079, "consumer deliver subject has wildcards")
		case c.MaxWaiting > 0:
			return apiErr(400, 10080, "consumer in push mode can not set max waiting")
		case c.MaxRequestBatch > 0 || c.MaxRequestExpires > 0 || c.MaxRequestMaxBytes > 0:
			return errConsumerCreate("consumer in push mode can not set max_batch, max_expires or max_bytes")
		case c.FlowControl && c.Heartbeat == 0:
			return apiErr(400, 10108, "consumer with flow control also needs heartbeats")
		case c.Heartbeat > 0 && c.Heartbeat < 100*time.Millisecond:
			return apiErr(400, 10083, "consumer idle heartbeat needs to be >= 100ms")
		}
	} else {
		switch {
		case c.FlowControl:
			return apiErr(400, 10089, "consumer flow control requires a push based consumer")
		case c.Heartbeat > 0:
			return apiErr(400, 10088, "consumer idle heartbeat requires a push based consumer")
		case c.RateLimit > 0:
			return apiErr(400, 10086, "consumer in pull mode can not have rate limit set")
		case c.DeliverGroup != "":
			return errConsumerCreate("consumer in pull mode can not have a deliver group")
		case c.MaxRequestExpires > 0 && c.MaxRequestExpires < time.Millisecond:
			return apiErr(400, 10115, "consumer max request expires needs to be >= 1ms")
		}
	}
	if c.MaxAckPending > 0 && c.AckPolicy == AckNone {
		return apiErr(400, 10082, "consumer requires ack policy for max ack pending")
	}
	if sc.Retention == WorkQueue && c.AckPolicy != AckExplicit {
		return apiErr(400, 10098, "workqueue stream requires explicit ack")
	}
	return nil
}

// filterInStream reports whether filter overlaps one of the stream's
// subjects (nats-server refuses filters outside the stream).
func filterInStream(filter string, subjects []string) bool {
	for _, s := range subjects {
		if subjectsOverlap(filter, s) {
			return true
		}
	}
	return false
}

// DeliverPolicy is where a consumer starts.
type DeliverPolicy int

const (
	DeliverAll DeliverPolicy = iota
	DeliverLast
	DeliverNew
	DeliverByStartSequence
	DeliverByStartTime
	DeliverLastPerSubject
)

var deliverNames = []string{"all", "last", "new", "by_start_sequence", "by_start_time", "last_per_subject"}

func (d DeliverPolicy) String() string               { return enumName(deliverNames, int(d)) }
func (d DeliverPolicy) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }
func (d *DeliverPolicy) UnmarshalJSON(b []byte) error {
	if string(b) == `"undefined"` || string(b) == `""` {
		*d = DeliverAll
		return nil
	}
	return enumParse(b, "deliver_policy", deliverNames, (*int)(d))
}

// AckPolicy is none, all or explicit.
type AckPolicy int

const (
	AckNone AckPolicy = iota
	AckAll
	AckExplicit
)

var ackNames = []string{"none", "all", "explicit"}

func (a AckPolicy) String() string               { return enumName(ackNames, int(a)) }
func (a AckPolicy) MarshalJSON() ([]byte, error) { return json.Marshal(a.String()) }
func (a *AckPolicy) UnmarshalJSON(b []byte) error {
	return enumParse(b, "ack_policy", ackNames, (*int)(a))
}

// ReplayPolicy is instant or original.
type ReplayPolicy int

const (
	ReplayInstant ReplayPolicy = iota
	ReplayOriginal
)

var replayNames = []string{"instant", "original"}

func (r ReplayPolicy) String() string               { return enumName(replayNames, int(r)) }
func (r ReplayPolicy) MarshalJSON() ([]byte, error) { return json.Marshal(r.String()) }
func (r *ReplayPolicy) UnmarshalJSON(b []byte) error {
	return enumParse(b, "replay_policy", replayNames, (*int)(r))
}
