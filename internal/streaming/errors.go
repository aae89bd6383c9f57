package streaming

import (
	"errors"
	"fmt"

	"github.com/natsctl/natsctl/internal/streaming/store"
)

// APIError is the "error" object of a JetStream reply: an HTTP-like code,
// nats-server's error code (server/errors.json) and a description. Clients
// branch on ErrCode, so each must match nats-server's for the same case.
type APIError struct {
	Code        int    `json:"code"`
	ErrCode     uint16 `json:"err_code,omitempty"`
	Description string `json:"description,omitempty"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s (%d)", e.Description, e.ErrCode)
}

func apiErr(code int, errCode uint16, desc string) *APIError {
	return &APIError{Code: code, ErrCode: errCode, Description: desc}
}

// Errors with a fixed text.
var (
	errBadRequest        = apiErr(400, 10003, "bad request")
	errNoMessageFound    = apiErr(404, 10037, "no message found")
	errNotEmptyRequest   = apiErr(400, 10038, "expected an empty request payload")
	errStreamNameExist   = apiErr(400, 10058, "stream name already in use with a different configuration")
	errStreamNotFound    = apiErr(404, 10059, "stream not found")
	errStreamNotMatch    = apiErr(400, 10060, "expected stream does not match")
	errStreamMismatch    = apiErr(400, 10056, "stream name in subject does not match request")
	errSubjectOverlap    = apiErr(400, 10065, "subjects overlap with an existing stream")
	errMsgTooBig         = apiErr(400, 10054, "message size exceeds maximum allowed")
	errHeaderTooBig      = apiErr(400, 10097, "header size exceeds maximum allowed of 64k")
	errReplicasNotSupp   = apiErr(500, 10074, "replicas > 1 not supported in non-clustered mode")
	errSealed            = apiErr(400, 10109, "invalid operation on sealed stream")
	errMaxStreams        = apiErr(400, 10027, "maximum number of streams reached")
	errStorageExceeded   = apiErr(500, 10047, "insufficient storage resources available")
	errMemoryExceeded    = apiErr(500, 10028, "insufficient memory resources available")
	errTooManyRequests   = apiErr(429, 10167, "too many requests")
	errNameWithSeparator = apiErr(400, 10128, "Stream name can not contain path separators")
	errConsumersNotYet   = apiErr(501, 10036, "consumers are not supported by natsctl yet (issue 10)")
	errWrongLastSeqConst = apiErr(400, 10164, "wrong last sequence")
	errRequiredAPILevel  = apiErr(412, 10185, "JetStream minimum api level required")
)

func errInvalidJSON(err error) *APIError {
	return apiErr(400, 10025, "invalid JSON: "+err.Error())
}

func errInvalidConfig(format string, args ...any) *APIError {
	return apiErr(500, 10052, fmt.Sprintf(format, args...))
}

func errUpdate(format string, args ...any) *APIError {
	return apiErr(500, 10069, fmt.Sprintf(format, args...))
}

func errWrongLastSeq(seq uint64) *APIError {
	return apiErr(400, 10071, fmt.Sprintf("wrong last sequence: %d", seq))
}

func errWrongLastMsgID(id string) *APIError {
	return apiErr(400, 10070, "wrong last msg ID: "+id)
}

func errSequenceNotFound(seq uint64) *APIError {
	return apiErr(400, 10043, fmt.Sprintf("sequence %d not found", seq))
}

func errMsgDeleteFailed(desc string) *APIError { return apiErr(500, 10057, desc) }
func errPurgeFailed(desc string) *APIError     { return apiErr(500, 10110, desc) }
func errRollupFailed(desc string) *APIError    { return apiErr(500, 10111, desc) }
func errGeneral(err error) *APIError           { return apiErr(500, 10051, err.Error()) }

// errStore maps a store error on publish to nats-server's reply: limits
// with discard new are JSStreamStoreFailedF (10077) carrying the store's
// description, as nats-server does.
func errStore(err error) *APIError {
	switch {
	case errors.Is(err, store.ErrMaxMsgs):
		return apiErr(503, 10077, "maximum messages exceeded")
	case errors.Is(err, store.ErrMaxBytes):
		return apiErr(503, 10077, "maximum bytes exceeded")
	case errors.Is(err, store.ErrMaxMsgsPerSubject):
		return apiErr(503, 10077, "maximum messages per subject exceeded")
	case errors.Is(err, store.ErrMaxMsgSize):
		return errMsgTooBig
	}
	return apiErr(503, 10077, err.Error())
}
