package subject

import (
	"strings"
	"testing"
)

func TestValid(t *testing.T) {
	tests := []struct {
		s        string
		pub, sub bool
	}{
		{"foo", true, true},
		{"foo.bar", true, true},
		{"foo.*", false, true},
		{"foo.>", false, true},
		{">", false, true},
		{"*", false, true},
		{"*.>", false, true},
		{"foo.>.bar", false, false},
		{"foo*.bar", true, true},
		{"foo.>bar", true, true},
		{"", false, false},
		{".", false, false},
		{"foo.", false, false},
		{".foo", false, false},
		{"foo..bar", false, false},
		{"foo bar", false, false},
		{"foo\tbar", false, false},
		{"foo\r\n", false, false},
		{"_INBOX.abc.*", false, true},
	}
	for _, tt := range tests {
		if got := ValidPublish(tt.s); got != tt.pub {
			t.Errorf("ValidPublish(%q) = %v, want %v", tt.s, got, tt.pub)
		}
		if got := ValidSubscribe(tt.s); got != tt.sub {
			t.Errorf("ValidSubscribe(%q) = %v, want %v", tt.s, got, tt.sub)
		}
	}
}

func TestHasWildcard(t *testing.T) {
	for s, want := range map[string]bool{"a.b": false, "a.*": true, "a.>": true, "a*.b": false, "*": true, "": false} {
		if got := HasWildcard(s); got != want {
			t.Errorf("HasWildcard(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestValidQueue(t *testing.T) {
	for q, want := range map[string]bool{"workers": true, "": false, "a b": false, "a.b": true} {
		if got := ValidQueue(q); got != want {
			t.Errorf("ValidQueue(%q) = %v, want %v", q, got, want)
		}
	}
}

// FuzzValid checks the invariants between the two checks against a slow,
// obviously correct reference built on strings.Split.
func FuzzValid(f *testing.F) {
	for _, s := range []string{"foo", "foo.*", "foo.>", "a..b", ">", "a b", "*.>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pub, sub := ValidPublish(s), ValidSubscribe(s)
		if pub && !sub {
			t.Fatalf("%q publishable but not subscribable", s)
		}
		want := s != "" && !strings.ContainsAny(s, " \t\r\n\f\v\x00")
		wantPub := want
		if want {
			toks := strings.Split(s, ".")
			for i, tok := range toks {
				switch {
				case tok == "":
					want, wantPub = false, false
				case tok == "*":
					wantPub = false
				case tok == ">":
					wantPub = false
					if i != len(toks)-1 {
						want = false
					}
				}
			}
		}
		if sub != want || pub != (want && wantPub) {
			t.Fatalf("%q: pub=%v sub=%v, reference pub=%v sub=%v", s, pub, sub, want && wantPub, want)
		}
		if HasWildcard(s) && pub {
			t.Fatalf("%q has a wildcard but is publishable", s)
		}
	})
}
