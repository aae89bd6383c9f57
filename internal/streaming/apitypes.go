package streaming

import (
	"encoding/json"
	"time"
)

// JSON shapes of the JetStream API, as nats-server writes them
// (ADR-1, ADR-7; nats-server server/jetstream_api.go, stream.go). Field
// names and types are the wire contract: clients decode them with their
// own structs.

// Response type names ("type" in every reply).
const (
	typeAccountInfo  = "io.nats.jetstream.api.v1.account_info_response"
	typeStreamCreate = "io.nats.jetstream.api.v1.stream_create_response"
	typeStreamUpdate = "io.nats.jetstream.api.v1.stream_update_response"
	typeStreamInfo   = "io.nats.jetstream.api.v1.stream_info_response"
	typeStreamNames  = "io.nats.jetstream.api.v1.stream_names_response"
	typeStreamList   = "io.nats.jetstream.api.v1.stream_list_response"
	typeStreamDelete = "io.nats.jetstream.api.v1.stream_delete_response"
	typeStreamPurge  = "io.nats.jetstream.api.v1.stream_purge_response"
	typeMsgGet       = "io.nats.jetstream.api.v1.stream_msg_get_response"
	typeMsgDelete    = "io.nats.jetstream.api.v1.stream_msg_delete_response"
	typeConsumer     = "io.nats.jetstream.api.v1.consumer_create_response"
)

// Page sizes, nats-server's (JSApiNamesLimit, JSApiListLimit).
const (
	namesPageLimit    = 1024
	listPageLimit     = 256
	subjectsPageLimit = 100_000
)

// apiResponse is embedded in every reply.
type apiResponse struct {
	Type  string    `json:"type"`
	Error *APIError `json:"error,omitempty"`
}

// apiPaged is the paging part of list replies (ADR-1). Total is exact:
// clients page until offset >= total.
type apiPaged struct {
	Total  int `json:"total"`
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
}

type apiPagedRequest struct {
	Offset int `json:"offset"`
}

// AccountLimits is account_info's "limits".
type AccountLimits struct {
	MaxMemory            int64 `json:"max_memory"`
	MaxStore             int64 `json:"max_storage"`
	MaxStreams           int   `json:"max_streams"`
	MaxConsumers         int   `json:"max_consumers"`
	MaxAckPending        int   `json:"max_ack_pending"`
	MemoryMaxStreamBytes int64 `json:"memory_max_stream_bytes"`
	StoreMaxStreamBytes  int64 `json:"storage_max_stream_bytes"`
	MaxBytesRequired     bool  `json:"max_bytes_required"`
}

// APIStats counts API requests.
type APIStats struct {
	Level  int    `json:"level"`
	Total  uint64 `json:"total"`
	Errors uint64 `json:"errors"`
}

// AccountInfo is the reply to $JS.API.INFO.
type AccountInfo struct {
	apiResponse
	Memory         uint64        `json:"memory"`
	Store          uint64        `json:"storage"`
	ReservedMemory uint64        `json:"reserved_memory"`
	ReservedStore  uint64        `json:"reserved_storage"`
	Streams        int           `json:"streams"`
	Consumers      int           `json:"consumers"`
	Limits         AccountLimits `json:"limits"`
	Domain         string        `json:"domain,omitempty"`
	API            APIStats      `json:"api"`
}

// StreamState is a stream's "state".
type StreamState struct {
	Msgs        uint64            `json:"messages"`
	Bytes       uint64            `json:"bytes"`
	FirstSeq    uint64            `json:"first_seq"`
	FirstTime   time.Time         `json:"first_ts"`
	LastSeq     uint64            `json:"last_seq"`
	LastTime    time.Time         `json:"last_ts"`
	NumSubjects int               `json:"num_subjects,omitempty"`
	Subjects    map[string]uint64 `json:"subjects,omitempty"`
	NumDeleted  int               `json:"num_deleted,omitempty"`
	Deleted     []uint64          `json:"deleted,omitempty"`
	Consumers   int               `json:"consumer_count"`
}

// ClusterInfo names the server holding the stream (always this one).
type ClusterInfo struct {
	Name   string `json:"name,omitempty"`
	Leader string `json:"leader,omitempty"`
}

// StreamInfo is the reply to STREAM.CREATE/UPDATE/INFO and a LIST entry.
type StreamInfo struct {
	Config  StreamConfig `json:"config"`
	Created time.Time    `json:"created"`
	State   StreamState  `json:"state"`
	Cluster *ClusterInfo `json:"cluster,omitempty"`
	TS      time.Time    `json:"ts"`
}

type streamInfoResponse struct {
	apiResponse
	apiPaged
	*StreamInfo
}

type streamInfoRequest struct {
	DeletedDetails bool   `json:"deleted_details"`
	SubjectsFilter string `json:"subjects_filter"`
	Offset         int    `json:"offset"`
}

type streamNamesRequest struct {
	apiPagedRequest
	Subject string `json:"subject"`
}

type streamNamesResponse struct {
	apiResponse
	apiPaged
	Streams []string `json:"streams"`
}

type streamListResponse struct {
	apiResponse
	apiPaged
	Streams []*StreamInfo `json:"streams"`
	Missing []string      `json:"missing,omitempty"`
}

type successResponse struct {
	apiResponse
	Success bool `json:"success"`
}

type purgeRequest struct {
	Subject string `json:"filter"`
	Seq     uint64 `json:"seq"`
	Keep    uint64 `json:"keep"`
}

type purgeResponse struct {
	apiResponse
	Success bool   `json:"success"`
	Purged  uint64 `json:"purged"`
}

// msgGetRequest is the body of STREAM.MSG.GET and DIRECT.GET (ADR-31).
type msgGetRequest struct {
	Seq     uint64 `json:"seq,omitempty"`
	LastFor string `json:"last_by_subj,omitempty"`
	NextFor string `json:"next_by_subj,omitempty"`
}

// StoredMsg is MSG.GET's "message".
type StoredMsg struct {
	Subject  string    `json:"subject"`
	Sequence uint64    `json:"seq"`
	Header   []byte    `json:"hdrs,omitempty"`
	Data     []byte    `json:"data,omitempty"`
	Time     time.Time `json:"time"`
}

type msgGetResponse struct {
	apiResponse
	Message *StoredMsg `json:"message,omitempty"`
}

type msgDeleteRequest struct {
	Seq     uint64 `json:"seq"`
	NoErase bool   `json:"no_erase,omitempty"`
}

// pubAckError is the reply to a refused publish: the error plus the
// stream name (nats-server's JSPubAckResponse).
type pubAckError struct {
	Error  *APIError `json:"error"`
	Stream string    `json:"stream"`
	Seq    uint64    `json:"seq"`
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Every reply type is plain data; a failure is a programming error.
		panic("streaming: marshal reply: " + err.Error())
	}
	return b
}
