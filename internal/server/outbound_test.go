package server

import (
	"bytes"
	"strings"
	"testing"
)

// writeMsg must queue exactly what three writes would, whether the message
// fits in the last chunk, straddles chunks, or is larger than one.
func TestOutboundWriteMsgMatchesWrites(t *testing.T) {
	for _, size := range []int{0, 1, 100, smallChunk - 40, smallChunk, largeChunk + 7, 3 * largeChunk} {
		for _, prefill := range []int{0, 10, smallChunk - 20, smallChunk + 5, largeChunk - 3} {
			head := []byte("MSG a.b 1 " + strings.Repeat("9", 3) + "\r\n")
			body := bytes.Repeat([]byte{'x'}, size)
			var one, three outbound
			fill := bytes.Repeat([]byte{'f'}, prefill)
			one.write(fill)
			three.write(fill)
			one.writeMsg(head, body, crlf)
			three.write(head)
			three.write(body)
			three.write(crlf)
			if one.size != three.size {
				t.Fatalf("size %d prefill %d: size %d, want %d", size, prefill, one.size, three.size)
			}
			got, want := bytes.Join(one.chunks, nil), bytes.Join(three.chunks, nil)
			if !bytes.Equal(got, want) {
				t.Fatalf("size %d prefill %d: queued bytes differ", size, prefill)
			}
			for _, c := range one.chunks {
				if cap(c) != smallChunk && cap(c) != largeChunk {
					t.Fatalf("size %d prefill %d: a chunk of capacity %d", size, prefill, cap(c))
				}
			}
			putChunks(one.take(nil))
			putChunks(three.take(nil))
		}
	}
}
