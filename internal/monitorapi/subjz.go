package monitorapi

import "time"

// Subjz is the document of the natsctl extension endpoint /subjz (nats-server
// answers 404): the busiest published subjects with cumulative counters.
//
// Counters are totals since the server started tracking the subject, like
// /varz in_msgs, so a reader computes rates from two polls; a subject that
// drops out of the top list and comes back keeps its totals. Query
// parameters: limit (default 100), sort=msgs|bytes (descending, default
// msgs).
type Subjz struct {
	ID    string    `json:"server_id"`
	Now   time.Time `json:"now"`
	Total int       `json:"total"` // distinct subjects tracked
	Limit int       `json:"limit"`
	Sort  string    `json:"sort"` // SubjzByMsgs or SubjzByBytes
	// Sampling says how counts were made: on average one published message
	// in Sampling is looked at and stands for the Sampling messages around
	// it, so counts are estimates (exact when 1; 0 when counting is off).
	Sampling int            `json:"sampling,omitempty"`
	Subjects []SubjectStats `json:"subjects"`
}

// SubjectStats counts what was published on one literal subject (inbound,
// client->server), whether or not anybody was subscribed.
type SubjectStats struct {
	Subject string `json:"subject"`
	Msgs    int64  `json:"msgs"`
	Bytes   int64  `json:"bytes"`
}

// /subjz sort keys.
const (
	SubjzByMsgs  = "msgs"
	SubjzByBytes = "bytes"
)
