package client

import "math/rand/v2"

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID returns 22 random base62 characters (about 131 bits): unique enough
// for inbox names and connection-local ids without coordination.
func newID() string {
	var b [22]byte
	for i := 0; i < len(b); {
		r := rand.Uint64()
		// Each 64-bit draw yields 10 characters of 6 bits; values >= 62 are
		// rejected to keep the distribution uniform.
		for k := 0; k < 10 && i < len(b); k++ {
			if v := r & 63; v < 62 {
				b[i] = base62[v]
				i++
			}
			r >>= 6
		}
	}
	return string(b[:])
}

// NewInbox returns a new unique reply subject, _INBOX.<id>.
func NewInbox() string { return "_INBOX." + newID() }
