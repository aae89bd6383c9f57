package server

import (
	"strings"
	"testing"
)

func TestSubsetOf(t *testing.T) {
	for _, tc := range []struct {
		sub, of string
		want    bool
	}{
		{"a.b", "a.b", true},
		{"a.b", "a.*", true},
		{"a.*", "a.*", true},
		{"a.*", "a.>", true},
		{"a.b.c", "a.>", true},
		{"a.>", "a.>", true},
		{"a", "a.>", false},
		{"a.>", "a.*", false},
		{"a.*", "a.b", false},
		{"a.b", "a.b.c", false},
		{"a.b.c", "a.b", false},
		{"b.c", "a.>", false},
		{"a.b", ">", true},
	} {
		if got := subsetOf(tc.sub, tc.of); got != tc.want {
			t.Errorf("subsetOf(%q, %q) = %v", tc.sub, tc.of, got)
		}
	}
}

func TestTransform(t *testing.T) {
	for _, tc := range []struct{ from, to, subj, want string }{
		{"events.>", "fromA.events.>", "events.x.y", "fromA.events.x.y"},
		{"events.*", "a.$1.seen", "events.x", "a.x.seen"},
		{"a.*.*", "b.{{wildcard(2)}}.{{wildcard(1)}}", "a.1.2", "b.2.1"},
		{"a.*.>", "b.*.>", "a.1.2.3", "b.1.2.3"},
		{"x", "y", "x", "y"},
		{"same.>", "same.>", "same.q", "same.q"},
	} {
		tr, err := newTransform(tc.from, tc.to)
		if err != nil {
			t.Fatalf("%s -> %s: %v", tc.from, tc.to, err)
		}
		if got := string(tr.apply([]byte(tc.subj))); got != tc.want {
			t.Errorf("%s -> %s on %s = %q, want %q", tc.from, tc.to, tc.subj, got, tc.want)
		}
	}
	for _, bad := range [][2]string{{"a.*", "b.*.*"}, {"a.*", "b.$2"}, {"a", "b.>"}} {
		if _, err := newTransform(bad[0], bad[1]); err == nil {
			t.Errorf("%s -> %s accepted", bad[0], bad[1])
		}
	}
}

// FuzzTransform feeds subjects matching a pattern through transforms: the
// result is always a valid literal subject when the destination is one
// after substitution, and apply never panics.
func FuzzTransform(f *testing.F) {
	f.Add("events.>", "p.events.>", "events.a.b")
	f.Add("a.*.*", "b.$2.$1", "a.x.y")
	f.Add("a.*", "{{wildcard(1)}}", "a.q")
	f.Fuzz(func(t *testing.T, from, to, subj string) {
		if !validSubject([]byte(from)) || !validSubject([]byte(to)) || !validLiteralSubject([]byte(subj)) || !matchLiteral(subj, from) {
			return
		}
		tr, err := newTransform(from, to)
		if err != nil {
			return
		}
		out := string(tr.apply([]byte(subj)))
		if strings.Contains(to, "*") || strings.Contains(to, ">") || strings.Contains(to, "$") || strings.Contains(to, "{{") {
			return // wildcards substituted: shape depends on the captures
		}
		if out != to {
			t.Fatalf("literal destination %q became %q", to, out)
		}
	})
}

func FuzzSubsetOf(f *testing.F) {
	f.Add("a.b", "a.>", "a.b")
	f.Add("a.*", "a.*", "a.q")
	f.Fuzz(func(t *testing.T, sub, of, subj string) {
		if !validSubject([]byte(sub)) || !validSubject([]byte(of)) || !validLiteralSubject([]byte(subj)) {
			return
		}
		// Whatever sub matches, a superset must match too.
		if subsetOf(sub, of) && matchLiteral(subj, sub) && !matchLiteral(subj, of) {
			t.Fatalf("%q ⊆ %q but %q matches only the first", sub, of, subj)
		}
	})
}
