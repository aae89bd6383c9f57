package server

import (
	"bytes"
	"strconv"
)

// The route protocol (nats-server route.go; "NATS Cluster Protocol" in the
// public docs), as spoken between servers that do not use route pooling, so
// every operation names its account:
//
//	INFO {json}                      server identity, cluster, connect_urls, gossip
//	CONNECT {json}                   the soliciting side: name (server ID), cluster, user/pass
//	RS+ <acc> <subject>              interest in subject (first local subscriber)
//	RS+ <acc> <subject> <queue> <w>  queue interest with weight w (local member count)
//	RS- <acc> <subject> [<queue>]    interest gone
//	LS+ <origin> <acc> <subject> ... / LS- : leaf interest, handled as RS+/RS-
//	RMSG <acc> <subject> [<reply>] <size>
//	RMSG <acc> <subject> + <reply> <q1> <q2>.. <size>   for these queue groups
//	RMSG <acc> <subject> | <q1> <q2>.. <size>           (no reply)
//	HMSG <acc> <subject> ... <hdr> <size>               with headers
//	LMSG <origin> <acc> <subject> ... <hdr> <size>      leaf-origin message
//	A+ / A- <acc>                    account interest (gateways): ignored
//	PING / PONG / +OK / -ERR

// maxRoutePayload bounds a routed message: routes are not subject to the
// client max_payload, but a garbage size must not make us buffer gigabytes.
const maxRoutePayload = 64 << 20

// routeHandler receives route operations. Slices alias the parser input:
// valid only until the call returns.
type routeHandler interface {
	routeInfo(arg []byte) error
	routeConnect(arg []byte) error
	routeSub(acc, subject, queue []byte, weight int32) error
	routeUnsub(acc, subject, queue []byte) error
	routeMsg(pa *pubArgs, acc []byte, queues [][]byte, payload []byte) error
	routeErr(text []byte) error
	processPing() error
	routePong() error
}

// routeParser is the route protocol state machine: no I/O, no locks, and no
// allocation per message once its buffers have grown.
type routeParser struct {
	state      int
	line       []byte // a control line carried across reads
	args       [][]byte
	pa         pubArgs
	acc        []byte
	queues     [][]byte
	msgLine    []byte // arguments of the RMSG/HMSG being read (aliases input or argBuf)
	msgHdr     bool
	msgOrigin  bool
	argOwned   bool
	argBuf     []byte
	msg        []byte
	maxControl int
}

// parse consumes buf; an error ends the route.
func (p *routeParser) parse(buf []byte, h routeHandler) error {
	i := 0
	for i < len(buf) {
		if p.state == statePayload {
			n, err := p.payload(buf[i:], h)
			if err != nil {
				return err
			}
			i += n
			continue
		}
		j := bytes.IndexByte(buf[i:], '\n')
		if j < 0 {
			if len(p.line)+len(buf)-i > maxConnectLine {
				return errParseMaxControl
			}
			p.line = append(p.line, buf[i:]...)
			return nil
		}
		line := buf[i : i+j]
		if len(p.line) > 0 {
			p.line = append(p.line, line...)
			line = p.line
		}
		i += j + 1
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		err := p.op(line, h)
		p.line = p.line[:0]
		if err != nil {
			return err
		}
	}
	if p.state == statePayload && !p.argOwned {
		// The payload continues in the next read: keep the arguments.
		p.argBuf = append(p.argBuf[:0], p.msgLine...)
		if err := p.msgArgs(p.argBuf, p.msgHdr, p.msgOrigin); err != nil {
			return err
		}
		p.argOwned = true
	}
	return nil
}

func (p *routeParser) op(line []byte, h routeHandler) error {
	name, args := cutWord(line)
	if len(args) > p.maxControl && !(equalFold(name, "CONNECT") || equalFold(name, "INFO")) {
		return errParseMaxControl
	}
	switch {
	case equalFold(name, "RMSG"), equalFold(name, "HMSG"), equalFold(name, "LMSG"):
		hdr, origin := name[0] != 'R' && name[0] != 'r', name[0] == 'L' || name[0] == 'l'
		if err := p.msgArgs(args, hdr, origin); err != nil {
			return err
		}
		p.msgLine, p.msgHdr, p.msgOrigin, p.argOwned = args, hdr, origin, false
		p.state = statePayload
		return nil
	case equalFold(name, "RS+"), equalFold(name, "LS+"):
		a := p.split(args)
		if name[0] == 'L' || name[0] == 'l' {
			if len(a) < 3 {
				return errParseBadArgs
			}
			a = a[1:] // origin cluster
		}
		switch len(a) {
		case 2:
			return h.routeSub(a[0], a[1], nil, 0)
		case 4:
			w := parseSize(a[3])
			if w < 0 || w > 1<<30 {
				return errParseBadArgs
			}
			return h.routeSub(a[0], a[1], a[2], int32(w))
		}
		return errParseBadArgs
	case equalFold(name, "RS-"), equalFold(name, "LS-"):
		a := p.split(args)
		if (name[0] == 'L' || name[0] == 'l') && len(a) == 4 {
			a = a[1:] // LS- with origin
		}
		switch len(a) {
		case 2:
			return h.routeUnsub(a[0], a[1], nil)
		case 3:
			return h.routeUnsub(a[0], a[1], a[2])
		}
		return errParseBadArgs
	case equalFold(name, "PING") && len(args) == 0:
		return h.processPing()
	case equalFold(name, "PONG") && len(args) == 0:
		return h.routePong()
	case equalFold(name, "+OK"):
		return nil
	case equalFold(name, "A+"), equalFold(name, "A-"):
		return nil
	case equalFold(name, "INFO") && len(args) > 0:
		return h.routeInfo(args)
	case equalFold(name, "CONNECT") && len(args) > 0:
		return h.routeConnect(args)
	case equalFold(name, "-ERR"):
		return h.routeErr(args)
	}
	return errParseUnknownOp
}

// split splits args into p.args (reused).
func (p *routeParser) split(args []byte) [][]byte {
	a := p.args[:0]
	start := -1
	for i := 0; i <= len(args); i++ {
		if i < len(args) && args[i] != ' ' && args[i] != '\t' {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			a = append(a, args[start:i])
			start = -1
		}
	}
	p.args = a
	return a
}

// msgArgs parses the arguments of RMSG/HMSG/LMSG into p.pa, p.acc, p.queues.
func (p *routeParser) msgArgs(args []byte, hdr, origin bool) error {
	a := p.split(args)
	if origin {
		if len(a) == 0 {
			return errParseBadArgs
		}
		a = a[1:]
	}
	tail := 1
	if hdr {
		tail = 2
	}
	if len(a) < 2+tail {
		return errParseBadArgs
	}
	p.acc, p.pa.subject = a[0], a[1]
	p.pa.size = parseSize(a[len(a)-1])
	p.pa.hdr = -1
	if hdr {
		p.pa.hdr = parseSize(a[len(a)-2])
		if p.pa.hdr < 0 || p.pa.hdr > p.pa.size {
			return errParseBadArgs
		}
	}
	if p.pa.size < 0 || p.pa.size > maxRoutePayload {
		return errParseBadArgs
	}
	mid := a[2 : len(a)-tail]
	p.pa.reply, p.queues = nil, nil
	switch {
	case len(mid) == 0:
	case len(mid) == 1:
		p.pa.reply = mid[0]
	case len(mid[0]) == 1 && mid[0][0] == '+':
		p.pa.reply, p.queues = mid[1], mid[2:]
	case len(mid[0]) == 1 && mid[0][0] == '|':
		p.queues = mid[1:]
	default:
		return errParseBadArgs
	}
	if !validLiteralSubject(p.pa.subject) {
		return errParseBadArgs
	}
	return nil
}

func (p *routeParser) payload(buf []byte, h routeHandler) (int, error) {
	need := p.pa.size + 2
	if len(p.msg) == 0 && len(buf) >= need {
		if buf[need-2] != '\r' || buf[need-1] != '\n' {
			return 0, errParseUnknownOp
		}
		p.state = stateOp
		return need, h.routeMsg(&p.pa, p.acc, p.queues, buf[:need-2])
	}
	if cap(p.msg) < need {
		p.msg = make([]byte, 0, need)
	}
	take := min(need-len(p.msg), len(buf))
	p.msg = append(p.msg, buf[:take]...)
	if len(p.msg) < need {
		return take, nil
	}
	if p.msg[need-2] != '\r' || p.msg[need-1] != '\n' {
		return 0, errParseUnknownOp
	}
	p.state = stateOp
	err := h.routeMsg(&p.pa, p.acc, p.queues, p.msg[:need-2])
	if cap(p.msg) > 64*1024 {
		p.msg = nil
	} else {
		p.msg = p.msg[:0]
	}
	return take, err
}

// ---- encoders ----

// appendRouteSub appends "RS+ account subject[ queue weight]\r\n".
func appendRouteSub(dst []byte, acc, subject, queue string, weight int32) []byte {
	dst = append(dst, "RS+ "...)
	dst = append(dst, acc...)
	dst = append(dst, ' ')
	dst = append(dst, subject...)
	if queue != "" {
		dst = append(dst, ' ')
		dst = append(dst, queue...)
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, int64(weight), 10)
	}
	return append(dst, "\r\n"...)
}

// appendRouteUnsub appends "RS- account subject[ queue]\r\n".
func appendRouteUnsub(dst []byte, acc, subject, queue string) []byte {
	dst = append(dst, "RS- "...)
	dst = append(dst, acc...)
	dst = append(dst, ' ')
	dst = append(dst, subject...)
	if queue != "" {
		dst = append(dst, ' ')
		dst = append(dst, queue...)
	}
	return append(dst, "\r\n"...)
}

// appendRouteMsgHeader appends the RMSG (or, with hdr >= 0, HMSG) line for a
// message to a route: qs holds the queue names this route was picked for,
// each followed by a space.
func appendRouteMsgHeader(dst []byte, acc string, subject, reply, qs []byte, hdr, size int) []byte {
	if hdr >= 0 {
		dst = append(dst, "HMSG "...)
	} else {
		dst = append(dst, "RMSG "...)
	}
	dst = append(dst, acc...)
	dst = append(dst, ' ')
	dst = append(dst, subject...)
	dst = append(dst, ' ')
	switch {
	case len(qs) > 0 && len(reply) > 0:
		dst = append(dst, "+ "...)
		dst = append(dst, reply...)
		dst = append(dst, ' ')
		dst = append(dst, qs...)
		dst = append(dst, ' ')
	case len(qs) > 0:
		dst = append(dst, "| "...)
		dst = append(dst, qs...)
		dst = append(dst, ' ')
	case len(reply) > 0:
		dst = append(dst, reply...)
		dst = append(dst, ' ')
	}
	if hdr >= 0 {
		dst = strconv.AppendInt(dst, int64(hdr), 10)
		dst = append(dst, ' ')
	}
	dst = strconv.AppendInt(dst, int64(size), 10)
	return append(dst, "\r\n"...)
}
