package client

import "strconv"

// Client-to-server operations (NATS client protocol):
//
//	CONNECT {json}\r\n
//	PUB <subject> [reply] <#bytes>\r\n<payload>\r\n
//	HPUB <subject> [reply] <#hdr bytes> <#total bytes>\r\n<hdr><payload>\r\n
//	SUB <subject> [queue] <sid>\r\n
//	UNSUB <sid> [max]\r\n
//	PING\r\n  PONG\r\n

var (
	pingProto = []byte("PING\r\n")
	pongProto = []byte("PONG\r\n")
	crlf      = []byte("\r\n")
)

// appendPub encodes a PUB (or HPUB when hdr is non-empty). It appends into b
// and allocates only when b must grow.
func appendPub(b []byte, subject, reply string, hdr, data []byte) []byte {
	if len(hdr) > 0 {
		b = append(b, "HPUB "...)
	} else {
		b = append(b, "PUB "...)
	}
	b = append(b, subject...)
	b = append(b, ' ')
	if reply != "" {
		b = append(b, reply...)
		b = append(b, ' ')
	}
	if len(hdr) > 0 {
		b = strconv.AppendInt(b, int64(len(hdr)), 10)
		b = append(b, ' ')
	}
	b = strconv.AppendInt(b, int64(len(hdr)+len(data)), 10)
	b = append(b, crlf...)
	b = append(b, hdr...)
	b = append(b, data...)
	return append(b, crlf...)
}

func appendSub(b []byte, subject, queue string, sid uint64) []byte {
	b = append(b, "SUB "...)
	b = append(b, subject...)
	b = append(b, ' ')
	if queue != "" {
		b = append(b, queue...)
		b = append(b, ' ')
	}
	b = strconv.AppendUint(b, sid, 10)
	return append(b, crlf...)
}

// appendUnsub encodes UNSUB; max > 0 asks the server to unsubscribe after
// that many more messages.
func appendUnsub(b []byte, sid uint64, max uint64) []byte {
	b = append(b, "UNSUB "...)
	b = strconv.AppendUint(b, sid, 10)
	if max > 0 {
		b = append(b, ' ')
		b = strconv.AppendUint(b, max, 10)
	}
	return append(b, crlf...)
}
