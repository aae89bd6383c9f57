package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/natsctl/natsctl/internal/server"
)

// Config blocks that nats-server nests ("authorization { user: a }"). They
// are flattened to dotted keys ("authorization.user") so that each of their
// options is a serveSpec like any other: flag, NATSCTL_AUTHORIZATION_USER,
// and precedence. Unknown keys inside them are refused like unknown keys at
// the top level.
var configBlocks = []string{"authorization", "tls"}

// flattenBlocks rewrites vals' known blocks into dotted keys.
func flattenBlocks(vals map[string]any) error {
	for _, name := range configBlocks {
		for k, v := range vals {
			if strings.ToLower(k) != name {
				continue
			}
			block, ok := v.(map[string]any)
			if !ok {
				return fmt.Errorf("%s: want a block of options ({ ... }), got %v", name, v)
			}
			delete(vals, k)
			for bk, bv := range block {
				vals[name+"."+strings.ToLower(bk)] = bv
			}
		}
	}
	return nil
}

// envName is the environment variable of a config key.
func envName(key string) string {
	return "NATSCTL_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// fromEnvJSON lets a structured option come from the environment as JSON.
func fromEnvJSON(raw any) (any, error) {
	s, ok := raw.(string)
	if !ok {
		return raw, nil
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("%q is not JSON: %w", s, err)
	}
	return v, nil
}

// decodeUsers reads the users list of an authorization block:
//
//	users = [
//	  {user: alice, password: "$2a$11$...", permissions: {...}}
//	  {nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4}
//	]
func decodeUsers(raw any) (any, error) {
	raw, err := fromEnvJSON(raw)
	if err != nil {
		return nil, err
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("want a list of users, got %v", raw)
	}
	users := make([]server.User, 0, len(list))
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("users[%d]: want {user: ..., password: ...} or {nkey: ...}, got %v", i, item)
		}
		var u server.User
		for k, v := range m {
			switch strings.ToLower(k) {
			case "user", "username":
				u.Username, err = confString(v)
			case "pass", "password":
				u.Password, err = confString(v)
			case "nkey":
				u.Nkey, err = confString(v)
			case "permissions", "perms":
				u.Permissions, err = decodePermissions(v)
			default:
				err = fmt.Errorf("unknown key %q (want user, password, nkey, permissions)", k)
			}
			if err != nil {
				return nil, fmt.Errorf("users[%d]: %w", i, err)
			}
		}
		users = append(users, u)
	}
	return users, nil
}

// decodePermissionsOpt is decodePermissions for a spec (env JSON allowed).
func decodePermissionsOpt(raw any) (any, error) {
	raw, err := fromEnvJSON(raw)
	if err != nil {
		return nil, err
	}
	return decodePermissions(raw)
}

// decodePermissions reads nats-server's permissions block:
//
//	permissions: {
//	  publish: {allow: ["orders.>"], deny: "orders.secret"}   # or a subject or a list: allow only
//	  subscribe: ["_INBOX.>", "jobs.* workers"]               # "subject queue" for queue groups
//	  allow_responses: true                                   # or {max: 1, expires: "2m"}
//	}
func decodePermissions(raw any) (*server.Permissions, error) {
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("permissions: want a block, got %v", raw)
	}
	p := &server.Permissions{}
	for k, v := range m {
		var err error
		switch strings.ToLower(k) {
		case "publish", "pub":
			p.Publish, err = decodeSubjectPermission(v)
		case "subscribe", "sub":
			p.Subscribe, err = decodeSubjectPermission(v)
		case "allow_responses", "publish_allow_responses":
			p.Response, err = decodeResponses(v)
		default:
			err = fmt.Errorf("unknown key %q (want publish, subscribe, allow_responses)", k)
		}
		if err != nil {
			return nil, fmt.Errorf("permissions %s: %w", k, err)
		}
	}
	return p, nil
}

func decodeSubjectPermission(v any) (*server.SubjectPermission, error) {
	if m, ok := v.(map[string]any); ok {
		sp := &server.SubjectPermission{}
		for k, lv := range m {
			list, err := confStrings(lv)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			switch strings.ToLower(k) {
			case "allow":
				sp.Allow = list
			case "deny":
				sp.Deny = list
			default:
				return nil, fmt.Errorf("unknown key %q (want allow, deny)", k)
			}
		}
		return sp, nil
	}
	list, err := confStrings(v) // the short form: an allow list
	if err != nil {
		return nil, err
	}
	return &server.SubjectPermission{Allow: list}, nil
}

func decodeResponses(v any) (*server.ResponsePermission, error) {
	switch v := v.(type) {
	case bool:
		if !v {
			return nil, nil
		}
		return &server.ResponsePermission{}, nil
	case map[string]any:
		rp := &server.ResponsePermission{}
		for k, x := range v {
			switch strings.ToLower(k) {
			case "max", "max_msgs", "max_messages", "max_responses":
				n, err := toInt(x)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", k, err)
				}
				rp.MaxMsgs = int(n)
			case "expires", "expiration", "ttl":
				d, err := toDuration(x)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", k, err)
				}
				rp.Expires = time.Duration(d)
			default:
				return nil, fmt.Errorf("unknown key %q (want max, expires)", k)
			}
		}
		return rp, nil
	}
	return nil, fmt.Errorf("want true or {max: N, expires: DURATION}, got %v", v)
}

func confString(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%v is not a string", v)
	}
	return s, nil
}

func confStrings(v any) ([]string, error) {
	switch v := v.(type) {
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			s, err := confString(x)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	case []string:
		return v, nil
	}
	return nil, fmt.Errorf("want a subject or a list of subjects, got %v", v)
}

// finishSecurity applies nats-server's --tls rule (TLS needs a
// certificate), and lets https_port replace the default http_port.
func finishSecurity(c *serveConfig) error {
	if c.HTTPSPort != 0 {
		c.HTTPPort = 0
	}
	if (c.TLSFlag || c.TLS.Verify) && (c.TLS.CertFile == "" || c.TLS.KeyFile == "") {
		return fmt.Errorf("tls: --tls and --tlsverify need a certificate and key (--tlscert, --tlskey, or cert_file and key_file in the tls block)")
	}
	return nil
}
