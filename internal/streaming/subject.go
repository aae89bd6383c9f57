package streaming

import "strings"

// validSubject reports whether s is a valid subject, wildcards allowed:
// non-empty tokens without whitespace, '*' and '>' only as whole tokens,
// '>' only last.
func validSubject(s string) bool {
	if s == "" {
		return false
	}
	toks := strings.Split(s, ".")
	for i, t := range toks {
		if t == "" || strings.ContainsAny(t, " \t\r\n") {
			return false
		}
		if len(t) > 1 && strings.ContainsAny(t, "*>") {
			return false
		}
		if t == ">" && i != len(toks)-1 {
			return false
		}
	}
	return true
}

func hasWildToken(s string) bool {
	for _, t := range strings.Split(s, ".") {
		if t == "*" || t == ">" {
			return true
		}
	}
	return false
}

// subjectsOverlap reports whether some literal subject matches both a and
// b (both valid, possibly with wildcards).
func subjectsOverlap(a, b string) bool {
	ta, tb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; ; i++ {
		switch {
		case i == len(ta) && i == len(tb):
			return true
		case i < len(ta) && ta[i] == ">":
			return i < len(tb) // > needs at least one more token
		case i < len(tb) && tb[i] == ">":
			return i < len(ta)
		case i == len(ta) || i == len(tb):
			return false
		case ta[i] == "*" || tb[i] == "*" || ta[i] == tb[i]:
			continue
		default:
			return false
		}
	}
}

// subjectMatches reports whether the literal subject matches filter.
func subjectMatches(subject, filter string) bool {
	if filter == "" || filter == ">" {
		return true
	}
	ts, tf := strings.Split(subject, "."), strings.Split(filter, ".")
	for i, f := range tf {
		if f == ">" {
			return len(ts) > i
		}
		if i >= len(ts) || (f != "*" && f != ts[i]) {
			return false
		}
	}
	return len(ts) == len(tf)
}
