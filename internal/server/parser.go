package server

import "bytes"

// Parser states: between operations (reading a control line), or inside the
// payload of a PUB/HPUB.
const (
	stateOp = iota
	statePayload
)

// maxConnectLine bounds a CONNECT (or INFO) line, which may carry a JWT and is
// exempt from max_control_line as in nats-server.
const maxConnectLine = 1 << 20

// pubArgs are the parsed arguments of the PUB or HPUB being read. The slices
// alias the read buffer, or argBuf once the payload spans reads.
type pubArgs struct {
	subject, reply []byte
	hdr            int // header bytes at the start of the payload; -1 for PUB
	size           int // total payload bytes (headers included)
}

// handler receives parsed operations. Slices alias the parser's input: valid
// only until the call returns.
type handler interface {
	processConnect(arg []byte) error
	processPub(pa *pubArgs, payload []byte) error
	// processHPub is processPub for an HPUB: the connection looks at its
	// headers first (message tracing, msgtrace.go); a PUB does not pay.
	processHPub(pa *pubArgs, payload []byte) error
	processSub(subject, queue, sid []byte) error
	processUnsub(sid []byte, max int64) error
	processPing() error
	processPong() error
}

// parser is the NATS client protocol state machine over bytes. It does no I/O
// and takes no locks; it copies only what spans two reads.
type parser struct {
	state      int
	line       []byte // a control line carried across reads
	pa         pubArgs
	paOwned    bool   // pa points into argBuf, not the caller's buffer
	argBuf     []byte // backing for pa while a payload spans reads
	msg        []byte // a payload (plus CRLF) carried across reads
	maxControl int
	maxPayload int
	headers    bool // the client announced headers (HPUB allowed)
	// needConnect: auth is required and has not succeeded, so the next op
	// must be CONNECT; nats-server fails any other at its first byte.
	needConnect bool
}

// parse consumes buf. It returns a *protoError when the connection must end.
func (p *parser) parse(buf []byte, h handler) error {
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
		if p.needConnect && len(p.line) == 0 && buf[i] != 'C' && buf[i] != 'c' {
			return errParseAuthViolation
		}
		j := bytes.IndexByte(buf[i:], '\n')
		if j < 0 {
			if err := p.checkLineLimit(len(p.line)+len(buf)-i, p.lineStart(buf[i:])); err != nil {
				return err
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
	if p.state == statePayload && !p.paOwned {
		// The payload continues in the next read, which reuses the caller's
		// buffer: keep the arguments.
		p.argBuf = append(p.argBuf[:0], p.pa.subject...)
		p.argBuf = append(p.argBuf, p.pa.reply...)
		p.pa.subject = p.argBuf[:len(p.pa.subject)]
		p.pa.reply = p.argBuf[len(p.pa.subject):]
		p.paOwned = true
	}
	return nil
}

// lineStart returns the start of the current partial control line.
func (p *parser) lineStart(rest []byte) []byte {
	if len(p.line) > 0 {
		return p.line
	}
	return rest
}

// checkLineLimit fails once a control line is longer than allowed. CONNECT and
// INFO lines get a larger bound; the op word is known once 7 bytes are in.
func (p *parser) checkLineLimit(n int, start []byte) error {
	if n <= p.maxControl {
		return nil
	}
	if len(start) >= 4 && (equalFold(start[:4], "INFO") || (len(start) >= 7 && equalFold(start[:7], "CONNECT"))) {
		if n <= maxConnectLine {
			return nil
		}
	}
	return errParseMaxControl
}

// payload consumes payload bytes from buf and returns how many it used.
func (p *parser) payload(buf []byte, h handler) (int, error) {
	need := p.pa.size + 2
	if len(p.msg) == 0 && len(buf) >= need {
		if buf[need-2] != '\r' || buf[need-1] != '\n' {
			return 0, errParseUnknownOp
		}
		p.state = stateOp
		if p.pa.hdr > 0 {
			return need, h.processHPub(&p.pa, buf[:need-2])
		}
		return need, h.processPub(&p.pa, buf[:need-2])
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
	var err error
	if p.pa.hdr > 0 {
		err = h.processHPub(&p.pa, p.msg[:need-2])
	} else {
		err = h.processPub(&p.pa, p.msg[:need-2])
	}
	if cap(p.msg) > 64*1024 {
		p.msg = nil // do not pin a large buffer on an idle connection
	} else {
		p.msg = p.msg[:0]
	}
	return take, err
}

// op dispatches one control line (without CRLF).
func (p *parser) op(line []byte, h handler) error {
	name, args := cutWord(line)
	// cutWord stops at the first space or tab: the op word is followed by
	// a separator exactly when it is shorter than the line.
	sep := len(name) < len(line)
	if len(args) > p.maxControl && !(equalFold(name, "CONNECT") || equalFold(name, "INFO")) {
		return errParseMaxControl
	}
	switch len(name) {
	case 3:
		switch {
		case equalFold(name, "PUB"):
			return p.pub(sep, args, false)
		case equalFold(name, "SUB"):
			return p.sub(sep, args, h)
		case equalFold(name, "+OK"):
			if len(args) == 0 {
				return nil
			}
		}
	case 4:
		switch {
		case equalFold(name, "PING"):
			if len(args) == 0 {
				return h.processPing()
			}
		case equalFold(name, "PONG"):
			if len(args) == 0 {
				return h.processPong()
			}
		case equalFold(name, "HPUB"):
			return p.pub(sep, args, true)
		case equalFold(name, "-ERR"):
			return errParseClientError
		case equalFold(name, "INFO"):
			if sep {
				return nil // clients may send INFO; nothing to do with it
			}
		}
	case 5:
		if equalFold(name, "UNSUB") && sep {
			return p.unsub(args, h)
		}
	case 7:
		if equalFold(name, "CONNECT") && sep {
			return h.processConnect(args)
		}
	}
	return errParseUnknownOp
}

// pub parses "subject [reply] size" or, for HPUB, "subject [reply] hdr size".
func (p *parser) pub(sep bool, args []byte, hpub bool) error {
	if !sep {
		return errParseUnknownOp
	}
	if hpub && !p.headers {
		return errParseBadArgs
	}
	var a [4][]byte
	n := splitArgs(args, a[:])
	if n < 0 {
		return errParseBadArgs
	}
	p.pa.hdr = -1
	var sz []byte
	switch {
	case !hpub && n == 2:
		p.pa.subject, p.pa.reply, sz = a[0], nil, a[1]
	case !hpub && n == 3:
		p.pa.subject, p.pa.reply, sz = a[0], a[1], a[2]
	case hpub && n == 3:
		p.pa.subject, p.pa.reply, sz = a[0], nil, a[2]
		p.pa.hdr = parseSize(a[1])
	case hpub && n == 4:
		p.pa.subject, p.pa.reply, sz = a[0], a[1], a[3]
		p.pa.hdr = parseSize(a[2])
	default:
		return errParseBadArgs
	}
	p.pa.size = parseSize(sz)
	if p.pa.size < 0 || (hpub && (p.pa.hdr < 0 || p.pa.hdr > p.pa.size)) {
		return errParseBadArgs
	}
	if p.pa.size > p.maxPayload {
		return errParseMaxPayload
	}
	p.paOwned = false
	p.state = statePayload
	return nil
}

func (p *parser) sub(sep bool, args []byte, h handler) error {
	if !sep {
		return errParseUnknownOp
	}
	var a [3][]byte
	switch splitArgs(args, a[:]) {
	case 2:
		return h.processSub(a[0], nil, a[1])
	case 3:
		return h.processSub(a[0], a[1], a[2])
	}
	return errParseBadArgs
}

func (p *parser) unsub(args []byte, h handler) error {
	var a [2][]byte
	switch splitArgs(args, a[:]) {
	case 1:
		return h.processUnsub(a[0], 0)
	case 2:
		m := parseSize(a[1])
		if m < 0 {
			return errParseBadArgs
		}
		return h.processUnsub(a[0], int64(m))
	}
	return errParseBadArgs
}

// cutWord splits line into its first word and the rest, skipping the spaces
// and tabs between them.
func cutWord(line []byte) (word, rest []byte) {
	i := 0
	for i < len(line) && line[i] != ' ' && line[i] != '\t' {
		i++
	}
	word = line[:i]
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	return word, line[i:]
}

// splitArgs splits args on runs of spaces and tabs into dst and returns the
// count, or -1 when there are more than len(dst) arguments.
func splitArgs(args []byte, dst [][]byte) int {
	// Two tight loops, one over separators and one over a word, rather
	// than one loop testing its state at every byte: this runs for every
	// PUB. (Testing 8 bytes at a time saved only another 1% of the
	// message path's instructions.)
	n := 0
	for i := 0; ; {
		for i < len(args) && (args[i] == ' ' || args[i] == '\t') {
			i++
		}
		if i == len(args) {
			return n
		}
		start := i
		for i < len(args) && args[i] != ' ' && args[i] != '\t' {
			i++
		}
		if n == len(dst) {
			return -1
		}
		dst[n] = args[start:i]
		n++
	}
}

// parseSize parses a non-negative decimal; -1 when b is not one.
func parseSize(b []byte) int {
	if len(b) == 0 || len(b) > 10 {
		return -1
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// equalFold compares an ASCII word case-insensitively with an upper-case op.
func equalFold(b []byte, op string) bool {
	if len(b) != len(op) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != op[i] {
			return false
		}
	}
	return true
}
