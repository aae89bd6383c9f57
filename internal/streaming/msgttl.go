package streaming

import (
	"strconv"
	"strings"
	"time"
)

// Per-message TTL (nats-server 2.11: the Nats-TTL header) needs a stream with
// allow_msg_ttl, which natsctl does not implement (config.go refuses it).
// A publish asking for a TTL is therefore refused as nats-server refuses it
// on a stream without allow_msg_ttl, instead of being stored without
// expiry: `nats kv create --ttl` and nats.go's KeyTTL see
// "per-message TTL is disabled" (10166), a malformed TTL gets "invalid
// per-message TTL" (10165), as does 0 (nats-server reads it as a duration
// under a second).

const hdrTTL = "Nats-TTL"

var (
	errMsgTTLInvalid  = apiErr(400, 10165, "invalid per-message TTL")
	errMsgTTLDisabled = apiErr(400, 10166, "per-message TTL is disabled")
)

// checkMsgTTL refuses a publish that carries a TTL.
func checkMsgTTL(hdr []byte) *APIError {
	v := headerValue(hdr, hdrTTL)
	if len(v) == 0 {
		return nil
	}
	ttl, ok := parseMsgTTL(string(v))
	switch {
	case !ok:
		return errMsgTTLInvalid
	case ttl != 0:
		return errMsgTTLDisabled
	}
	return nil
}

// parseMsgTTL reads a Nats-TTL value as nats-server does: "never" (-1), a
// Go duration of at least a second, or whole seconds (where 0 is no TTL;
// "0" alone parses as a duration and is refused). ok is false for anything
// else.
func parseMsgTTL(v string) (secs int64, ok bool) {
	if strings.EqualFold(v, "never") {
		return -1, true
	}
	if d, err := time.ParseDuration(v); err == nil {
		if d < time.Second {
			return 0, false
		}
		return int64(d.Seconds()), true
	}
	n, err := strconv.ParseUint(v, 10, 63)
	if err != nil {
		return 0, false
	}
	return int64(n), true // 0 (say "00"): no TTL
}
