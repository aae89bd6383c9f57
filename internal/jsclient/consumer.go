package jsclient

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ConsumerCreateAction is CONSUMER.CREATE's "action" (ADR-34): "" creates
// or updates, "create" refuses an existing consumer with another config,
// "update" refuses a missing one.
type ConsumerCreateAction string

const (
	ActionCreateOrUpdate ConsumerCreateAction = ""
	ActionCreate         ConsumerCreateAction = "create"
	ActionUpdate         ConsumerCreateAction = "update"
)

// CreateConsumer creates (or updates, per action) a consumer on stream.
// A config with neither name nor durable gets a random name, as nats.go
// does, so the extended subject form can always be used.
func (js *JS) CreateConsumer(ctx context.Context, stream string, cfg ConsumerConfig, action ConsumerCreateAction) (*ConsumerInfo, []byte, error) {
	if cfg.Name == "" && cfg.Durable == "" {
		cfg.Name = RandomName()
	}
	name := cfg.Name
	if name == "" {
		name = cfg.Durable
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, nil, err
	}
	return js.createConsumer(ctx, stream, name, oneFilter(cfg.FilterSubject, cfg.FilterSubjects), raw, action)
}

// UpdateConsumerRaw sends cfg, a config as the server sent it (every field
// kept) with edits applied, with action update.
func (js *JS) UpdateConsumerRaw(ctx context.Context, stream, name string, cfg map[string]any) (*ConsumerInfo, []byte, error) {
	return js.CreateConsumerRaw(ctx, stream, name, cfg, ActionUpdate)
}

// CreateConsumerRaw is CreateConsumer with a config given by JSON names,
// so fields ConsumerConfig lacks reach the server.
func (js *JS) CreateConsumerRaw(ctx context.Context, stream, name string, cfg map[string]any, action ConsumerCreateAction) (*ConsumerInfo, []byte, error) {
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, nil, err
	}
	var filters []string
	if fs, ok := cfg["filter_subjects"].([]any); ok {
		for _, f := range fs {
			s, _ := f.(string)
			filters = append(filters, s)
		}
	}
	f, _ := cfg["filter_subject"].(string)
	return js.createConsumer(ctx, stream, name, oneFilter(f, filters), raw, action)
}

func oneFilter(f string, fs []string) string {
	if f != "" && len(fs) == 0 {
		return f
	}
	if f == "" && len(fs) == 1 {
		return fs[0]
	}
	return ""
}

func (js *JS) createConsumer(ctx context.Context, stream, name, filter string, cfg json.RawMessage, action ConsumerCreateAction) (*ConsumerInfo, []byte, error) {
	subj := "CONSUMER.CREATE." + stream + "." + name
	// Our client does not publish to subjects with wildcards, so a
	// wildcard filter uses the plain form (valid on every server).
	if filter != "" && !strings.ContainsAny(filter, "*>") {
		subj += "." + filter
	}
	req := struct {
		Stream string               `json:"stream_name"`
		Config json.RawMessage      `json:"config"`
		Action ConsumerCreateAction `json:"action,omitempty"`
	}{stream, cfg, action}
	var ci ConsumerInfo
	raw, err := js.Request(ctx, subj, req, &ci)
	if err != nil {
		return nil, raw, err
	}
	return &ci, raw, nil
}

// ConsumerInfo returns a consumer's config and state.
func (js *JS) ConsumerInfo(ctx context.Context, stream, name string) (*ConsumerInfo, []byte, error) {
	var ci ConsumerInfo
	raw, err := js.Request(ctx, "CONSUMER.INFO."+stream+"."+name, nil, &ci)
	if err != nil {
		return nil, raw, err
	}
	return &ci, raw, nil
}

// ConsumerConfigRaw returns a consumer's config as the server sent it.
func (js *JS) ConsumerConfigRaw(ctx context.Context, stream, name string) (map[string]any, error) {
	var r struct {
		Config map[string]any `json:"config"`
	}
	if _, err := js.Request(ctx, "CONSUMER.INFO."+stream+"."+name, nil, &r); err != nil {
		return nil, err
	}
	return r.Config, nil
}

// DeleteConsumer removes a consumer.
func (js *JS) DeleteConsumer(ctx context.Context, stream, name string) error {
	_, err := js.Request(ctx, "CONSUMER.DELETE."+stream+"."+name, nil, nil)
	return err
}

// Consumers lists a stream's consumers, paging through CONSUMER.LIST.
func (js *JS) Consumers(ctx context.Context, stream string) ([]*ConsumerInfo, error) {
	var all []*ConsumerInfo
	for offset := 0; ; {
		var page struct {
			Total     int             `json:"total"`
			Consumers []*ConsumerInfo `json:"consumers"`
		}
		if _, err := js.Request(ctx, "CONSUMER.LIST."+stream, map[string]int{"offset": offset}, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Consumers...)
		offset += len(page.Consumers)
		if len(page.Consumers) == 0 || offset >= page.Total {
			return all, nil
		}
	}
}

// RandomName is an 8-character consumer name, as nats.go generates for
// unnamed consumers.
func RandomName() string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var b [8]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}

// ErrConsumerGone means the consumer was deleted (or never existed) while
// being read.
var ErrConsumerGone = errors.New("consumer deleted or not found")

// validName reports whether s can be a stream, consumer or bucket name:
// one subject token without wildcards or path separators.
func validName(s string) error {
	if s == "" || strings.ContainsAny(s, " \t\r\n.*>/\\") {
		return fmt.Errorf("bad name %q: use letters, digits, - and _", s)
	}
	return nil
}
