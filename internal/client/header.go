package client

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Header holds NATS message headers. Keys are case-sensitive, as nats-server
// and the other clients treat them.
//
// Wire form (ADR-4), preceded by HPUB/HMSG giving its length:
//
//	NATS/1.0[ <status>[ <description>]]\r\n
//	<key>: <value>\r\n      (zero or more)
//	\r\n
//
// A status line's code and description are exposed as the pseudo-headers
// Status and Description, as nats.go does, so that no-responders (503) and
// friends can be recognised.
type Header map[string][]string

// Status and Description are the pseudo-header keys filled from a status line.
const (
	StatusHeader      = "Status"
	DescriptionHeader = "Description"
)

const headerLine = "NATS/1.0"

// Get returns the first value for key, or "".
func (h Header) Get(key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Set replaces the values of key with value.
func (h Header) Set(key, value string) { h[key] = []string{value} }

// Add appends value to the values of key.
func (h Header) Add(key, value string) { h[key] = append(h[key], value) }

// Values returns all values of key.
func (h Header) Values(key string) []string { return h[key] }

// Del removes key.
func (h Header) Del(key string) { delete(h, key) }

// ValidHeaderKey reports whether k can be sent: non-empty, printable ASCII, no
// colon and no whitespace.
func ValidHeaderKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

// ValidHeaderValue reports whether v can be sent: no CR or LF.
func ValidHeaderValue(v string) bool { return !strings.ContainsAny(v, "\r\n") }

// appendHeader encodes h in wire form. Status pseudo-headers are not sent.
func appendHeader(b []byte, h Header) ([]byte, error) {
	b = append(b, headerLine...)
	b = append(b, '\r', '\n')
	for k, vs := range h {
		if k == StatusHeader || k == DescriptionHeader {
			continue
		}
		if !ValidHeaderKey(k) {
			return nil, fmt.Errorf("%w: key %q", ErrBadHeader, k)
		}
		for _, v := range vs {
			if !ValidHeaderValue(v) {
				return nil, fmt.Errorf("%w: value of %q has a line break", ErrBadHeader, k)
			}
			b = append(b, k...)
			b = append(b, ':', ' ')
			b = append(b, v...)
			b = append(b, '\r', '\n')
		}
	}
	return append(b, '\r', '\n'), nil
}

// decodeHeader parses the wire form. It is lenient about a missing final
// blank line, strict about the NATS/1.0 prefix.
func decodeHeader(b []byte) (Header, error) {
	line, rest, _ := bytes.Cut(b, []byte("\r\n"))
	if !bytes.HasPrefix(line, []byte(headerLine)) {
		return nil, fmt.Errorf("%w: missing %s line", ErrBadHeader, headerLine)
	}
	h := Header{}
	if st := bytes.TrimSpace(line[len(headerLine):]); len(st) > 0 {
		code, desc, _ := bytes.Cut(st, []byte(" "))
		if _, err := strconv.Atoi(string(code)); err != nil || len(code) != 3 {
			return nil, fmt.Errorf("%w: bad status %q", ErrBadHeader, code)
		}
		h[StatusHeader] = []string{string(code)}
		if d := bytes.TrimSpace(desc); len(d) > 0 {
			h[DescriptionHeader] = []string{string(d)}
		}
	}
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		if len(line) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(bytes.TrimSpace(k)) == 0 {
			return nil, fmt.Errorf("%w: line %q", ErrBadHeader, line)
		}
		key := string(bytes.TrimSpace(k))
		h[key] = append(h[key], string(bytes.TrimSpace(v)))
	}
	return h, nil
}
