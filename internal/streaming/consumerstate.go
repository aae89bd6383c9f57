package streaming

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"time"
)

// Durable consumer state on disk (file-storage streams, durable
// consumers without mem_storage):
//
//	<stream dir>/consumers/<name>/meta.json   config and creation time
//	<stream dir>/consumers/<name>/state.0     two snapshot slots, written
//	<stream dir>/consumers/<name>/state.1     alternately
//
// Each write is a whole snapshot into the older slot, then fsync; on open
// the valid slot with the higher generation wins, so a torn write (a crash
// or power cut in the middle) leaves the previous snapshot intact. A slot:
//
//	0       4       8        16       20
//	+-------+-------+--------+--------+------------------------------+
//	| magic | crc32c| gen    | length | payload (length bytes)       |
//	+-------+-------+--------+--------+------------------------------+
//	 "NSCS"  over gen..payload, little-endian
//
// payload, uvarints: version(1), sseq, dseq, asflr, adflr, npending,
// then per pending message: sseq, dseq, ts(varint), delivered count.
//
// When it is written: a double ack (an ack sent as a request) is replied
// to only after a write that covers it — acks waiting together share one
// write and one fsync (group commit). Other changes (deliveries, plain
// acks, NAKs) are written at most stateFlushInterval later. After kill -9
// a durable therefore resumes from its last snapshot: confirmed acks are
// never undone; unconfirmed ones and deliveries of the last interval may
// be redelivered (at least once), and no unacknowledged message is
// skipped, because the cursor is saved together with the pending set.
// With a stream sync interval (sync_interval > 0) snapshots are not
// fsynced individually, as for messages.

const stateFlushInterval = 100 * time.Millisecond

var stateMagic = [4]byte{'N', 'S', 'C', 'S'}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type stateFile struct {
	f    [2]*os.File
	gen  uint64
	sync bool
	buf  []byte
}

// openStateFile opens (creating) the two slots in dir and returns the
// newest valid snapshot payload (nil when none).
func openStateFile(dir string, sync bool) (*stateFile, []byte, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, nil, err
	}
	sf := &stateFile{sync: sync}
	var best []byte
	for i := range sf.f {
		f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("state.%d", i)), os.O_CREATE|os.O_RDWR, 0o640)
		if err != nil {
			sf.close()
			return nil, nil, err
		}
		sf.f[i] = f
		if gen, payload, ok := readSlot(f); ok && gen >= sf.gen {
			sf.gen, best = gen, payload
		}
	}
	return sf, best, nil
}

func readSlot(f *os.File) (uint64, []byte, bool) {
	var h [20]byte
	if _, err := f.ReadAt(h[:], 0); err != nil {
		return 0, nil, false
	}
	if [4]byte(h[:4]) != stateMagic {
		return 0, nil, false
	}
	n := binary.LittleEndian.Uint32(h[16:])
	if n > 1<<30 {
		return 0, nil, false
	}
	b := make([]byte, 12+int(n)) // gen, length, payload
	if _, err := f.ReadAt(b, 8); err != nil {
		return 0, nil, false
	}
	if crc32.Checksum(b, castagnoli) != binary.LittleEndian.Uint32(h[4:]) {
		return 0, nil, false
	}
	return binary.LittleEndian.Uint64(b), b[12:], true
}

// write stores payload as the next generation.
func (sf *stateFile) write(payload []byte) error {
	sf.gen++
	b := append(sf.buf[:0], stateMagic[:]...)
	b = append(b, 0, 0, 0, 0)
	b = binary.LittleEndian.AppendUint64(b, sf.gen)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(payload)))
	b = append(b, payload...)
	binary.LittleEndian.PutUint32(b[4:], crc32.Checksum(b[8:], castagnoli))
	sf.buf = b
	f := sf.f[sf.gen%2]
	if _, err := f.WriteAt(b, 0); err != nil {
		return err
	}
	if sf.sync {
		return f.Sync()
	}
	return nil
}

func (sf *stateFile) close() {
	for _, f := range sf.f {
		if f != nil {
			_ = f.Close()
		}
	}
}

// markDirtyLocked notes a change for the state writer.
func (c *consumer) markDirtyLocked() { c.dirty = true }

// encodeStateLocked renders the snapshot payload.
func (c *consumer) encodeStateLocked(b []byte) []byte {
	b = binary.AppendUvarint(b[:0], 1)
	b = binary.AppendUvarint(b, c.sseq)
	b = binary.AppendUvarint(b, c.dseq)
	b = binary.AppendUvarint(b, c.asflr)
	b = binary.AppendUvarint(b, c.adflr)
	b = binary.AppendUvarint(b, uint64(len(c.pending)))
	for seq, p := range c.pending {
		b = binary.AppendUvarint(b, seq)
		b = binary.AppendUvarint(b, p.dseq)
		b = binary.AppendVarint(b, p.ts)
		b = binary.AppendUvarint(b, max(c.rdc[seq], 1))
	}
	return b
}

var errBadState = errors.New("consumer state: malformed snapshot")

// decodeState restores a snapshot into c (before start). Pending
// messages keep their ack deadlines (see armRecoveredLocked).
func (c *consumer) decodeState(b []byte) error {
	var vals [6]uint64
	for i := range vals {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return errBadState
		}
		vals[i], b = v, b[n:]
	}
	if vals[0] != 1 {
		return fmt.Errorf("consumer state: unknown version %d", vals[0])
	}
	c.sseq, c.dseq, c.asflr, c.adflr = vals[1], vals[2], vals[3], vals[4]
	now := time.Now().UnixNano()
	for range vals[5] {
		seq, n1 := binary.Uvarint(b)
		if n1 <= 0 {
			return errBadState
		}
		b = b[n1:]
		dseq, n2 := binary.Uvarint(b)
		if n2 <= 0 {
			return errBadState
		}
		b = b[n2:]
		ts, n3 := binary.Varint(b)
		if n3 <= 0 {
			return errBadState
		}
		b = b[n3:]
		dc, n4 := binary.Uvarint(b)
		if n4 <= 0 {
			return errBadState
		}
		b = b[n4:]
		c.pending[seq] = &pendingMsg{dseq: dseq, ts: ts}
		if dc > 1 {
			c.rdc[seq] = dc
		}
	}
	c.armRecoveredLocked(now)
	return nil
}

// armRecoveredLocked gives recovered or restored pending messages the ack
// deadline of their last delivery (its time plus ack_wait), as nats-server
// does: a client that held one across a server restart and acks it within
// ack_wait gets no duplicate, and an overdue one is redelivered as soon as
// the consumer runs, oldest first. c.mu held.
func (c *consumer) armRecoveredLocked(now int64) {
	c.nextAck = 0
	for seq, p := range c.pending {
		p.deadline = min(p.ts, now) + int64(c.ackWaitFor(max(c.rdc[seq], 1)))
		if c.nextAck == 0 || p.deadline < c.nextAck {
			c.nextAck = p.deadline
		}
	}
}

// writeLoop is the state writer of a durable file consumer.
func (c *consumer) writeLoop() {
	defer close(c.wdone)
	tick := time.NewTicker(stateFlushInterval)
	defer tick.Stop()
	var buf []byte
	for {
		select {
		case <-c.urgent:
		case <-tick.C:
		case <-c.quit:
			<-c.done // the delivery goroutine has stopped changing state
			buf = c.flushState(buf)
			return
		}
		buf = c.flushState(buf)
	}
}

// flushState writes the state if it changed, then answers the double
// acks that the write covers.
func (c *consumer) flushState(buf []byte) []byte {
	c.mu.Lock()
	waiters := c.ackWaiters
	c.ackWaiters = nil
	dirty := c.dirty
	c.dirty = false
	if dirty {
		buf = c.encodeStateLocked(buf)
	}
	c.mu.Unlock()
	if dirty {
		if err := c.state.write(buf); err != nil {
			c.e.log.Error("consumer state write failed", "stream", c.st.name, "consumer", c.name, "err", err)
			// Keep the waiters unanswered: the client retries its
			// double ack; the ack stays applied in memory.
			c.mu.Lock()
			c.dirty = true
			c.mu.Unlock()
			return buf
		}
	}
	for _, r := range waiters {
		_ = c.e.ic.Publish(r, "", nil, nil)
	}
	return buf
}

// persistent reports whether a consumer keeps state on disk.
func persistent(st *stream, cfg *ConsumerConfig) bool {
	return st.config().Storage == FileStorage && cfg.Durable != "" && !cfg.MemoryStorage
}
