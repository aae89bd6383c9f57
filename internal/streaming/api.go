package streaming

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/natsctl/natsctl/internal/server"
	"github.com/natsctl/natsctl/internal/streaming/store"
)

// The API ($JS.API.>, ADR-1): requests arrive on the publisher's goroutine
// (onAPI), are copied into apiQ and served one at a time by apiLoop, which owns stream creation and deletion (so checks such as
// subject overlap never race with each other). Replies go to the request's
// reply subject; a request without one is ignored.

type apiReq struct {
	subject, reply string
	hdr, data      []byte
	direct         *stream          // DIRECT.GET on this stream
	run            func()           // work that must run on the API goroutine (restore.go)
	from           server.Requester // for the audit advisory (apiaudit.go)
}

func (e *Engine) onAPI(from server.Requester, subject, reply string, hdr, data []byte) {
	if e.onConsumerNext(subject, reply, data) {
		return
	}
	e.enqueueAPI(apiReq{subject: subject, reply: reply, hdr: clone(hdr), data: clone(data), from: from})
}

// onDirect serves a direct get at once, on the requester's goroutine:
// it only reads the store (safe for concurrent use) and needs none of the
// ordering apiLoop gives, so concurrent readers (KV Get) are served in
// parallel instead of queueing behind each other and behind API calls.
func (st *stream) onDirect(subject, reply string, hdr, data []byte) {
	if reply == "" {
		return
	}
	e := st.e
	e.apiTotal.Add(1)
	out := e.directGet(apiReq{subject: subject, reply: reply, data: data, direct: st})
	if out.failed {
		e.apiErrors.Add(1)
	}
	_ = e.ic.Publish(reply, "", out.hdr, out.data)
}

func (e *Engine) enqueueAPI(r apiReq) {
	if r.reply == "" {
		return
	}
	select {
	case e.apiQ <- r:
	default:
		e.apiTotal.Add(1)
		e.apiErrors.Add(1)
		_ = e.ic.Publish(r.reply, "", nil, mustJSON(apiResponse{Type: "io.nats.jetstream.api.v1.error_response", Error: errTooManyRequests}))
	}
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

func (e *Engine) apiLoop() {
	defer e.wg.Done()
	for {
		select {
		case r := <-e.apiQ:
			if r.run != nil {
				r.run()
				continue
			}
			e.serveAPI(r)
		case <-e.quit:
			return
		}
	}
}

// reply is what a handler returns: a JSON body, or for DIRECT.GET a raw
// message with a header block.
type reply struct {
	hdr, data []byte
	failed    bool
}

func jsonReply(v any, failed bool) reply { return reply{data: mustJSON(v), failed: failed} }

// apiLevel is the JetStream API level served (ADR-44): 1 is nats-server
// 2.11's, whose consumer pause clients (natscli) gate on it. Features of
// that level natsctl lacks (per-message TTL, priority groups) are refused
// by name when a request asks for them.
const apiLevel = 1

func (e *Engine) serveAPI(r apiReq) {
	e.apiTotal.Add(1)
	var out reply
	if !levelServed(r.hdr) {
		out = jsonReply(apiResponse{Type: "io.nats.jetstream.api.v1.error_response", Error: errRequiredAPILevel}, true)
	} else {
		out = e.route(r)
	}
	if out.failed {
		e.apiErrors.Add(1)
	}
	_ = e.ic.Publish(r.reply, "", out.hdr, out.data)
	e.auditAPI(r, out)
}

// levelServed reports whether a request's Nats-Required-Api-Level, if
// any, is at most apiLevel; an unreadable level is refused, as nats-server
// does.
func levelServed(hdr []byte) bool {
	v := headerValue(hdr, "Nats-Required-Api-Level")
	if v == nil {
		return true
	}
	n, ok := parseUint(v)
	return ok && n <= apiLevel
}

// route dispatches a $JS.API request by subject.
func (e *Engine) route(r apiReq) reply {
	op := strings.TrimPrefix(r.subject, apiPrefix)
	switch {
	case op == "INFO":
		return e.accountInfo()
	case op == "STREAM.NAMES":
		return e.streamNames(r.data)
	case op == "STREAM.LIST":
		return e.streamList(r.data)
	case strings.HasPrefix(op, "CONSUMER."):
		return e.consumerAPI(r)
	}
	verb, name, ok := splitStreamOp(op)
	if !ok {
		return jsonReply(apiResponse{Type: "io.nats.jetstream.api.v1.error_response", Error: errBadRequest}, true)
	}
	switch verb {
	case "STREAM.CREATE":
		return e.streamCreate(name, r.data)
	case "STREAM.UPDATE":
		return e.streamUpdate(name, r.data)
	case "STREAM.SNAPSHOT":
		return e.streamSnapshot(name, r.data)
	case "STREAM.RESTORE":
		return e.streamRestore(name, r.data)
	}
	st := e.lookup(name)
	typ := map[string]string{
		"STREAM.INFO": typeStreamInfo, "STREAM.DELETE": typeStreamDelete,
		"STREAM.PURGE": typeStreamPurge, "STREAM.MSG.GET": typeMsgGet,
		"STREAM.MSG.DELETE": typeMsgDelete,
	}[verb]
	if typ == "" {
		return jsonReply(apiResponse{Type: "io.nats.jetstream.api.v1.error_response", Error: errBadRequest}, true)
	}
	if st == nil {
		return jsonReply(apiResponse{Type: typ, Error: errStreamNotFound}, true)
	}
	switch verb {
	case "STREAM.INFO":
		return e.streamInfo(st, r.data)
	case "STREAM.DELETE":
		return e.streamDelete(st)
	case "STREAM.PURGE":
		return e.streamPurge(st, r.data)
	case "STREAM.MSG.GET":
		return e.msgGet(st, r.data)
	default:
		return e.msgDelete(st, r.data)
	}
}

// splitStreamOp splits "STREAM.INFO.NAME" into verb and name; the name is
// the last token (names have no dots).
func splitStreamOp(op string) (verb, name string, ok bool) {
	i := strings.LastIndexByte(op, '.')
	if i < 0 {
		return "", "", false
	}
	return op[:i], op[i+1:], true
}

func (e *Engine) accountInfo() reply {
	e.mu.RLock()
	n := len(e.streams)
	e.mu.RUnlock()
	ai := AccountInfo{
		apiResponse: apiResponse{Type: typeAccountInfo},
		Memory:      e.usage(MemoryStorage),
		Store:       e.usage(FileStorage),
		Streams:     n,
		Consumers:   e.numConsumers(),
		Limits: AccountLimits{
			MaxMemory: limitOrNone(e.cfg.MaxMemory), MaxStore: limitOrNone(e.cfg.MaxStore),
			MaxStreams: -1, MaxConsumers: -1, MaxAckPending: -1,
			MemoryMaxStreamBytes: -1, StoreMaxStreamBytes: -1,
		},
		API: APIStats{Level: apiLevel, Total: e.apiTotal.Load(), Errors: e.apiErrors.Load()},
	}
	return jsonReply(ai, false)
}

func limitOrNone(n int64) int64 {
	if n <= 0 {
		return -1
	}
	return n
}

func (e *Engine) streamCreate(name string, body []byte) reply {
	fail := func(err *APIError) reply { return jsonReply(apiResponse{Type: typeStreamCreate, Error: err}, true) }
	cfg, aerr := decodeNamedStreamConfig(name, body)
	if aerr != nil {
		return fail(aerr)
	}
	cfg.setDefaults()
	if aerr := cfg.validate(); aerr != nil {
		return fail(aerr)
	}
	if st := e.lookup(name); st != nil {
		if configEqual(st.config(), cfg) {
			si, _ := st.info(false, "", 0)
			return jsonReply(streamInfoResponse{apiResponse: apiResponse{Type: typeStreamCreate}, StreamInfo: si}, false)
		}
		return fail(errStreamNameExist)
	}
	if aerr := e.checkOverlap(cfg, ""); aerr != nil {
		return fail(aerr)
	}
	if lim := e.limitFor(cfg.Storage); lim > 0 && cfg.MaxBytes > lim {
		if cfg.Storage == MemoryStorage {
			return fail(errMemoryExceeded)
		}
		return fail(errStorageExceeded)
	}
	st, err := e.createStream(cfg)
	if err != nil {
		e.log.Error("stream create", "stream", name, "err", err)
		return fail(apiErr(500, 10049, err.Error()))
	}
	e.mu.Lock()
	e.streams[name] = st
	e.mu.Unlock()
	e.log.Info("stream created", "stream", name, "storage", cfg.Storage.String(), "subjects", strings.Join(cfg.Subjects, " "))
	e.advisoryStream(name, "CREATED")
	si, _ := st.info(false, "", 0)
	return jsonReply(streamInfoResponse{apiResponse: apiResponse{Type: typeStreamCreate}, StreamInfo: si}, false)
}

func configEqual(a, b *StreamConfig) bool {
	return string(mustJSON(a)) == string(mustJSON(b))
}

// checkOverlap refuses subjects shared with another stream (except self).
func (e *Engine) checkOverlap(cfg *StreamConfig, self string) *APIError {
	for _, other := range e.sortedStreams() {
		if other.name == self {
			continue
		}
		for _, a := range cfg.Subjects {
			for _, b := range other.config().Subjects {
				if subjectsOverlap(a, b) {
					return errSubjectOverlap
				}
			}
		}
	}
	return nil
}

func (e *Engine) streamUpdate(name string, body []byte) reply {
	fail := func(err *APIError) reply { return jsonReply(apiResponse{Type: typeStreamUpdate, Error: err}, true) }
	cfg, aerr := decodeNamedStreamConfig(name, body)
	if aerr != nil {
		return fail(aerr)
	}
	st := e.lookup(name)
	if st == nil {
		return fail(errStreamNotFound)
	}
	cfg.setDefaults()
	if aerr := cfg.validate(); aerr != nil {
		return fail(aerr)
	}
	if aerr := checkUpdate(st.config(), cfg); aerr != nil {
		return fail(aerr)
	}
	if cfg.Sealed {
		// A sealed stream keeps what it holds: nats-server (stream.go,
		// update) forces these, and clients see them in the reply.
		cfg.MaxAge, cfg.Discard, cfg.AllowRollup = 0, DiscardNew, false
		cfg.DenyDelete, cfg.DenyPurge = true, true
	}
	if aerr := e.checkOverlap(cfg, name); aerr != nil {
		return fail(aerr)
	}
	if err := st.update(cfg); err != nil {
		return fail(errUpdate("%v", err))
	}
	e.advisoryStream(name, "UPDATED")
	si, _ := st.info(false, "", 0)
	return jsonReply(streamInfoResponse{apiResponse: apiResponse{Type: typeStreamUpdate}, StreamInfo: si}, false)
}

// decodeOptional decodes an optional JSON body into v.
func decodeOptional(body []byte, v any) *APIError {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errInvalidJSON(err)
	}
	return nil
}

func (e *Engine) streamInfo(st *stream, body []byte) reply {
	var req streamInfoRequest
	if aerr := decodeOptional(body, &req); aerr != nil {
		return jsonReply(apiResponse{Type: typeStreamInfo, Error: aerr}, true)
	}
	si, pg := st.info(req.DeletedDetails, req.SubjectsFilter, req.Offset)
	return jsonReply(streamInfoResponse{apiResponse: apiResponse{Type: typeStreamInfo}, apiPaged: pg, StreamInfo: si}, false)
}

// matchingStreams are the streams (by name) with a subject overlapping
// filter ("" for all).
func (e *Engine) matchingStreams(filter string) []*stream {
	all := e.sortedStreams()
	if filter == "" {
		return all
	}
	out := all[:0]
	for _, st := range all {
		for _, s := range st.config().Subjects {
			if subjectsOverlap(filter, s) {
				out = append(out, st)
				break
			}
		}
	}
	return out
}

func (e *Engine) streamNames(body []byte) reply {
	var req streamNamesRequest
	if aerr := decodeOptional(body, &req); aerr != nil {
		return jsonReply(apiResponse{Type: typeStreamNames, Error: aerr}, true)
	}
	all := e.matchingStreams(req.Subject)
	resp := streamNamesResponse{
		apiResponse: apiResponse{Type: typeStreamNames},
		apiPaged:    apiPaged{Total: len(all), Offset: req.Offset, Limit: namesPageLimit},
		Streams:     []string{},
	}
	for _, st := range page(all, req.Offset, namesPageLimit) {
		resp.Streams = append(resp.Streams, st.name)
	}
	return jsonReply(resp, false)
}

func (e *Engine) streamList(body []byte) reply {
	var req streamNamesRequest
	if aerr := decodeOptional(body, &req); aerr != nil {
		return jsonReply(apiResponse{Type: typeStreamList, Error: aerr}, true)
	}
	all := e.matchingStreams(req.Subject)
	resp := streamListResponse{
		apiResponse: apiResponse{Type: typeStreamList},
		apiPaged:    apiPaged{Total: len(all), Offset: req.Offset, Limit: listPageLimit},
		Streams:     []*StreamInfo{},
	}
	for _, st := range page(all, req.Offset, listPageLimit) {
		si, _ := st.info(false, "", 0)
		si.Cluster = nil // as nats-server lists them unclustered (natscli's stream report)
		resp.Streams = append(resp.Streams, si)
	}
	return jsonReply(resp, false)
}

func page[T any](all []T, offset, limit int) []T {
	if offset < 0 || offset >= len(all) {
		return nil
	}
	return all[offset:min(len(all), offset+limit)]
}

func (e *Engine) streamDelete(st *stream) reply {
	e.mu.Lock()
	delete(e.streams, st.name)
	e.mu.Unlock()
	st.stopConsumers(true)
	err := st.stop()
	if rerr := st.remove(); err == nil {
		err = rerr
	}
	if err != nil {
		e.log.Error("stream delete", "stream", st.name, "err", err)
		return jsonReply(apiResponse{Type: typeStreamDelete, Error: apiErr(500, 10050, err.Error())}, true)
	}
	e.log.Info("stream deleted", "stream", st.name)
	e.advisoryStream(st.name, "DELETED")
	return jsonReply(successResponse{apiResponse: apiResponse{Type: typeStreamDelete}, Success: true}, false)
}

func (e *Engine) streamPurge(st *stream, body []byte) reply {
	fail := func(err *APIError) reply { return jsonReply(apiResponse{Type: typeStreamPurge, Error: err}, true) }
	cfg := st.config()
	switch {
	case cfg.Sealed:
		return fail(errSealed)
	case cfg.DenyPurge:
		return fail(errPurgeFailed("stream purge not permitted"))
	}
	var req purgeRequest
	if aerr := decodeOptional(body, &req); aerr != nil {
		return fail(aerr)
	}
	if req.Subject != "" && !validSubject(req.Subject) {
		return fail(errPurgeFailed("invalid subject filter"))
	}
	if req.Seq > 0 && req.Keep > 0 {
		return fail(errBadRequest)
	}
	n, err := st.st.Purge(store.PurgeOpts{Subject: req.Subject, Seq: req.Seq, Keep: req.Keep})
	if err != nil {
		return fail(errPurgeFailed(err.Error()))
	}
	st.afterRemoval()
	return jsonReply(purgeResponse{apiResponse: apiResponse{Type: typeStreamPurge}, Success: true, Purged: n}, false)
}

// loadForGet serves the three forms of a get request (ADR-31).
func loadForGet(st *stream, req *msgGetRequest, sm *store.Msg) (*store.Msg, *APIError) {
	var m *store.Msg
	var err error
	switch {
	case req.LastFor != "" && (req.Seq > 0 || req.NextFor != ""):
		return nil, errBadRequest
	case req.LastFor != "":
		m, err = st.st.LoadLastMsg(req.LastFor, sm)
	case req.NextFor != "":
		m, err = st.st.LoadNextMsg(req.NextFor, req.Seq, sm)
	case req.Seq > 0:
		m, err = st.st.LoadMsg(req.Seq, sm)
	default:
		return nil, errBadRequest
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, errNoMessageFound
	case errors.Is(err, store.ErrCorrupt):
		// Never serve damaged bytes; the store has recorded a report.
		st.e.log.Error("stream message failed its checksum", "stream", st.name, "err", err)
		return nil, errNoMessageFound
	case err != nil:
		return nil, errGeneral(err)
	}
	return m, nil
}

func (e *Engine) msgGet(st *stream, body []byte) reply {
	fail := func(err *APIError) reply { return jsonReply(apiResponse{Type: typeMsgGet, Error: err}, true) }
	var req msgGetRequest
	if len(body) == 0 {
		return fail(errBadRequest)
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return fail(errInvalidJSON(err))
	}
	var sm store.Msg
	m, aerr := loadForGet(st, &req, &sm)
	if aerr != nil {
		return fail(aerr)
	}
	return jsonReply(msgGetResponse{apiResponse: apiResponse{Type: typeMsgGet}, Message: &StoredMsg{
		Subject: m.Subject, Sequence: m.Seq, Header: m.Header, Data: m.Data,
		Time: time.Unix(0, m.Time).UTC(),
	}}, false)
}

// directGet answers DIRECT.GET.<stream> (JSON body) and
// DIRECT.GET.<stream>.<subject> (empty body: last message on subject)
// with the message itself (ADR-31).
func (e *Engine) directGet(r apiReq) reply {
	st := r.direct
	var req msgGetRequest
	rest := strings.TrimPrefix(r.subject, directPrefix+st.name)
	if strings.HasPrefix(rest, ".") {
		if len(r.data) > 0 {
			return reply{hdr: hdrBadRequest, failed: true}
		}
		req.LastFor = rest[1:]
	} else if len(r.data) == 0 || json.Unmarshal(r.data, &req) != nil {
		return reply{hdr: hdrBadRequest, failed: true}
	}
	var sm store.Msg
	m, aerr := loadForGet(st, &req, &sm)
	if aerr == errBadRequest {
		return reply{hdr: hdrBadRequest, failed: true}
	}
	if aerr != nil {
		return reply{hdr: hdrNotFound, failed: true}
	}
	h := directGetHeader(nil, st.name, &storedView{subject: m.Subject, hdr: m.Header, seq: m.Seq, ts: m.Time})
	return reply{hdr: h, data: m.Data}
}

func (e *Engine) msgDelete(st *stream, body []byte) reply {
	fail := func(err *APIError) reply { return jsonReply(apiResponse{Type: typeMsgDelete, Error: err}, true) }
	cfg := st.config()
	switch {
	case cfg.Sealed:
		return fail(errSealed)
	case cfg.DenyDelete:
		return fail(errMsgDeleteFailed("message delete not permitted"))
	}
	var req msgDeleteRequest
	if len(body) == 0 {
		return fail(errBadRequest)
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return fail(errInvalidJSON(err))
	}
	ok, err := st.st.RemoveMsg(req.Seq, !req.NoErase)
	if err != nil {
		return fail(errMsgDeleteFailed(err.Error()))
	}
	if !ok {
		return fail(errSequenceNotFound(req.Seq))
	}
	st.afterRemoval()
	return jsonReply(successResponse{apiResponse: apiResponse{Type: typeMsgDelete}, Success: true}, false)
}
