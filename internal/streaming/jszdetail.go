package streaming

import "time"

// /jsz details (nats-server monitor.go: JSInfo.account_details[].
// stream_detail[], with consumer_detail when ?consumers=true). The engine
// builds them; the monitor embeds them under each account's detail
// (jsz.go: JSZAccount).

// StreamDetail is one entry of stream_detail.
type StreamDetail struct {
	Name      string            `json:"name"`
	Created   time.Time         `json:"created"`
	Cluster   *ClusterInfo      `json:"cluster,omitempty"`
	Config    *StreamConfig     `json:"config,omitempty"`
	State     StreamState       `json:"state"`
	Consumers []*ConsumerDetail `json:"consumer_detail,omitempty"`
}

// ConsumerDetail is one entry of consumer_detail: ConsumerInfo with the
// configuration only when asked for.
type ConsumerDetail struct {
	Stream         string          `json:"stream_name"`
	Name           string          `json:"name"`
	Created        time.Time       `json:"created"`
	Config         *ConsumerConfig `json:"config,omitempty"`
	Delivered      SequenceInfo    `json:"delivered"`
	AckFloor       SequenceInfo    `json:"ack_floor"`
	NumAckPending  int             `json:"num_ack_pending"`
	NumRedelivered int             `json:"num_redelivered"`
	NumWaiting     int             `json:"num_waiting"`
	NumPending     uint64          `json:"num_pending"`
	Cluster        *ClusterInfo    `json:"cluster,omitempty"`
	PushBound      bool            `json:"push_bound,omitempty"`
	TS             time.Time       `json:"ts"`
}

// JSDetails returns the stream details for /jsz?streams=true; with
// consumers, each stream's consumer details; with config, the
// configurations too.
func (e *Engine) JSDetails(consumers, config bool) []StreamDetail {
	var out []StreamDetail
	for _, st := range e.sortedStreams() {
		si, _ := st.info(false, "", 0)
		d := StreamDetail{Name: st.name, Created: si.Created, Cluster: si.Cluster, State: si.State}
		if config {
			cfg := si.Config
			d.Config = &cfg
		}
		if consumers {
			for _, c := range st.consumerList() {
				ci := c.info()
				cd := &ConsumerDetail{
					Stream: ci.Stream, Name: ci.Name, Created: ci.Created,
					Delivered: ci.Delivered, AckFloor: ci.AckFloor,
					NumAckPending: ci.NumAckPending, NumRedelivered: ci.NumRedelivered,
					NumWaiting: ci.NumWaiting, NumPending: ci.NumPending,
					Cluster: ci.Cluster, PushBound: ci.PushBound, TS: ci.TS,
				}
				if config {
					cfg := ci.Config
					cd.Config = &cfg
				}
				d.Consumers = append(d.Consumers, cd)
			}
		}
		out = append(out, d)
	}
	return out
}
