package streaming

import "time"

// JSON shapes and errors of the consumer API (nats-server
// server/consumer.go ConsumerInfo, jetstream_api.go, errors.json).

const (
	typeConsumerCreate = "io.nats.jetstream.api.v1.consumer_create_response"
	typeConsumerInfo   = "io.nats.jetstream.api.v1.consumer_info_response"
	typeConsumerDelete = "io.nats.jetstream.api.v1.consumer_delete_response"
	typeConsumerNames  = "io.nats.jetstream.api.v1.consumer_names_response"
	typeConsumerList   = "io.nats.jetstream.api.v1.consumer_list_response"
)

// SequenceInfo is "delivered" and "ack_floor" of ConsumerInfo.
type SequenceInfo struct {
	Consumer uint64     `json:"consumer_seq"`
	Stream   uint64     `json:"stream_seq"`
	Last     *time.Time `json:"last_active,omitempty"`
}

// ConsumerInfo is the reply to CONSUMER.CREATE/INFO and a LIST entry.
type ConsumerInfo struct {
	Stream         string         `json:"stream_name"`
	Name           string         `json:"name"`
	Created        time.Time      `json:"created"`
	Config         ConsumerConfig `json:"config"`
	Delivered      SequenceInfo   `json:"delivered"`
	AckFloor       SequenceInfo   `json:"ack_floor"`
	NumAckPending  int            `json:"num_ack_pending"`
	NumRedelivered int            `json:"num_redelivered"`
	NumWaiting     int            `json:"num_waiting"`
	NumPending     uint64         `json:"num_pending"`
	Cluster        *ClusterInfo   `json:"cluster,omitempty"`
	PushBound      bool           `json:"push_bound,omitempty"`
	Paused         bool           `json:"paused,omitempty"`
	PauseRemaining time.Duration  `json:"pause_remaining,omitempty"`
	TS             time.Time      `json:"ts"`
}

type consumerInfoResponse struct {
	apiResponse
	*ConsumerInfo
}

type consumerNamesResponse struct {
	apiResponse
	apiPaged
	Consumers []string `json:"consumers"`
}

type consumerListResponse struct {
	apiResponse
	apiPaged
	Consumers []*ConsumerInfo `json:"consumers"`
	Missing   []string        `json:"missing,omitempty"`
}

var (
	errConsumerNotFound     = apiErr(404, 10014, "consumer not found")
	errConsumerExists       = apiErr(400, 10148, "consumer already exists")
	errConsumerDoesNotExist = apiErr(400, 10149, "consumer does not exist")
	errConsumerNameExist    = apiErr(400, 10013, "consumer name already in use")
	errMaxConsumers         = apiErr(400, 10026, "maximum consumers limit reached")
	errConsumerConfigReq    = apiErr(400, 10078, "consumer config required")
	errFilterMismatch       = apiErr(400, 10131, "Consumer create request did not match filtered subject from create subject")
	errMultipleFilters      = apiErr(400, 10137, "consumer with multiple subject filters cannot use subject based API")
	errDurableNotInSubject  = apiErr(400, 10016, "consumer expected to be durable but no durable name set in subject")
	errDurableMismatch      = apiErr(400, 10017, "consumer name in subject does not match durable name in request")
	errWQMultipleUnfiltered = apiErr(400, 10099, "multiple non-filtered consumers not allowed on workqueue stream")
	errWQNotUnique          = apiErr(400, 10100, "filtered consumer not unique on workqueue stream")
	errWQExplicitAck        = apiErr(400, 10098, "workqueue stream requires explicit ack")
)

func errConsumerCreate(desc string) *APIError { return apiErr(500, 10012, desc) }
