package streaming

import (
	"bytes"
	"strconv"
	"time"
)

// Header names the engine reads and writes (ADR-4, ADR-31).
const (
	hdrMsgID          = "Nats-Msg-Id"
	hdrExpStream      = "Nats-Expected-Stream"
	hdrExpLastSeq     = "Nats-Expected-Last-Sequence"
	hdrExpLastSubjSeq = "Nats-Expected-Last-Subject-Sequence"
	hdrExpLastSubjSub = "Nats-Expected-Last-Subject-Sequence-Subject"
	hdrExpLastMsgID   = "Nats-Expected-Last-Msg-Id"
	hdrRollup         = "Nats-Rollup"
	hdrStream         = "Nats-Stream"
	hdrSequence       = "Nats-Sequence"
	hdrTimeStamp      = "Nats-Time-Stamp"
	hdrSubject        = "Nats-Subject"
	hdrLine           = "NATS/1.0\r\n"
)

// headerValue returns the value of key in a header block
// ("NATS/1.0[ status]\r\nKey: Value\r\n...\r\n\r\n"), or nil. Keys match
// exactly, as nats-server matches them; the value is trimmed. The result
// aliases hdr.
func headerValue(hdr []byte, key string) []byte {
	if len(hdr) == 0 {
		return nil
	}
	i := bytes.Index(hdr, []byte("\r\n"))
	if i < 0 {
		return nil
	}
	rest := hdr[i+2:]
	for len(rest) > 0 {
		line := rest
		if j := bytes.Index(rest, []byte("\r\n")); j >= 0 {
			line, rest = rest[:j], rest[j+2:]
		} else {
			rest = nil
		}
		if len(line) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if ok && string(bytes.TrimSpace(k)) == key {
			return bytes.TrimSpace(v)
		}
	}
	return nil
}

// hasHeader reports whether hdr has key (possibly with an empty value).
func hasHeader(hdr []byte, key string) bool {
	if len(hdr) == 0 || !bytes.Contains(hdr, []byte(key)) {
		return false
	}
	return headerValue(hdr, key) != nil
}

// parseUint parses a decimal header value.
func parseUint(b []byte) (uint64, bool) {
	n, err := strconv.ParseUint(string(b), 10, 64)
	return n, err == nil
}

// directGetHeader builds the header block of a DIRECT.GET reply: the
// stored message's own headers (when any) followed by Nats-Stream,
// Nats-Subject, Nats-Sequence and Nats-Time-Stamp (ADR-31).
func directGetHeader(dst []byte, stream string, sm *storedView) []byte {
	if len(sm.hdr) >= len(hdrLine) {
		h := bytes.TrimRight(sm.hdr, "\r\n")
		dst = append(dst, h...)
		dst = append(dst, "\r\n"...)
	} else {
		dst = append(dst, hdrLine...)
	}
	dst = append(dst, hdrStream+": "...)
	dst = append(dst, stream...)
	dst = append(dst, "\r\n"+hdrSubject+": "...)
	dst = append(dst, sm.subject...)
	dst = append(dst, "\r\n"+hdrSequence+": "...)
	dst = strconv.AppendUint(dst, sm.seq, 10)
	dst = append(dst, "\r\n"+hdrTimeStamp+": "...)
	dst = time.Unix(0, sm.ts).UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, "\r\n\r\n"...)
}

// storedView is what directGetHeader needs of a stored message.
type storedView struct {
	subject string
	hdr     []byte
	seq     uint64
	ts      int64
}

var (
	hdrNotFound   = []byte("NATS/1.0 404 Message Not Found\r\n\r\n")
	hdrBadRequest = []byte("NATS/1.0 408 Bad Request\r\n\r\n")
)
