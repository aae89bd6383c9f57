package server

import (
	"fmt"
	"strings"
	"time"
)

// Permissions limit what one user may publish and subscribe to. A nil field
// leaves that direction unrestricted.
type Permissions struct {
	Publish   *SubjectPermission
	Subscribe *SubjectPermission
	// Response, when set, lets the user publish to the reply subject of each
	// message delivered to it (a service answering requests) without a
	// publish permission for every inbox. As in nats-server, setting it
	// without Publish.Allow denies every other publish.
	Response *ResponsePermission
}

// SubjectPermission is an allow list and a deny list of subjects, with '*'
// and '>' wildcards. A nil Allow allows everything not denied; an empty,
// non-nil Allow allows nothing. Subscribe entries may name a queue group
// after the subject ("orders.* workers"): such an entry applies only to
// queue subscriptions in a matching group.
type SubjectPermission struct {
	Allow []string
	Deny  []string
}

// ResponsePermission bounds the replies allowed per request received.
type ResponsePermission struct {
	MaxMsgs int           // replies per request; default 1
	Expires time.Duration // how long after delivery a reply is allowed; default 2m
}

// nats-server's defaults for allow_responses.
const (
	DefaultResponseMaxMsgs = 1
	DefaultResponseExpires = 2 * time.Minute
)

const (
	maxPubPermCache = 256  // subjects remembered per connection
	maxReplyGrants  = 4096 // outstanding reply permissions per connection
)

// permEntry is one compiled allow or deny pattern.
type permEntry struct {
	toks  []string // subject pattern tokens
	queue string   // subscribe entries: a queue group pattern; "" applies to all
}

// subjectPerms is a compiled SubjectPermission.
type subjectPerms struct {
	restricted bool // an allow list exists (possibly empty)
	allow      []permEntry
	deny       []permEntry
}

// userPerms are a user's compiled permissions. They are read by the user's
// own read goroutine and by publishers delivering to it: read-only once built.
type userPerms struct {
	pub, sub subjectPerms
	resp     *ResponsePermission
}

// compilePermissions validates p and builds its matcher; nil for no limits.
func compilePermissions(p *Permissions) (*userPerms, error) {
	if p == nil {
		return nil, nil
	}
	up := &userPerms{}
	var err error
	if up.pub, err = compileSubjectPerms(p.Publish, false); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	if up.sub, err = compileSubjectPerms(p.Subscribe, true); err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	if p.Response != nil {
		r := *p.Response
		if r.MaxMsgs <= 0 {
			r.MaxMsgs = DefaultResponseMaxMsgs
		}
		if r.Expires <= 0 {
			r.Expires = DefaultResponseExpires
		}
		up.resp = &r
		up.pub.restricted = true // allow_responses turns off the blanket allow
	}
	if !up.pub.restricted && !up.sub.restricted && len(up.pub.deny) == 0 && len(up.sub.deny) == 0 && up.resp == nil {
		return nil, nil
	}
	return up, nil
}

func compileSubjectPerms(sp *SubjectPermission, queues bool) (subjectPerms, error) {
	var out subjectPerms
	if sp == nil {
		return out, nil
	}
	out.restricted = sp.Allow != nil
	var err error
	if out.allow, err = compileEntries(sp.Allow, queues); err != nil {
		return out, fmt.Errorf("allow: %w", err)
	}
	if out.deny, err = compileEntries(sp.Deny, queues); err != nil {
		return out, fmt.Errorf("deny: %w", err)
	}
	return out, nil
}

func compileEntries(list []string, queues bool) ([]permEntry, error) {
	out := make([]permEntry, 0, len(list))
	for _, s := range list {
		f := strings.Fields(s)
		if len(f) == 0 || len(f) > 2 || (len(f) == 2 && !queues) {
			return nil, fmt.Errorf("%q is not a subject%s", s, map[bool]string{true: " (optionally followed by a queue group)"}[queues])
		}
		if !validSubject([]byte(f[0])) {
			return nil, fmt.Errorf("%q is not a valid subject", f[0])
		}
		e := permEntry{toks: strings.Split(f[0], ".")}
		if len(f) == 2 {
			if !validSubject([]byte(f[1])) {
				return nil, fmt.Errorf("%q is not a valid queue group", f[1])
			}
			e.queue = f[1]
		}
		out = append(out, e)
	}
	return out, nil
}

// matchPattern reports whether subj matches the pattern tokens. Tokens of
// subj are taken literally, as nats-server's permission sublist does: a '*'
// in the pattern matches any one token of subj (even "*" or ">"), a '>'
// matches one or more, and a literal matches only itself. So allow "foo.*"
// lets a client subscribe to "foo.>", and deny "foo.bar" does not stop a
// subscription to "foo.*" (deliveries are filtered instead).
func matchPattern(toks []string, subj []byte) bool {
	for _, pt := range toks {
		if len(subj) == 0 {
			return false
		}
		if pt == ">" {
			return true
		}
		i := 0
		for i < len(subj) && subj[i] != '.' {
			i++
		}
		if pt != "*" && pt != string(subj[:i]) {
			return false
		}
		if i == len(subj) {
			subj = nil
		} else {
			subj = subj[i+1:]
			if len(subj) == 0 {
				return false // trailing dot: an empty token no pattern has
			}
		}
	}
	return len(subj) == 0
}

// matchQueue matches a queue group name against a queue pattern.
func matchQueue(pattern, queue string) bool {
	if pattern == queue {
		return true
	}
	return matchPattern(strings.Split(pattern, "."), []byte(queue))
}

// canPublish checks subj against the publish lists (uncached).
func (sp *subjectPerms) canPublish(subj []byte) bool {
	if sp.restricted {
		ok := false
		for i := range sp.allow {
			if matchPattern(sp.allow[i].toks, subj) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for i := range sp.deny {
		if matchPattern(sp.deny[i].toks, subj) {
			return false
		}
	}
	return true
}

// canSubscribe checks a subscription. For the allow list, as in nats-server:
// a queue subscription must match a queue entry when the subject has any,
// and a plain entry otherwise; a plain subscription needs a plain entry.
func (sp *subjectPerms) canSubscribe(subj, queue []byte) bool {
	if sp.restricted {
		plain, queued, queueOK := false, false, false
		for i := range sp.allow {
			e := &sp.allow[i]
			if !matchPattern(e.toks, subj) {
				continue
			}
			if e.queue == "" {
				plain = true
			} else {
				queued = true
				if len(queue) > 0 && matchQueue(e.queue, string(queue)) {
					queueOK = true
				}
			}
		}
		ok := plain
		if len(queue) > 0 && queued {
			ok = queueOK
		}
		if !ok {
			return false
		}
	}
	return !sp.denies(subj, string(queue))
}

// denies reports whether a deny entry covers subj for a subscription in
// queue (nil for a plain one). It also filters deliveries to wildcard
// subscriptions that overlap a denied subject.
func (sp *subjectPerms) denies(subj []byte, queue string) bool {
	for i := range sp.deny {
		e := &sp.deny[i]
		if !matchPattern(e.toks, subj) {
			continue
		}
		if e.queue == "" || (len(queue) > 0 && matchQueue(e.queue, queue)) {
			return true
		}
	}
	return false
}

// ---- per connection ----

// replyGrant is a permission to publish to one reply subject.
type replyGrant struct {
	left    int
	expires time.Time
}

// checkPublish reports whether c may publish to subj: the allow/deny result
// is cached per subject (read goroutine only, bounded), and a denied subject
// may still be a reply this connection was asked for (allow_responses).
func (c *conn) checkPublish(p *userPerms, subj []byte) bool {
	sec := &c.sec
	if sec.pubFor != p { // a Reload changed the permissions
		clear(sec.pubCache)
		sec.pubFor = p
	}
	if ok, hit := sec.pubCache[string(subj)]; hit && ok {
		return true
	} else if !hit {
		ok = p.pub.canPublish(subj)
		if sec.pubCache == nil || len(sec.pubCache) >= maxPubPermCache {
			sec.pubCache = make(map[string]bool)
		}
		sec.pubCache[string(subj)] = ok
		if ok {
			return true
		}
	}
	if p.resp == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	g := sec.replies[string(subj)]
	if g == nil {
		return false
	}
	if time.Now().After(g.expires) {
		delete(sec.replies, string(subj))
		return false
	}
	if g.left--; g.left <= 0 {
		delete(sec.replies, string(subj))
	}
	return true
}

// grantReplyLocked records that c received a message with this reply
// subject, so that it may answer. c.mu must be held.
func (c *conn) grantReplyLocked(p *userPerms, reply []byte) {
	sec := &c.sec
	if sec.replies == nil {
		sec.replies = make(map[string]*replyGrant)
	}
	now := time.Now()
	if len(sec.replies) >= maxReplyGrants {
		for k, g := range sec.replies {
			if now.After(g.expires) {
				delete(sec.replies, k)
			}
		}
		for k := range sec.replies { // still full: forget arbitrary old grants
			if len(sec.replies) < maxReplyGrants {
				break
			}
			delete(sec.replies, k)
		}
	}
	sec.replies[string(reply)] = &replyGrant{left: p.resp.MaxMsgs, expires: now.Add(p.resp.Expires)}
}

// pubViolation tells the client its publish was refused; the connection
// stays open, as in nats-server.
func (c *conn) pubViolation(subj []byte) {
	c.log.Warn("publish permission violation", "user", c.sec.user, "subject", string(subj))
	text := fmt.Sprintf(errPubViolation, subj)
	c.sendSelf(errLine(text))
	if c.mt != nil { // a traced message: its event says why (msgtrace.go)
		c.mt.ingressError(text)
	}
}

// subViolation tells the client its subscription was refused.
func (c *conn) subViolation(subj, queue []byte) {
	c.log.Warn("subscribe permission violation", "user", c.sec.user, "subject", string(subj), "queue", string(queue))
	if len(queue) > 0 {
		c.sendSelf(errLine(fmt.Sprintf(errSubQueueViolation, subj, queue)))
		return
	}
	c.sendSelf(errLine(fmt.Sprintf(errSubViolation, subj)))
}
