package bench

import (
	"crypto/rand"
	"encoding/binary"
)

// stampLen is the room a payload needs to carry a stamp.
//
//	0      2        4              10             16
//	+------+--------+--------------+--------------+------------------+
//	| 0xB7 | flags+ | sequence     | send time    | random payload   |
//	| 0x4E | pub    | (48 bits LE) | (48 bits LE) |                  |
//	+------+--------+--------------+--------------+------------------+
//	flags+pub (16 bits LE): bit 15 warm-up, bit 14 time present, bits 0-13 publisher
//	send time: UnixNano of the intended send modulo 2^48 (wraps every 78 h;
//	differences are taken modulo 2^48, so sender and receiver may be
//	different processes on one host)
//
// The magic keeps payloads of other tools (nats bench) from being read as
// stamps; the tracker's window guards against the rare random match.
const stampLen = 16

const (
	magic0, magic1 = 0xB7, 0x4E
	warmupFlag     = 1 << 15
	timeFlag       = 1 << 14
	pubMask        = 1<<14 - 1
	mask48         = uint64(1)<<48 - 1
)

// MaxClients bounds publishers per run: the stamp has 14 bits for them.
const MaxClients = pubMask

type stamp struct {
	warmup  bool
	hasTime bool
	pub     int
	seq     uint64
	sent    int64 // UnixNano, modulo 2^48 once read back
}

// putStamp writes s into the first stampLen bytes of b (len(b) >= stampLen).
func putStamp(b []byte, s stamp) {
	b[0], b[1] = magic0, magic1
	f := uint16(s.pub) & pubMask
	if s.warmup {
		f |= warmupFlag
	}
	if s.hasTime {
		f |= timeFlag
	}
	binary.LittleEndian.PutUint16(b[2:], f)
	put48(b[4:], s.seq)
	put48(b[10:], uint64(s.sent))
}

// readStamp decodes a stamp; ok is false when b does not hold one.
func readStamp(b []byte) (s stamp, ok bool) {
	if len(b) < stampLen || b[0] != magic0 || b[1] != magic1 {
		return stamp{}, false
	}
	f := binary.LittleEndian.Uint16(b[2:])
	return stamp{
		warmup:  f&warmupFlag != 0,
		hasTime: f&timeFlag != 0,
		pub:     int(f & pubMask),
		seq:     get48(b[4:]),
		sent:    int64(get48(b[10:])),
	}, true
}

// since returns now minus a stamp's send time, modulo 2^48 ns.
func since(now int64, sent int64) int64 {
	return int64((uint64(now) - uint64(sent)) & mask48)
}

func put48(b []byte, v uint64) {
	_ = b[5]
	for i := range 6 {
		b[i] = byte(v >> (8 * i))
	}
}

func get48(b []byte) uint64 {
	_ = b[5]
	var v uint64
	for i := range 6 {
		v |= uint64(b[i]) << (8 * i)
	}
	return v
}

// newPayload returns a payload of size bytes: fixed repeated or cut to size
// when given, else random bytes.
func newPayload(size int, fixed []byte) []byte {
	b := make([]byte, size)
	if len(fixed) > 0 {
		for n := 0; n < size; n += copy(b[n:], fixed) {
		}
		return b
	}
	_, _ = rand.Read(b)
	if size >= 2 && b[0] == magic0 && b[1] == magic1 {
		b[0] = 0 // an unstamped payload must not look stamped
	}
	return b
}
