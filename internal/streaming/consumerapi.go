package streaming

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The consumer API (ADR-1, NATS-NOTES 1.2), served on the API goroutine:
//
//	CONSUMER.CREATE.<stream>                    legacy ephemeral (name generated)
//	CONSUMER.CREATE.<stream>.<name>             create / update
//	CONSUMER.CREATE.<stream>.<name>.<filter>    the same with its one filter
//	CONSUMER.DURABLE.CREATE.<stream>.<durable>  legacy durable create
//	CONSUMER.INFO.<stream>.<name>
//	CONSUMER.DELETE.<stream>.<name>
//	CONSUMER.NAMES.<stream>, CONSUMER.LIST.<stream>   paged
//	CONSUMER.PAUSE.<stream>.<name>              consumerpause.go
//
// MSG.NEXT does not come here: it is queued on the consumer directly
// (onConsumerNext) from the requester's goroutine.

const nextPrefix = apiPrefix + "CONSUMER.MSG.NEXT."

// onConsumerNext takes a pull request; false when subject is not one.
func (e *Engine) onConsumerNext(subject, reply string, data []byte) bool {
	rest, ok := strings.CutPrefix(subject, nextPrefix)
	if !ok {
		return false
	}
	sn, cn, ok := strings.Cut(rest, ".")
	if !ok || reply == "" {
		return true
	}
	var c *consumer
	if st := e.lookup(sn); st != nil {
		c = st.consumer(cn)
	}
	if c == nil {
		// nats-server has no subscription for a consumer that does not
		// exist: the requester gets no-responders.
		_ = e.ic.Publish(reply, "", hdrNoResponders, nil)
		return true
	}
	c.nextRequest(reply, data)
	return true
}

func consumerFail(typ string, err *APIError) reply {
	return jsonReply(apiResponse{Type: typ, Error: err}, true)
}

// consumerAPI routes a CONSUMER.* request.
func (e *Engine) consumerAPI(r apiReq) reply {
	op := strings.TrimPrefix(r.subject, apiPrefix+"CONSUMER.")
	toks := strings.Split(op, ".")
	switch {
	case toks[0] == "CREATE" && len(toks) >= 2:
		name, filter := "", ""
		if len(toks) >= 3 {
			name = toks[2]
		}
		if len(toks) >= 4 {
			filter = strings.Join(toks[3:], ".")
		}
		return e.consumerCreate(toks[1], name, filter, false, r.data)
	case len(toks) == 4 && toks[0] == "DURABLE" && toks[1] == "CREATE":
		return e.consumerCreate(toks[2], toks[3], "", true, r.data)
	case len(toks) == 3 && toks[0] == "INFO":
		return e.consumerInfo(toks[1], toks[2])
	case len(toks) == 3 && toks[0] == "DELETE":
		return e.consumerDelete(toks[1], toks[2])
	case len(toks) == 2 && toks[0] == "NAMES":
		return e.consumerNames(toks[1], r.data, false)
	case len(toks) == 2 && toks[0] == "LIST":
		return e.consumerNames(toks[1], r.data, true)
	case len(toks) == 3 && toks[0] == "PAUSE":
		return e.consumerPause(toks[1], toks[2], r.data)
	}
	return consumerFail("io.nats.jetstream.api.v1.error_response", errBadRequest)
}

// consumerCreate serves a create or update request. Like nats-server,
// each one that succeeds on a paused consumer repeats the pause advisory.
func (e *Engine) consumerCreate(stream, name, filter string, durableForm bool, body []byte) reply {
	out, c := e.consumerCreateOrUpdate(stream, name, filter, durableForm, body)
	if c != nil {
		c.mu.Lock()
		until, paused := c.cfg.PauseUntil, c.pausedLocked(time.Now())
		c.mu.Unlock()
		if paused {
			e.advisoryPause(c, until)
		}
	}
	return out
}

// consumerCreateOrUpdate returns the consumer created or updated, nil on
// failure.
func (e *Engine) consumerCreateOrUpdate(stream, name, filter string, durableForm bool, body []byte) (reply, *consumer) {
	fail := func(err *APIError) (reply, *consumer) { return consumerFail(typeConsumerCreate, err), nil }
	st := e.lookup(stream)
	if st == nil {
		return fail(errStreamNotFound)
	}
	if len(body) == 0 {
		return fail(errConsumerConfigReq)
	}
	var req consumerCreateRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return fail(errInvalidJSON(err))
	}
	if len(req.Config) == 0 || string(req.Config) == "null" {
		return fail(errConsumerConfigReq)
	}
	if req.Stream != "" && req.Stream != stream {
		return fail(errStreamMismatch)
	}
	cfg, aerr := decodeConsumerConfig(req.Config)
	if aerr != nil {
		return fail(aerr)
	}
	switch req.Action {
	case "", "create", "update":
	default:
		return fail(errInvalidJSON(errBadAction))
	}
	if durableForm {
		if cfg.Durable == "" {
			return fail(errDurableNotInSubject)
		}
		if cfg.Durable != name {
			return fail(errDurableMismatch)
		}
	}
	if name != "" {
		switch {
		case cfg.Name == "" && cfg.Durable == "":
			cfg.Name = name
		case cfg.Name != "" && cfg.Name != name:
			return fail(errDurableMismatch)
		case cfg.Name == "" && cfg.Durable != name:
			return fail(errDurableMismatch)
		}
	}
	if filter != "" {
		fs := cfg.filters()
		if len(fs) > 1 {
			return fail(errMultipleFilters)
		}
		if len(fs) == 0 || fs[0] != filter {
			return fail(errFilterMismatch)
		}
	}
	if cfg.Name == "" && cfg.Durable == "" {
		cfg.Name = randomName()
	}
	sc := st.config()
	setConsumerDefaults(cfg, sc)
	if aerr := validateConsumer(cfg, sc); aerr != nil {
		return fail(aerr)
	}

	st.consMu.Lock()
	existing := st.consumers[cfg.Name]
	st.consMu.Unlock()
	if existing != nil {
		existing.mu.Lock()
		old := existing.cfg
		existing.mu.Unlock()
		// Only CONSUMER.PAUSE changes a pause (nats-server ignores
		// pause_until on update).
		cfg.PauseUntil = old.PauseUntil
		if configsEqual(&old, cfg) {
			return e.consumerInfoReply(typeConsumerCreate, existing), existing
		}
		if req.Action == "create" {
			return fail(errConsumerExists)
		}
		if aerr := checkConsumerUpdate(&old, cfg); aerr != nil {
			return fail(aerr)
		}
		if aerr := st.checkWorkQueue(cfg, existing); aerr != nil {
			return fail(aerr)
		}
		if err := existing.update(cfg); err != nil {
			return fail(errConsumerCreate(err.Error()))
		}
		return e.consumerInfoReply(typeConsumerCreate, existing), existing
	}
	if req.Action == "update" {
		return fail(errConsumerDoesNotExist)
	}
	if sc.MaxConsumers > 0 && st.numConsumers() >= sc.MaxConsumers {
		return fail(errMaxConsumers)
	}
	if aerr := st.checkWorkQueue(cfg, nil); aerr != nil {
		return fail(aerr)
	}
	c, err := st.addConsumer(cfg)
	if err != nil {
		e.log.Error("consumer create", "stream", stream, "consumer", cfg.Name, "err", err)
		return fail(apiErr(500, 10104, "error creating store for consumer: "+err.Error()))
	}
	e.advisoryConsumer(stream, c.name, "CREATED")
	return e.consumerInfoReply(typeConsumerCreate, c), c
}

var errBadAction = jsonError("action must be \"create\", \"update\" or empty")

type jsonError string

func (e jsonError) Error() string { return string(e) }

func configsEqual(a, b *ConsumerConfig) bool {
	return string(mustJSON(a)) == string(mustJSON(b))
}

// checkConsumerUpdate refuses changes nats-server refuses on update.
func checkConsumerUpdate(old, upd *ConsumerConfig) *APIError {
	bad := func(what string) *APIError { return errConsumerCreate("consumer " + what + " can not be updated") }
	switch {
	case old.Durable != upd.Durable:
		return bad("durable name")
	case old.DeliverPolicy != upd.DeliverPolicy:
		return bad("deliver policy")
	case old.OptStartSeq != upd.OptStartSeq:
		return bad("start sequence")
	case (old.OptStartTime == nil) != (upd.OptStartTime == nil) ||
		(old.OptStartTime != nil && !old.OptStartTime.Equal(*upd.OptStartTime)):
		return bad("start time")
	case old.AckPolicy != upd.AckPolicy:
		return bad("ack policy")
	case old.ReplayPolicy != upd.ReplayPolicy:
		return bad("replay policy")
	case old.isPush() != upd.isPush():
		return bad("push/pull mode")
	case old.DeliverGroup != upd.DeliverGroup:
		return bad("deliver group")
	case old.MemoryStorage != upd.MemoryStorage:
		return bad("storage")
	case old.Replicas != upd.Replicas:
		return bad("replicas")
	}
	return nil
}

// checkWorkQueue applies the work queue rules (10098, 10099, 10100):
// explicit acks, one unfiltered consumer, filters that do not overlap.
func (st *stream) checkWorkQueue(cfg *ConsumerConfig, self *consumer) *APIError {
	if st.config().Retention != WorkQueue {
		return nil
	}
	if cfg.AckPolicy != AckExplicit {
		return errWQExplicitAck
	}
	mine := normFilters(cfg.filters())
	for _, o := range st.consumerList() {
		if o == self {
			continue
		}
		o.mu.Lock()
		theirs := o.filters
		o.mu.Unlock()
		if len(mine) == 0 || len(theirs) == 0 {
			if len(mine) == 0 && len(theirs) == 0 {
				return errWQMultipleUnfiltered
			}
			return errWQNotUnique
		}
		for _, a := range mine {
			for _, b := range theirs {
				if subjectsOverlap(a, b) {
					return errWQNotUnique
				}
			}
		}
	}
	return nil
}

func (e *Engine) consumerInfoReply(typ string, c *consumer) reply {
	return jsonReply(consumerInfoResponse{apiResponse: apiResponse{Type: typ}, ConsumerInfo: c.info()}, false)
}

func (e *Engine) consumerInfo(stream, name string) reply {
	st := e.lookup(stream)
	if st == nil {
		return consumerFail(typeConsumerInfo, errStreamNotFound)
	}
	c := st.consumer(name)
	if c == nil {
		return consumerFail(typeConsumerInfo, errConsumerNotFound)
	}
	return e.consumerInfoReply(typeConsumerInfo, c)
}

func (e *Engine) consumerDelete(stream, name string) reply {
	st := e.lookup(stream)
	if st == nil {
		return consumerFail(typeConsumerDelete, errStreamNotFound)
	}
	c := st.consumer(name)
	if c == nil {
		return consumerFail(typeConsumerDelete, errConsumerNotFound)
	}
	e.removeConsumer(c, "deleted", true)
	return jsonReply(successResponse{apiResponse: apiResponse{Type: typeConsumerDelete}, Success: true}, false)
}

func (e *Engine) consumerNames(stream string, body []byte, list bool) reply {
	typ := typeConsumerNames
	if list {
		typ = typeConsumerList
	}
	st := e.lookup(stream)
	if st == nil {
		return consumerFail(typ, errStreamNotFound)
	}
	var req apiPagedRequest
	if aerr := decodeOptional(body, &req); aerr != nil {
		return consumerFail(typ, aerr)
	}
	all := st.consumerList()
	if list {
		resp := consumerListResponse{
			apiResponse: apiResponse{Type: typ},
			apiPaged:    apiPaged{Total: len(all), Offset: req.Offset, Limit: listPageLimit},
			Consumers:   []*ConsumerInfo{},
		}
		for _, c := range page(all, req.Offset, listPageLimit) {
			resp.Consumers = append(resp.Consumers, c.info())
		}
		return jsonReply(resp, false)
	}
	resp := consumerNamesResponse{
		apiResponse: apiResponse{Type: typ},
		apiPaged:    apiPaged{Total: len(all), Offset: req.Offset, Limit: namesPageLimit},
		Consumers:   []string{},
	}
	for _, c := range page(all, req.Offset, namesPageLimit) {
		resp.Consumers = append(resp.Consumers, c.name)
	}
	return jsonReply(resp, false)
}

// consumerMeta is meta.json of a durable consumer.
type consumerMeta struct {
	Config  ConsumerConfig `json:"config"`
	Created time.Time      `json:"created"`
}

// addConsumer creates, positions and starts a consumer (API goroutine).
func (st *stream) addConsumer(cfg *ConsumerConfig) (*consumer, error) {
	return st.addConsumerAt(cfg, (*consumer).position)
}

// addConsumerAt creates and starts a consumer whose cursor place sets
// (with c.mu held): its deliver policy, or a restored state.
func (st *stream) addConsumerAt(cfg *ConsumerConfig, place func(*consumer)) (*consumer, error) {
	created := time.Now().UTC()
	c := newConsumer(st, cfg, created)
	c.mu.Lock()
	place(c)
	c.mu.Unlock()
	if persistent(st, cfg) {
		c.dir = st.consumerDir(cfg.Name)
		sf, _, err := openStateFile(c.dir, st.e.cfg.SyncInterval <= 0)
		if err != nil {
			return nil, err
		}
		c.state = sf
		if err := writeJSONFile(filepath.Join(c.dir, metaFile), consumerMeta{Config: *cfg, Created: created}); err != nil {
			sf.close()
			return nil, err
		}
		c.mu.Lock()
		c.dirty = true
		c.mu.Unlock()
	}
	st.consMu.Lock()
	st.consumers[cfg.Name] = c
	st.consMu.Unlock()
	c.start()
	st.e.log.Debug("consumer created", "stream", st.name, "consumer", cfg.Name)
	return c, nil
}

// update applies a validated config change.
func (c *consumer) update(cfg *ConsumerConfig) error {
	if c.dir != "" {
		if err := writeJSONFile(filepath.Join(c.dir, metaFile), consumerMeta{Config: *cfg, Created: c.created}); err != nil {
			return err
		}
	}
	c.mu.Lock()
	c.cfg = *cfg
	c.armPauseLocked()
	c.filters = normFilters(cfg.filters())
	c.rate.init(cfg.RateLimit)
	c.recountPendingLocked()
	c.mu.Unlock()
	c.kick()
	return nil
}

// consumerList returns the consumers by name.
func (st *stream) consumerList() []*consumer {
	st.consMu.Lock()
	out := make([]*consumer, 0, len(st.consumers))
	for _, c := range st.consumers {
		out = append(out, c)
	}
	st.consMu.Unlock()
	slices.SortFunc(out, func(a, b *consumer) int { return strings.Compare(a.name, b.name) })
	return out
}
