package client

import "unsafe"

// Msg is a message received from, or to be published to, the server.
type Msg struct {
	Subject string
	Reply   string
	Header  Header
	Data    []byte
	// Sub is the subscription that received the message (nil for a message
	// being published).
	Sub *Subscription

	conn *Conn
	size int // bytes counted against pending limits
}

// Respond publishes data to the message's reply subject.
func (m *Msg) Respond(data []byte) error {
	if m.conn == nil || m.Reply == "" {
		return ErrBadSubject
	}
	return m.conn.Publish(m.Reply, data)
}

// RespondMsg publishes r (Subject ignored) to the message's reply subject.
func (m *Msg) RespondMsg(r *Msg) error {
	if m.conn == nil || m.Reply == "" {
		return ErrBadSubject
	}
	return m.conn.PublishMsg(&Msg{Subject: m.Reply, Header: r.Header, Data: r.Data})
}

// Status returns the status code of a status message ("503" for no
// responders), or "".
func (m *Msg) Status() string {
	if m.Header == nil {
		return ""
	}
	return m.Header.Get(StatusHeader)
}

// newMsg builds a message from parser slices, which are only valid during the
// call: subject, reply and data are copied into one allocation, and the
// strings point into it (it is never written again, so that is safe).
func newMsg(subject, reply, hdr, data []byte) (*Msg, error) {
	buf := make([]byte, len(subject)+len(reply)+len(data))
	n := copy(buf, subject)
	n += copy(buf[n:], reply)
	copy(buf[n:], data)
	m := &Msg{
		Subject: bytesString(buf[:len(subject)]),
		Data:    buf[n:len(buf):len(buf)],
		size:    len(subject) + len(reply) + len(hdr) + len(data),
	}
	if len(reply) > 0 {
		m.Reply = bytesString(buf[len(subject):n])
	}
	if len(hdr) > 0 {
		h, err := decodeHeader(hdr)
		if err != nil {
			return nil, err
		}
		m.Header = h
	}
	return m, nil
}

// bytesString views b as a string without copying. b must never change.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
