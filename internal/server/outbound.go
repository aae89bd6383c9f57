package server

import "sync"

// Outbound bytes are kept in fixed-size chunks from pools rather than one
// growing slice: appending never copies queued bytes again, buffers are
// reused across writes and connections, an idle connection holds none, and
// the writer sends all chunks with one writev.
const (
	smallChunk = 1024
	largeChunk = 64 * 1024
)

var (
	smallPool = sync.Pool{New: func() any { b := make([]byte, 0, smallChunk); return &b }}
	largePool = sync.Pool{New: func() any { b := make([]byte, 0, largeChunk); return &b }}
)

// outbound is a connection's queue of bytes to write, guarded by conn.mu.
type outbound struct {
	chunks [][]byte
	size   int
}

// write appends b, filling the last chunk before taking a new one. The
// first chunk is small (most connections send little), later ones large.
func (o *outbound) write(b []byte) {
	o.size += len(b)
	for len(b) > 0 {
		n := len(o.chunks)
		if n == 0 || len(o.chunks[n-1]) == cap(o.chunks[n-1]) {
			o.chunks = append(o.chunks, getChunk(n > 0 || len(b) > smallChunk))
			n++
		}
		last := o.chunks[n-1]
		k := min(cap(last)-len(last), len(b))
		o.chunks[n-1] = append(last, b[:k]...)
		b = b[k:]
	}
}

// writeMsg appends a message's three parts (MSG line, payload, CRLF):
// when they fit in the last chunk, with one bounds check and one store of
// the chunk (this runs once per delivered message).
func (o *outbound) writeMsg(head, body, tail []byte) {
	if n := len(o.chunks); n > 0 {
		last := o.chunks[n-1]
		if size := len(head) + len(body) + len(tail); cap(last)-len(last) >= size {
			last = append(last, head...)
			last = append(last, body...)
			o.chunks[n-1] = append(last, tail...)
			o.size += size
			return
		}
	}
	o.write(head)
	o.write(body)
	o.write(tail)
}

// take hands the queued chunks to the writer and leaves the queue empty,
// reusing spare (the writer's previous, recycled list) for the next round.
func (o *outbound) take(spare [][]byte) [][]byte {
	chunks := o.chunks
	o.chunks, o.size = spare[:0], 0
	return chunks
}

func getChunk(large bool) []byte {
	if large {
		return (*largePool.Get().(*[]byte))[:0]
	}
	return (*smallPool.Get().(*[]byte))[:0]
}

// putChunks returns written chunks to their pools and clears the list.
func putChunks(chunks [][]byte) {
	for i, c := range chunks {
		c = c[:0]
		switch cap(c) {
		case smallChunk:
			smallPool.Put(&c)
		case largeChunk:
			largePool.Put(&c)
		}
		chunks[i] = nil
	}
}
