package client

import (
	"bytes"
	"fmt"
)

// The server-to-client operations (NATS client protocol):
//
//	INFO {json}\r\n
//	MSG <subject> <sid> [reply] <#bytes>\r\n<payload>\r\n
//	HMSG <subject> <sid> [reply] <#hdr bytes> <#total bytes>\r\n<hdr><payload>\r\n
//	PING\r\n   PONG\r\n   +OK\r\n   -ERR '<text>'\r\n
//
// The parser has no I/O and no locks. It finds the end of each control line
// in the read buffer and hands out sub-slices of it; only an operation split
// across two reads is copied (the line into p.line, the payload into
// p.payload), and both scratch buffers are reused.

// maxControlLine bounds a line we buffer while waiting for its end. INFO with
// a long connect_urls list is the largest legitimate line.
const maxControlLine = 1 << 20

type parserState uint8

const (
	stateOp parserState = iota
	statePayload
)

// handler receives parsed operations. Slices alias the parser's input or
// scratch buffers: they are valid only until the call returns.
type handler interface {
	processMsg(subject, reply []byte, sid uint64, hdr, data []byte)
	processInfo(js []byte)
	processPing()
	processPong()
	processOK()
	processErr(text []byte)
}

type parser struct {
	state parserState
	line  []byte // scratch: a control line split across reads

	// Arguments of the MSG/HMSG being read. argLine holds the control line
	// (aliasing the input, or p.line once the input is gone); the others are
	// offsets into it.
	argLine    []byte
	subj, rply [2]int
	sid        uint64
	hdrLen     int
	size       int
	payload    []byte // scratch: a payload split across reads
}

// parse consumes buf, calling h for each complete operation.
func (p *parser) parse(buf []byte, h handler) error {
	i := 0
	for i < len(buf) {
		switch p.state {
		case stateOp:
			j := bytes.IndexByte(buf[i:], '\n')
			if j < 0 {
				if len(p.line)+len(buf)-i > maxControlLine {
					return fmt.Errorf("%w: control line too long", ErrProtocol)
				}
				p.line = append(p.line, buf[i:]...)
				return nil
			}
			var line []byte
			if len(p.line) > 0 {
				p.line = append(p.line, buf[i:i+j]...)
				line = p.line
			} else {
				line = buf[i : i+j]
			}
			i += j + 1
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			if err := p.op(line, h); err != nil {
				return err
			}
			if p.state == stateOp {
				p.line = p.line[:0]
			}
		case statePayload:
			need := p.size + 2
			if len(p.payload) == 0 && len(buf)-i >= need {
				if err := p.deliver(buf[i:i+need], h); err != nil {
					return err
				}
				i += need
				continue
			}
			take := min(len(buf)-i, need-len(p.payload))
			p.payload = append(p.payload, buf[i:i+take]...)
			i += take
			if len(p.payload) == need {
				err := p.deliver(p.payload, h)
				p.payload = p.payload[:0]
				if err != nil {
					return err
				}
			}
		}
	}
	// The control line of an unfinished message aliases buf, which the read
	// loop is about to overwrite: keep a copy.
	if p.state == statePayload && len(p.line) == 0 {
		p.line = append(p.line, p.argLine...)
		p.argLine = p.line
	}
	return nil
}

// deliver hands over a complete message; b is the payload plus its \r\n.
func (p *parser) deliver(b []byte, h handler) error {
	if b[p.size] != '\r' || b[p.size+1] != '\n' {
		return fmt.Errorf("%w: message payload not followed by CRLF", ErrProtocol)
	}
	l := p.argLine
	var reply []byte
	if p.rply[1] > p.rply[0] {
		reply = l[p.rply[0]:p.rply[1]]
	}
	h.processMsg(l[p.subj[0]:p.subj[1]], reply, p.sid, b[:p.hdrLen], b[p.hdrLen:p.size])
	p.state = stateOp
	p.line = p.line[:0]
	p.argLine = nil
	return nil
}

// op dispatches one control line (without its CRLF).
func (p *parser) op(line []byte, h handler) error {
	if len(line) == 0 {
		return nil
	}
	switch upper(line[0]) {
	case 'M':
		if len(line) > 4 && hasPrefixFold(line, "MSG") && isBlank(line[3]) {
			return p.msgArgs(line, 4, false)
		}
	case 'H':
		if len(line) > 5 && hasPrefixFold(line, "HMSG") && isBlank(line[4]) {
			return p.msgArgs(line, 5, true)
		}
	case 'P':
		if hasPrefixFold(line, "PING") {
			h.processPing()
			return nil
		}
		if hasPrefixFold(line, "PONG") {
			h.processPong()
			return nil
		}
	case 'I':
		if len(line) > 4 && hasPrefixFold(line, "INFO") && isBlank(line[4]) {
			h.processInfo(bytes.TrimSpace(line[5:]))
			return nil
		}
	case '+':
		if hasPrefixFold(line, "+OK") {
			h.processOK()
			return nil
		}
	case '-':
		if hasPrefixFold(line, "-ERR") {
			t := bytes.TrimSpace(line[4:])
			t = bytes.TrimPrefix(t, []byte("'"))
			t = bytes.TrimSuffix(t, []byte("'"))
			h.processErr(t)
			return nil
		}
	}
	return fmt.Errorf("%w: unknown operation %q", ErrProtocol, truncate(line, 32))
}

// msgArgs parses "<subject> <sid> [reply] [<#hdr>] <#total>" from line[start:].
func (p *parser) msgArgs(line []byte, start int, hdr bool) error {
	var f [5][2]int
	n := 0
	for i := start; i < len(line); {
		for i < len(line) && isBlank(line[i]) {
			i++
		}
		if i == len(line) {
			break
		}
		j := i
		for j < len(line) && !isBlank(line[j]) {
			j++
		}
		if n == len(f) {
			return fmt.Errorf("%w: too many arguments in %q", ErrProtocol, truncate(line, 64))
		}
		f[n] = [2]int{i, j}
		n++
		i = j
	}
	want := 3
	if hdr {
		want = 4
	}
	if n != want && n != want+1 {
		return fmt.Errorf("%w: bad message arguments %q", ErrProtocol, truncate(line, 64))
	}
	field := func(k int) []byte { return line[f[k][0]:f[k][1]] }
	sid, ok := parseUint(field(1))
	if !ok {
		return fmt.Errorf("%w: bad sid in %q", ErrProtocol, truncate(line, 64))
	}
	p.subj, p.rply, p.sid = f[0], [2]int{}, sid
	if n == want+1 {
		p.rply = f[2]
	}
	size, ok := parseUint(field(n - 1))
	if !ok {
		return fmt.Errorf("%w: bad size in %q", ErrProtocol, truncate(line, 64))
	}
	p.size, p.hdrLen = int(size), 0
	if hdr {
		hl, ok := parseUint(field(n - 2))
		if !ok || hl > size {
			return fmt.Errorf("%w: bad header size in %q", ErrProtocol, truncate(line, 64))
		}
		p.hdrLen = int(hl)
	}
	p.argLine = line
	p.state = statePayload
	return nil
}

// parseUint parses a decimal number of at most 18 digits (so it cannot
// overflow) without allocating.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

func hasPrefixFold(b []byte, prefix string) bool {
	if len(b) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if upper(b[i]) != prefix[i] {
			return false
		}
	}
	return true
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
