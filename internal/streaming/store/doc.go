// Package store is the storage layer of persistent streams: a memory store
// and a file store behind one small interface (Store). It knows nothing of
// the server, of JetStream's API or of consumers; the stream engine sits on
// top of it.
//
// # Shared code
//
// Sequences, the per-subject index, limits (max msgs/bytes/age/size, per
// subject, discard old/new) and purge rules live in one place (core.go,
// index.go, limits.go) and call a small backend (memory or file) for the
// bytes. Both stores therefore behave the same, and one test suite runs
// against both.
//
// The in-memory index is dense per sequence: 16 bytes per sequence
// (timestamp, size, interned subject id) plus, in the file store, a 4-byte
// offset in its segment. Subjects are interned once; per subject the index
// keeps count, first and last sequence (last-per-subject loads, per-subject
// limits, KV).
//
// # On-disk format
//
// A file store directory holds segment files named by a growing id,
// 0000000001.seg, 0000000002.seg, ...; the one with the highest id is the
// active segment, the only one appended to. A segment is a sequence of
// records, each framed so that a reader can check it and, after damage,
// find the next one (all integers little-endian):
//
//	 0       4       8       12   13   14      16              24              32      36
//	+-------+-------+-------+----+----+-------+---------------+---------------+-------+---------+-----+------+
//	| magic | crc32c| length|kind|flag|subjlen|      seq      |   timestamp   | hdrlen| subject | hdr | data |
//	+-------+-------+-------+----+----+-------+---------------+---------------+-------+---------+-----+------+
//	 "NSRM"  over bytes      1 msg     uint16    uint64          int64 Unix ns   uint32
//	         8..length       2 delete  (bit 0 of flag: the message has a header)
//	                         3 skip
//	                         4 erased
//
// length is the whole record (36 + subjlen + hdrlen + len(data)); the
// checksum (CRC-32C) covers everything after itself, length included.
//
//   - msg: a stored message.
//   - delete: a tombstone; message seq was removed (subject and data empty).
//   - skip: every message below seq is removed; if seq-1 is above the
//     highest sequence seen, it becomes the last sequence (a purge that moves
//     the sequence forward). Each segment starts with one, so the first
//     sequence survives the removal of older segments.
//   - erased: a message overwritten in place by a secure delete: same
//     length, subject and header dropped, data zeroed, checksum recomputed.
//
// Removing the oldest messages (limits, purge) writes one skip record, not
// a tombstone per message. A segment whose messages are all removed (and
// that is not the active one) is deleted once the records that replace it
// are synced; tombstones it holds for messages in older, surviving
// segments are first written again to the active segment. The highest
// sequence is always in the active segment (a message, tombstone or skip
// record), so a sequence is never reused, even when the last message was
// deleted before a restart.
//
// There is no index file: on open every record of every segment is read
// and its checksum verified, and the index is rebuilt from them (one
// million small messages take well under a second; see BenchmarkReopen).
//
// # Damage
//
// A record that fails its checksum, or whose framing or sequence is
// impossible, loses only itself: the scan continues at the next offset
// where an intact record starts (the magic, then a checksum over the
// claimed length). Each damaged range produces one Report (Reports) with
// the stream, file, byte range and the sequences lost; its String says
// "corrupt". Damage that runs to the end of the last segment is what a
// crash leaves behind (a torn write): it is truncated so appends continue
// from intact data, and reported (Torn when incomplete or zero-filled).
// Damage elsewhere is left in place. A record that fails verification on a
// later read is never served: LoadMsg (and LoadNextMsg, LoadLastMsg)
// return an error wrapping ErrCorrupt, and a Report is added; a consumer
// moving forward should skip that sequence (or remove it).
//
// # Durability
//
// StoreMsg (and every removal) returns only after its record was written
// to the operating system, so a process crash (kill -9) never loses an
// acknowledged change. Append stores without waiting and Flush waits for
// everything appended so far: a caller with a batch pays one write (and
// one fsync) for all of it, and acknowledges after Flush. Beyond that, per
// FileConfig.SyncInterval:
//
//   - 0 (default): the record is also fsynced (and the directory, after a
//     new segment) before the call returns. Concurrent writers share one
//     fsync (group commit, commit.go). A power failure loses nothing that
//     was acknowledged; it can leave a torn tail of unacknowledged records,
//     truncated on the next open.
//   - d > 0: files are fsynced every d in the background, as nats-server
//     does by default. A power failure can lose what was acknowledged in
//     the last d (the damage is reported on open), never anything older.
//
// # Concurrency
//
// A store has one RWMutex: loads share it, changes hold it exclusively.
// The file store writes and fsyncs outside it: a writer appends its record
// to an in-memory buffer under the lock, releases it, then waits for a
// flush that covers its record; the first waiter does the flush for all
// (lock order: the file backend's ioMu, then the store lock). Loads of
// records not yet written are served from those buffers.
//
// # Not here
//
// Consumer state will be a separate small file per consumer, beside the
// segments (a sub-directory; the store ignores files that are not
// segments). LockDir guards a directory against a second server.
package store
