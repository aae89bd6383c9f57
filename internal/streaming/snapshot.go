package streaming

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/klauspost/compress/s2"

	"github.com/natsctl/natsctl/internal/jsbackup"
	"github.com/natsctl/natsctl/internal/streaming/store"
	"github.com/natsctl/natsctl/internal/subject"
)

// Stream snapshots: $JS.API.STREAM.SNAPSHOT.<stream>, with nats-server's
// protocol (server/jetstream_api.go, jsStreamSnapshotRequest and
// streamSnapshot), so natscli's `nats stream backup` works:
//
//  1. The request names a deliver subject (and optionally chunk_size,
//     window_size); the reply is a stream_snapshot_response with the
//     config and state.
//  2. The snapshot goes to the deliver subject in chunks, each with reply
//     subject $JS.SNAPSHOT.ACK.<stream>.<token>.<len>.<index>; at most
//     window_size bytes are unacknowledged; no ack for 5 s ends the
//     snapshot with "408 No Flow Response".
//  3. An empty message with status 204 ends it (500 <error> on failure).
//
// The content is nats-server 2.15's portable archive ("NATSARC1", see
// jsbackup/natsarc.go): a snapshot taken here restores into nats-server
// 2.15 and the other way round. Unless the request says no_consumers,
// it holds every consumer of the stream with its config and state
// (delivered, ack floor, pending, redelivered; snapshotconsumer.go), as
// nats-server's does, and natscli asks for them by default.

const (
	snapshotChunkDefault  = 128 << 10
	snapshotWindowDefault = 8 << 20
	snapshotAckTimeout    = 5 * time.Second
	snapshotInterestWait  = 2 * time.Second
	typeStreamSnapshot    = "io.nats.jetstream.api.v1.stream_snapshot_response"
)

type snapshotRequest struct {
	DeliverSubject string `json:"deliver_subject"`
	NoConsumers    bool   `json:"no_consumers,omitempty"`
	ChunkSize      int    `json:"chunk_size,omitempty"`
	WindowSize     int    `json:"window_size,omitempty"`
	CheckMsgs      bool   `json:"jsck,omitempty"`
}

type snapshotResponse struct {
	apiResponse
	Config *StreamConfig `json:"config,omitempty"`
	State  *StreamState  `json:"state,omitempty"`
}

var errSnapshotDeliverSubject = apiErr(400, 10015, "deliver subject not valid")

// streamSnapshot answers the request and starts the transfer. It runs on
// the API goroutine.
func (e *Engine) streamSnapshot(name string, body []byte) reply {
	fail := func(err *APIError) reply {
		return jsonReply(snapshotResponse{apiResponse: apiResponse{Type: typeStreamSnapshot, Error: err}}, true)
	}
	st := e.lookup(name)
	if st == nil {
		return fail(errStreamNotFound)
	}
	if len(body) == 0 {
		return fail(errBadRequest)
	}
	var req snapshotRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return fail(errInvalidJSON(err))
	}
	if !subject.ValidPublish(req.DeliverSubject) {
		return fail(errSnapshotDeliverSubject)
	}
	si, _ := st.info(false, "", 0)
	chunk := min(max(1<<10, cmp0(req.ChunkSize, snapshotChunkDefault)), 1<<20)
	window := max(min(max(1<<10, cmp0(req.WindowSize, snapshotWindowDefault)), 32<<20), chunk)
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.sendSnapshot(st, si, !req.NoConsumers, req.DeliverSubject, chunk, window/chunk)
	}()
	return jsonReply(snapshotResponse{apiResponse: apiResponse{Type: typeStreamSnapshot}, Config: &si.Config, State: &si.State}, false)
}

func cmp0(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// sendSnapshot streams the snapshot of st to deliver, at most inflight
// chunks unacknowledged.
func (e *Engine) sendSnapshot(st *stream, si *StreamInfo, consumers bool, deliver string, chunk, inflight int) {
	// The client subscribes to deliver after it has our reply: wait a
	// little for a subscription to exactly that subject, as nats-server
	// does. Any interest is not enough: natscli's deliver subject is a
	// reply inbox, which its request mux ("_INBOX.x.*") already matches,
	// and chunks sent there before its own subscription are dropped.
	for deadline := time.Now().Add(snapshotInterestWait); !e.ic.HasExactInterest(deliver) && time.Now().Before(deadline); {
		select {
		case <-e.quit:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	slots := make(chan struct{}, inflight)
	for range inflight {
		slots <- struct{}{}
	}
	ackSubj := "$JS.SNAPSHOT.ACK." + st.name + "." + randomName()
	sub, err := e.ic.Subscribe(ackSubj+".>", "", func(string, string, []byte, []byte) {
		select {
		case slots <- struct{}{}:
		default:
		}
	})
	if err != nil {
		_ = e.ic.Publish(deliver, "", []byte("NATS/1.0 500 "+sanitizeStatus(err.Error())+"\r\n\r\n"), nil)
		return
	}
	defer sub.Unsubscribe()

	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeSnapshot(pw, st, si, consumers)) }()
	defer pr.Close()

	end := []byte("NATS/1.0 204\r\n\r\n")
	buf := make([]byte, chunk)
	timer := time.NewTimer(snapshotAckTimeout)
	defer timer.Stop()
	for index := 1; ; index++ {
		select {
		case <-slots:
		case <-timer.C:
			_ = e.ic.Publish(deliver, "", []byte("NATS/1.0 408 No Flow Response\r\n\r\n"), nil)
			return
		case <-e.quit:
			return
		}
		n, err := io.ReadFull(pr, buf)
		if n > 0 {
			// Like nats-server, the last (short) chunk asks for no ack.
			ack := ""
			if err == nil {
				ack = ackSubj + "." + strconv.Itoa(n) + "." + strconv.Itoa(index)
			}
			_ = e.ic.Publish(deliver, ack, nil, buf[:n])
			timer.Reset(snapshotAckTimeout)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			end = []byte("NATS/1.0 500 " + sanitizeStatus(err.Error()) + "\r\n\r\n")
			break
		}
	}
	_ = e.ic.Publish(deliver, "", end, nil)
}

// sanitizeStatus keeps a status description on one line.
func sanitizeStatus(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '\r' || c == '\n' {
			b[i] = ' '
		}
	}
	return string(b)
}

// writeSnapshot encodes the stream in nats-server 2.15's archive format
// (jsbackup/natsarc.go), s2-compressed: state.json, with consumers one
// entry per consumer, every message up to the state's last sequence
// (later publishes are not included), the end marker.
func writeSnapshot(w io.Writer, st *stream, si *StreamInfo, consumers bool) error {
	zw := s2.NewWriter(w)
	aw := jsbackup.NewArchiveWriter(zw)
	var cs []*consumer
	if consumers {
		cs = st.consumerList()
	}
	state := si.State
	state.Consumers = len(cs)
	if err := aw.Write(&jsbackup.Entry{Name: "state.json", Timestamp: time.Now().UnixNano(), Payload: mustJSON(state)}); err != nil {
		return err
	}
	for _, c := range cs {
		if err := aw.Write(c.snapshotEntry(si.State.LastSeq)); err != nil {
			return err
		}
	}
	var sm store.Msg
	for seq := max(si.State.FirstSeq, 1); seq <= si.State.LastSeq; {
		m, err := st.st.LoadNextMsg("", seq, &sm)
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			return fmt.Errorf("message %d: %w", seq, err)
		}
		if m.Seq > si.State.LastSeq {
			break
		}
		if err := aw.Write(&jsbackup.Entry{Name: m.Subject, Timestamp: m.Time, Sequence: m.Seq, Header: m.Header, Payload: m.Data}); err != nil {
			return err
		}
		seq = m.Seq + 1
	}
	if err := aw.Write(&jsbackup.Entry{}); err != nil {
		return err
	}
	if err := aw.Flush(); err != nil {
		return err
	}
	return zw.Close()
}
