package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/natsctl/natsctl/internal/server"
)

// decodeAccounts reads nats-server's accounts block:
//
//	accounts {
//	  A: {
//	    users: [{user: a, password: pa}]
//	    exports: [{stream: "events.>"}, {service: "help.>", accounts: [B], response_type: stream}]
//	    limits: {max_connections: 10, max_subscriptions: 100, max_payload: 64KB}
//	  }
//	  B: {
//	    users: [{nkey: UDXU...}]
//	    imports: [{stream: {account: A, subject: "events.>"}, prefix: a}
//	              {service: {account: A, subject: "help.>"}, to: "ask.>"}]
//	  }
//	}
func decodeAccounts(raw any) (any, error) {
	raw, err := fromEnvJSON(raw)
	if err != nil {
		return nil, err
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want a block of accounts ({ A: { users: [...] } }), got %v", raw)
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names) // stable errors and order
	out := make([]server.AccountOptions, 0, len(m))
	for _, name := range names {
		ao, err := decodeAccount(name, m[name])
		if err != nil {
			return nil, fmt.Errorf("account %s: %w", name, err)
		}
		out = append(out, ao)
	}
	return out, nil
}

func decodeAccount(name string, raw any) (server.AccountOptions, error) {
	ao := server.AccountOptions{Name: name}
	if raw == nil {
		return ao, nil // "A: {}" parses as an empty block
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return ao, fmt.Errorf("want a block ({ users: [...] }), got %v", raw)
	}
	for k, v := range m {
		var err error
		switch strings.ToLower(k) {
		case "users":
			var u any
			if u, err = decodeUsers(v); err == nil {
				ao.Users = u.([]server.User)
			}
		case "exports":
			ao.Exports, err = decodeList(v, decodeExport)
		case "imports":
			ao.Imports, err = decodeList(v, decodeImport)
		case "limits":
			ao.Limits, err = decodeAccountLimits(v)
		case "default_permissions", "default_perms":
			ao.DefaultPermissions, err = decodePermissions(v)
		case "jetstream":
			// Streams are per account whatever this says (docs/accounts.md).
		case "msg_trace", "trace_dest":
			ao.TraceDest, ao.TraceSampling, err = decodeMsgTrace(v)
		default:
			err = fmt.Errorf("unknown key (want users, exports, imports, limits, default_permissions, jetstream, msg_trace)")
		}
		if err != nil {
			return ao, fmt.Errorf("%s: %w", k, err)
		}
	}
	return ao, nil
}

// decodeMsgTrace reads an account's msg_trace: a destination subject, or
// {dest: subject, sampling: 1..100 or "50%"} (nats-server's forms).
func decodeMsgTrace(v any) (dest string, sampling int, err error) {
	if s, ok := v.(string); ok {
		return s, 0, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return "", 0, fmt.Errorf("want a subject or {dest: subject, sampling: percent}, got %v", v)
	}
	for k, x := range m {
		switch strings.ToLower(k) {
		case "dest":
			dest, err = confString(x)
		case "sampling":
			if s, ok := x.(string); ok {
				sampling, err = strconv.Atoi(strings.TrimSuffix(s, "%"))
			} else {
				var n int64
				n, err = toInt(x)
				sampling = int(n)
			}
			if err == nil && (sampling < 1 || sampling > 100) {
				err = fmt.Errorf("sampling %d: want 1 to 100", sampling)
			}
		default:
			err = fmt.Errorf("unknown key %q (want dest, sampling)", k)
		}
		if err != nil {
			return "", 0, err
		}
	}
	return dest, sampling, nil
}

func decodeList[T any](raw any, one func(map[string]any) (T, error)) ([]T, error) {
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("want a list, got %v", raw)
	}
	out := make([]T, 0, len(list))
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("[%d]: want a block, got %v", i, item)
		}
		v, err := one(m)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func decodeExport(m map[string]any) (server.Export, error) {
	var e server.Export
	for k, v := range m {
		var err error
		switch strings.ToLower(k) {
		case "stream":
			e.Stream, err = confString(v)
		case "service":
			e.Service, err = confString(v)
		case "accounts":
			e.Accounts, err = confStrings(v)
		case "response", "response_type":
			var rt string
			if rt, err = confString(v); err == nil {
				switch strings.ToLower(rt) {
				case "single", "singleton":
					e.ResponseType = "singleton"
				case "stream":
					e.ResponseType = "stream"
				case "chunk", "chunked":
					e.ResponseType = "chunked"
				default:
					err = fmt.Errorf("unknown response type %q (want singleton, stream or chunked)", rt)
				}
			}
		case "threshold", "response_threshold", "response_max_time", "response_time":
			var n int64
			if n, err = toDuration(v); err == nil {
				e.ResponseThreshold = time.Duration(n)
			}
		case "allow_trace": // message tracing carries on into the exporter
			e.AllowTrace, err = confBool(v)
		default:
			err = fmt.Errorf("unknown key (want stream or service, accounts, response_type, response_threshold, allow_trace)")
		}
		if err != nil {
			return e, fmt.Errorf("%s: %w", k, err)
		}
	}
	return e, nil
}

func confBool(v any) (bool, error) {
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("want true or false, got %v", v)
	}
	return b, nil
}

func decodeImport(m map[string]any) (server.Import, error) {
	var im server.Import
	for k, v := range m {
		var err error
		switch lk := strings.ToLower(k); lk {
		case "stream", "service":
			if im.Account != "" {
				return im, fmt.Errorf("an import is a stream or a service, not both")
			}
			im.Service = lk == "service"
			src, ok := v.(map[string]any)
			if !ok {
				return im, fmt.Errorf("%s: want {account: A, subject: s}, got %v", k, v)
			}
			for sk, sv := range src {
				switch strings.ToLower(sk) {
				case "account":
					im.Account, err = confString(sv)
				case "subject":
					im.Subject, err = confString(sv)
				default:
					err = fmt.Errorf("unknown key %q (want account, subject)", sk)
				}
				if err != nil {
					break
				}
			}
		case "prefix":
			im.Prefix, err = confString(v)
		case "to":
			im.To, err = confString(v)
		case "allow_trace": // message tracing carries on into the importer
			im.AllowTrace, err = confBool(v)
		default:
			err = fmt.Errorf("unknown key (want stream or service, prefix, to, allow_trace)")
		}
		if err != nil {
			return im, fmt.Errorf("%s: %w", k, err)
		}
	}
	if im.Account == "" {
		return im, fmt.Errorf("needs stream: {account: ..., subject: ...} or service: {...}")
	}
	return im, nil
}

func decodeAccountLimits(raw any) (server.AccountLimits, error) {
	var l server.AccountLimits
	m, ok := raw.(map[string]any)
	if !ok {
		return l, fmt.Errorf("want a block, got %v", raw)
	}
	for k, v := range m {
		var n int64
		var err error
		switch strings.ToLower(k) {
		case "max_connections", "max_conn":
			if n, err = toInt(v); err == nil {
				l.MaxConnections = int(n)
			}
		case "max_subscriptions", "max_subs":
			if n, err = toInt(v); err == nil {
				l.MaxSubscriptions = int(n)
			}
		case "max_payload", "max_pay":
			if n, err = toSize(v); err == nil {
				l.MaxPayload = int32(n)
			}
		default:
			err = fmt.Errorf("unknown key (want max_connections, max_subscriptions, max_payload)")
		}
		if err != nil {
			return l, fmt.Errorf("%s: %w", k, err)
		}
		if n < -1 || n > 1<<31-1 {
			return l, fmt.Errorf("%s: %d is out of range", k, n)
		}
		if n == -1 { // nats-server's "unlimited"
			switch strings.ToLower(k) {
			case "max_connections", "max_conn":
				l.MaxConnections = 0
			case "max_subscriptions", "max_subs":
				l.MaxSubscriptions = 0
			default:
				l.MaxPayload = 0
			}
		}
	}
	return l, nil
}

// decodeOperators reads operator: a JWT file path or inline JWT, or a list.
func decodeOperators(raw any) (any, error) {
	if s, ok := raw.(string); ok && strings.HasPrefix(strings.TrimSpace(s), "[") {
		var err error
		if raw, err = fromEnvJSON(raw); err != nil {
			return nil, err
		}
	}
	return confStrings(raw)
}

// decodeResolver reads resolver: MEMORY, or a block
// { type: full|cache, dir: "./jwt" } (nats-server's other keys there, such
// as allow_delete and interval, are accepted and ignored).
func decodeResolver(raw any) (any, error) {
	if s, ok := raw.(string); ok {
		if strings.HasPrefix(strings.TrimSpace(s), "{") {
			var err error
			if raw, err = fromEnvJSON(raw); err != nil {
				return nil, err
			}
		} else {
			if !strings.EqualFold(s, "MEMORY") {
				return nil, fmt.Errorf("%q is not supported: use MEMORY or { type: full, dir: ... }", s)
			}
			return server.ResolverOptions{Type: "MEMORY"}, nil
		}
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want MEMORY or { type: full, dir: ... }, got %v", raw)
	}
	var r server.ResolverOptions
	for k, v := range m {
		var err error
		switch strings.ToLower(k) {
		case "type":
			r.Type, err = confString(v)
		case "dir":
			r.Dir, err = confString(v)
		case "allow_delete", "hard_delete", "interval", "limit", "timeout", "sync":
		default:
			err = fmt.Errorf("unknown key (want type, dir)")
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
	}
	return r, nil
}

// decodePreload reads resolver_preload: { ACCOUNTPUBKEY: "eyJ..." }.
func decodePreload(raw any) (any, error) {
	raw, err := fromEnvJSON(raw)
	if err != nil {
		return nil, err
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want { ACCOUNT: JWT, ... }, got %v", raw)
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		s, err := confString(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[strings.ToUpper(k)] = s
	}
	return out, nil
}
