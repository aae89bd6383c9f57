package server

import (
	"bytes"
	"testing"

	"github.com/natsctl/natsctl/internal/monitorapi"
)

func msgOp(subject, sid, reply string, payload []byte) []byte {
	b := appendMsgHeader(nil, []byte(subject), sid, []byte(reply), -1, len(payload))
	b = append(b, payload...)
	return append(b, "\r\n"...)
}

func TestAttributePending(t *testing.T) {
	subs := []monitorapi.SubDetail{{Subject: "big.>", Sid: "1"}, {Subject: "small", Queue: "q", Sid: "2"}}
	var buf []byte
	buf = append(buf, "PING\r\n"...)
	for i := 0; i < 10; i++ {
		buf = append(buf, msgOp("big.x", "1", "", bytes.Repeat([]byte("x"), 100))...)
		buf = append(buf, msgOp("big.y", "1", "_INBOX.1", bytes.Repeat([]byte("y"), 10))...)
		buf = append(buf, msgOp("small", "2", "", []byte("hello"))...)
	}
	buf = append(buf, "HMSG big.z 1 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"...)
	buf = append(buf, "-ERR 'Slow Consumer'\r\n"...)

	sc := attributePending(buf, 0, subs)
	if sc == nil || sc.Sid != "1" || sc.Subject != "big.>" || sc.MsgSubject != "big.x" || sc.PendingMsgs != 21 {
		t.Fatalf("%+v", sc)
	}
	var want int64
	for i := 0; i < 10; i++ {
		want += int64(len(msgOp("big.x", "1", "", bytes.Repeat([]byte("x"), 100))) + len(msgOp("big.y", "1", "_INBOX.1", bytes.Repeat([]byte("y"), 10))))
	}
	want += int64(len("HMSG big.z 1 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"))
	if sc.PendingBytes != want {
		t.Fatalf("pending bytes %d, want %d", sc.PendingBytes, want)
	}

	// Skipping what was written: only the tail counts.
	tail := msgOp("small", "2", "", bytes.Repeat([]byte("s"), 1000))
	buf2 := append(msgOp("big.x", "1", "", bytes.Repeat([]byte("x"), 5000)), tail...)
	sc = attributePending(buf2, 4500, subs)
	if sc.Sid != "2" || sc.Subject != "small" || sc.Queue != "q" || sc.PendingBytes != int64(len(tail)) {
		t.Fatalf("after skip: %+v", sc)
	}
	// A sid no longer subscribed is named by its message subject.
	if sc := attributePending(msgOp("gone", "9", "", nil), 0, subs); sc.Sid != "9" || sc.Subject != "gone" {
		t.Fatalf("unknown sid: %+v", sc)
	}
	if sc := attributePending([]byte("PING\r\nPONG\r\n"), 0, subs); sc != nil {
		t.Fatalf("no messages: %+v", sc)
	}
}

// FuzzAttributePending: any bytes and skip are handled without panicking,
// and never more bytes are attributed than were unsent.
func FuzzAttributePending(f *testing.F) {
	f.Add(msgOp("a.b", "1", "r", []byte("hello")), 0)
	f.Add([]byte("HMSG a 1 12 14\r\nNATS/1.0\r\n\r\nhi\r\nMSG b 2 3\r\nabc\r\n"), 3)
	f.Add([]byte("MSG a 1 999999\r\nabc"), 0)
	f.Add([]byte("MSG a 1 -5\r\nMSG\r\n\r\n"), 1)
	f.Fuzz(func(t *testing.T, buf []byte, skip int) {
		if skip < 0 {
			skip = -skip
		}
		sc := attributePending(buf, skip, nil)
		if sc == nil {
			return
		}
		if sc.PendingBytes < 0 || sc.PendingBytes > int64(max(len(buf)-skip, 0)) || sc.PendingMsgs <= 0 {
			t.Fatalf("attributed %d bytes in %d msgs of %d unsent", sc.PendingBytes, sc.PendingMsgs, len(buf)-skip)
		}
	})
}
