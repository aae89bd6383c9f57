package store

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// Record framing; doc.go has the byte diagram. Every record is
//
//	magic(4) crc32c(4) length(4) kind(1) flags(1) subjlen(2) seq(8) ts(8) hdrlen(4) subject hdr data
//
// little-endian, with the checksum over bytes 8..length, so a flipped bit
// anywhere after the magic (length included) fails the check, and a reader
// that lost its place resynchronises by searching for the next magic whose
// record checks out.
const (
	recMagic  uint32 = 0x4d52534e // "NSRM" on disk
	recHdrLen        = 36
	// recMaxLen bounds a record so a damaged length cannot make recovery
	// read (or resync across) more than one message's worth.
	recMaxLen = recHdrLen + 0xffff + maxMsgSize
)

// Record kinds.
const (
	kindMsg    = 1 // a message
	kindDelete = 2 // tombstone: message seq was removed
	kindSkip   = 3 // every message below seq was removed; seq-1 may be new last
	kindErased = 4 // a message overwritten by a secure delete (data zeroed)
)

// flagHdr marks a message stored with a header (possibly empty).
const flagHdr = 1

var crcTable = crc32.MakeTable(crc32.Castagnoli)

var (
	errShort    = errors.New("record: incomplete")
	errMagic    = errors.New("record: bad magic")
	errLength   = errors.New("record: bad length")
	errChecksum = errors.New("record: checksum mismatch")
	errKind     = errors.New("record: unknown kind")
)

// record is a decoded record. subject, hdr and data alias the input.
type record struct {
	kind    byte
	flags   byte
	seq     uint64
	ts      int64
	subject []byte
	hdr     []byte
	data    []byte
}

// recLen is the encoded length of a record with these parts.
func recLen(subject string, hdr, data []byte) int {
	return recHdrLen + len(subject) + len(hdr) + len(data)
}

// appendRecord encodes a record onto b.
func appendRecord(b []byte, kind, flags byte, seq uint64, ts int64, subject string, hdr, data []byte) []byte {
	n := recLen(subject, hdr, data)
	off := len(b)
	b = append(b, make([]byte, recHdrLen)...)
	h := b[off:]
	binary.LittleEndian.PutUint32(h[0:], recMagic)
	binary.LittleEndian.PutUint32(h[8:], uint32(n))
	h[12], h[13] = kind, flags
	binary.LittleEndian.PutUint16(h[14:], uint16(len(subject)))
	binary.LittleEndian.PutUint64(h[16:], seq)
	binary.LittleEndian.PutUint64(h[24:], uint64(ts))
	binary.LittleEndian.PutUint32(h[32:], uint32(len(hdr)))
	b = append(b, subject...)
	b = append(b, hdr...)
	b = append(b, data...)
	binary.LittleEndian.PutUint32(b[off+4:], crc32.Checksum(b[off+8:], crcTable))
	return b
}

// decodeRecord decodes the record at the start of b and returns it with
// its length. errShort means b ends inside the record (a torn tail when at
// the end of a file); any other error means the bytes are not a record.
func decodeRecord(b []byte) (record, int, error) {
	var r record
	if len(b) < 12 {
		if len(b) >= 4 && binary.LittleEndian.Uint32(b) != recMagic {
			return r, 0, errMagic
		}
		return r, 0, errShort
	}
	if binary.LittleEndian.Uint32(b) != recMagic {
		return r, 0, errMagic
	}
	n := int(binary.LittleEndian.Uint32(b[8:]))
	if n < recHdrLen || n > recMaxLen {
		return r, 0, errLength
	}
	if len(b) < n {
		return r, 0, errShort
	}
	b = b[:n]
	if crc32.Checksum(b[8:], crcTable) != binary.LittleEndian.Uint32(b[4:]) {
		return r, 0, errChecksum
	}
	r.kind, r.flags = b[12], b[13]
	slen := int(binary.LittleEndian.Uint16(b[14:]))
	r.seq = binary.LittleEndian.Uint64(b[16:])
	r.ts = int64(binary.LittleEndian.Uint64(b[24:]))
	hlen := int(binary.LittleEndian.Uint32(b[32:]))
	if slen+hlen > n-recHdrLen || hlen < 0 {
		return r, 0, errLength
	}
	if r.kind < kindMsg || r.kind > kindErased {
		return r, 0, errKind
	}
	p := b[recHdrLen:]
	r.subject, r.hdr, r.data = p[:slen:slen], p[slen:slen+hlen:slen+hlen], p[slen+hlen:]
	return r, n, nil
}
