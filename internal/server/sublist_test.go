package server

import (
	"fmt"
	"slices"
	"sort"
	"testing"
)

func newSub(subject, queue string) *subscription {
	return &subscription{subject: subject, queue: queue}
}

func subjects(r *matchResult) []string {
	var out []string
	for _, s := range r.psubs {
		out = append(out, s.subject)
	}
	for _, g := range r.qsubs {
		for _, s := range g {
			out = append(out, s.queue+":"+s.subject)
		}
	}
	sort.Strings(out)
	return out
}

func TestSublist_MatchWildcards(t *testing.T) {
	sl := NewSublist()
	for _, s := range []string{"foo", "foo.bar", "foo.*", "foo.>", "*.bar", ">", "foo.*.baz", "*.*"} {
		sl.Insert(newSub(s, ""))
	}
	sl.Insert(newSub("foo.bar", "q"))
	sl.Insert(newSub("foo.*", "q"))
	cases := map[string][]string{
		"foo":         {">", "foo"},
		"foo.bar":     {"*.*", "*.bar", ">", "foo.*", "foo.>", "foo.bar", "q:foo.*", "q:foo.bar"},
		"foo.x.baz":   {">", "foo.*.baz", "foo.>"},
		"bar":         {">"},
		"a.bar":       {"*.*", "*.bar", ">"},
		"foo.bar.baz": {">", "foo.*.baz", "foo.>"},
	}
	for subj, want := range cases {
		if got := subjects(sl.Match(subj)); !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", subj, got, want)
		}
	}
}

func TestSublist_RemoveAndCache(t *testing.T) {
	sl := NewSublist()
	a, b := newSub("foo.*", ""), newSub("foo.bar", "")
	sl.Insert(a)
	if got := len(sl.Match("foo.bar").psubs); got != 1 {
		t.Fatalf("got %d", got)
	}
	// The cached result must be patched by a later insert and remove.
	sl.Insert(b)
	if got := len(sl.Match("foo.bar").psubs); got != 2 {
		t.Fatalf("after insert: %d", got)
	}
	if !sl.Remove(a) || sl.Remove(a) {
		t.Fatal("remove reported wrongly")
	}
	if got := subjects(sl.Match("foo.bar")); !slices.Equal(got, []string{"foo.bar"}) {
		t.Fatalf("after remove: %v", got)
	}
	sl.Remove(b)
	if sl.Count() != 0 || !sl.root.empty() {
		t.Fatalf("trie not pruned: count %d", sl.Count())
	}
	if r := sl.Match("foo.bar"); len(r.psubs) != 0 {
		t.Fatal("stale cache after removing everything")
	}
}

func TestSublist_CacheBounded(t *testing.T) {
	sl := NewSublist()
	sl.Insert(newSub(">", ""))
	for i := 0; i < 5*maxCache; i++ {
		sl.Match(fmt.Sprintf("s.%d", i))
	}
	if n, _, _ := sl.CacheStats(); n > maxCache {
		t.Fatalf("cache holds %d entries", n)
	}
}

func TestMatchLiteral(t *testing.T) {
	cases := []struct {
		subj, pat string
		want      bool
	}{
		{"foo", "foo", true}, {"foo", "bar", false}, {"foo.bar", "foo.*", true}, {"foo", "foo.*", false},
		{"foo.bar.baz", "foo.>", true}, {"foo", "foo.>", false}, {"foo", ">", true}, {"a.b", "*.*", true},
		{"a.b.c", "*.*", false}, {"a", "*.*", false}, {"foo.bar", "foo", false},
	}
	for _, c := range cases {
		if got := matchLiteral(c.subj, c.pat); got != c.want {
			t.Errorf("matchLiteral(%q, %q) = %v", c.subj, c.pat, got)
		}
	}
}

func benchSublist() *Sublist {
	sl := NewSublist()
	for i := 0; i < 1000; i++ {
		sl.Insert(newSub(fmt.Sprintf("orders.%d.created", i), ""))
		sl.Insert(newSub(fmt.Sprintf("orders.%d.*", i), "workers"))
	}
	sl.Insert(newSub("orders.>", ""))
	return sl
}

// BenchmarkSublistMatch is the shared cache path: no allocation.
func BenchmarkSublistMatch(b *testing.B) {
	sl := benchSublist()
	subj := "orders.500.created"
	sl.Match(subj)
	b.ReportAllocs()
	for b.Loop() {
		if r := sl.Match(subj); len(r.psubs) != 2 {
			b.Fatal("wrong match")
		}
	}
}

// BenchmarkConnMatch is the publish path: the connection's own cache, looked
// up with the subject bytes from the read buffer.
func BenchmarkConnMatch(b *testing.B) {
	acc := &Account{Name: GlobalAccountName, sl: benchSublist()}
	c := &conn{srv: &Server{}, acc: acc}
	subj := []byte("orders.500.created")
	c.match(subj)
	b.ReportAllocs()
	for b.Loop() {
		if r := c.match(subj); len(r.psubs) != 2 {
			b.Fatal("wrong match")
		}
	}
}

func BenchmarkSublistMatchMiss(b *testing.B) {
	sl := benchSublist()
	subjs := make([]string, 4096)
	for i := range subjs {
		subjs[i] = fmt.Sprintf("orders.%d.created", i%1000)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		sl.invalidateLocked("x") // keep the cache useless: measure the trie
		clear(sl.cache)
		sl.Match(subjs[i%len(subjs)])
		i++
	}
}

func TestMatchPaths_NoAllocs(t *testing.T) {
	acc := &Account{Name: GlobalAccountName, sl: benchSublist()}
	c := &conn{srv: &Server{}, acc: acc}
	subj := []byte("orders.7.created")
	c.match(subj)
	if n := testing.AllocsPerRun(100, func() { c.match(subj) }); n != 0 {
		t.Fatalf("connection match allocates %.1f", n)
	}
	str := "orders.7.created"
	if n := testing.AllocsPerRun(100, func() { acc.sl.Match(str) }); n != 0 {
		t.Fatalf("sublist match allocates %.1f", n)
	}
}
