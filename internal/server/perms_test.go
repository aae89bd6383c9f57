package server

import (
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestPerms_MatchPattern(t *testing.T) {
	cases := []struct {
		pattern, subj string
		want          bool
	}{
		{"foo", "foo", true},
		{"foo", "bar", false},
		{"foo", "foo.bar", false},
		{"foo.*", "foo.bar", true},
		{"foo.*", "foo", false},
		{"foo.*", "foo.bar.baz", false},
		{"foo.>", "foo.bar.baz", true},
		{"foo.>", "foo", false},
		{">", "a", true},
		{"*.b", "a.b", true},
		// Wildcards in the subject are tokens like any other.
		{"foo.*", "foo.*", true},
		{"foo.*", "foo.>", true},
		{"foo.bar", "foo.*", false},
		{"foo.>", "foo.*", true},
		{"foo.*", "foo.", false},
	}
	for _, tc := range cases {
		if got := matchPattern(strings.Split(tc.pattern, "."), []byte(tc.subj)); got != tc.want {
			t.Errorf("matchPattern(%q, %q) = %v, want %v", tc.pattern, tc.subj, got, tc.want)
		}
	}
}

// FuzzPerms_MatchPattern checks the permission matcher against the
// sublist's literal matcher for every valid pattern and literal subject.
func FuzzPerms_MatchPattern(f *testing.F) {
	f.Add("foo.*", "foo.bar")
	f.Add("foo.>", "foo.bar.baz")
	f.Add(">", "a")
	f.Add("a.b.c", "a.b")
	f.Fuzz(func(t *testing.T, pattern, subj string) {
		if !validSubject([]byte(pattern)) || !validLiteralSubject([]byte(subj)) {
			return
		}
		want := matchLiteral(subj, pattern)
		if got := matchPattern(strings.Split(pattern, "."), []byte(subj)); got != want {
			t.Fatalf("matchPattern(%q, %q) = %v, sublist says %v", pattern, subj, got, want)
		}
	})
}

func mustPerms(t *testing.T, p *Permissions) *userPerms {
	t.Helper()
	up, err := compilePermissions(p)
	if err != nil {
		t.Fatal(err)
	}
	return up
}

func TestPerms_Subscribe(t *testing.T) {
	up := mustPerms(t, &Permissions{Subscribe: &SubjectPermission{
		Allow: []string{"orders.>", "jobs.* workers", "jobs.* ops.*"},
		Deny:  []string{"orders.secret", "orders.audit auditors"},
	}})
	cases := []struct {
		subj, queue string
		want        bool
	}{
		{"orders.new", "", true},
		{"orders.secret", "", false},
		{"orders.>", "", true}, // deliveries of orders.secret are filtered
		{"orders.audit", "", true},
		{"orders.audit", "auditors", false},
		{"orders.audit", "others", true},
		{"jobs.a", "", false}, // only queue entries match jobs.*
		{"jobs.a", "workers", true},
		{"jobs.a", "ops.eu", true},
		{"jobs.a", "thieves", false},
		{"other", "", false},
	}
	for _, tc := range cases {
		var q []byte
		if tc.queue != "" {
			q = []byte(tc.queue)
		}
		if got := up.sub.canSubscribe([]byte(tc.subj), q); got != tc.want {
			t.Errorf("canSubscribe(%q, %q) = %v, want %v", tc.subj, tc.queue, got, tc.want)
		}
	}
	if !up.sub.denies([]byte("orders.secret"), "") || up.sub.denies([]byte("orders.new"), "") {
		t.Error("delivery filter wrong")
	}
}

func TestPerms_Compile(t *testing.T) {
	if up := mustPerms(t, &Permissions{}); up != nil {
		t.Errorf("empty permissions compiled to %+v, want none", up)
	}
	up := mustPerms(t, &Permissions{Response: &ResponsePermission{}})
	if !up.pub.restricted || up.pub.canPublish([]byte("anything")) {
		t.Error("allow_responses alone must deny other publishes")
	}
	if up.resp.MaxMsgs != DefaultResponseMaxMsgs || up.resp.Expires != DefaultResponseExpires {
		t.Errorf("response defaults %+v", up.resp)
	}
	empty := mustPerms(t, &Permissions{Publish: &SubjectPermission{Allow: []string{}}})
	if empty.pub.canPublish([]byte("x")) {
		t.Error("an empty allow list must allow nothing")
	}
	for _, bad := range []*Permissions{
		{Publish: &SubjectPermission{Allow: []string{"a b"}}},
		{Subscribe: &SubjectPermission{Deny: []string{"a..b"}}},
		{Subscribe: &SubjectPermission{Allow: []string{"a b c"}}},
		{Subscribe: &SubjectPermission{Allow: []string{""}}},
	} {
		if _, err := compilePermissions(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func testConn(t *testing.T) *conn {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	s := &Server{log: slog.New(slog.DiscardHandler), opts: DefaultOptions()}
	return newConn(s, a, 1)
}

func TestPerms_ReplyGrants(t *testing.T) {
	c := testConn(t)
	up := mustPerms(t, &Permissions{Response: &ResponsePermission{MaxMsgs: 2, Expires: time.Hour}})
	if c.checkPublish(up, []byte("_INBOX.a")) {
		t.Fatal("reply allowed before any request")
	}
	c.mu.Lock()
	c.grantReplyLocked(up, []byte("_INBOX.a"))
	c.mu.Unlock()
	for i := 0; i < 2; i++ {
		if !c.checkPublish(up, []byte("_INBOX.a")) {
			t.Fatalf("reply %d refused", i+1)
		}
	}
	if c.checkPublish(up, []byte("_INBOX.a")) {
		t.Fatal("third reply allowed with max 2")
	}
	// Expired grants are refused.
	short := mustPerms(t, &Permissions{Response: &ResponsePermission{Expires: time.Nanosecond}})
	c.mu.Lock()
	c.grantReplyLocked(short, []byte("_INBOX.b"))
	expires := c.sec.replies["_INBOX.b"].expires
	c.mu.Unlock()
	for !time.Now().After(expires) { // a nanosecond
	}
	if c.checkPublish(short, []byte("_INBOX.b")) {
		t.Fatal("expired grant honoured")
	}
	// The grant table stays bounded.
	c.mu.Lock()
	for i := 0; i < 3*maxReplyGrants; i++ {
		c.grantReplyLocked(up, []byte("_INBOX.x."+strconv.Itoa(i)))
	}
	n := len(c.sec.replies)
	c.mu.Unlock()
	if n > maxReplyGrants {
		t.Fatalf("%d grants kept, bound is %d", n, maxReplyGrants)
	}
}

func TestPerms_PublishCacheBoundedAndAllocFree(t *testing.T) {
	c := testConn(t)
	up := mustPerms(t, &Permissions{Publish: &SubjectPermission{Allow: []string{"a.>"}, Deny: []string{"a.b"}}})
	for i := 0; i < 3*maxPubPermCache; i++ {
		c.checkPublish(up, []byte("a.x"+strconv.Itoa(i)))
	}
	if n := len(c.sec.pubCache); n > maxPubPermCache {
		t.Fatalf("cache holds %d subjects, bound is %d", n, maxPubPermCache)
	}
	ok, denied := []byte("a.c"), []byte("a.b")
	c.sec.pubCache = nil
	if !c.checkPublish(up, ok) || c.checkPublish(up, denied) {
		t.Fatal("wrong answers")
	}
	if n := testing.AllocsPerRun(100, func() {
		c.checkPublish(up, ok)
		c.checkPublish(up, denied)
	}); n != 0 {
		t.Fatalf("cached permission checks allocate %v times", n)
	}
}

func TestAuth_Helpers(t *testing.T) {
	if !isBcrypt("$2a$04$abc") || isBcrypt("2a$") || isBcrypt("secret") {
		t.Error("bcrypt detection")
	}
	for host, want := range map[string]bool{"127.0.0.1": true, "::1": true, "localhost": true, "0.0.0.0": false, "": false, "10.0.0.1": false, "::": false} {
		if isLoopback(host) != want {
			t.Errorf("isLoopback(%q) != %v", host, want)
		}
	}
	n := newNonce()
	if len(n) != 15 || string(n) == string(newNonce()) {
		t.Errorf("nonce %q", n)
	}
}
