package store

import "strings"

// matchAll reports whether filter matches every subject.
func matchAll(filter string) bool { return filter == "" || filter == ">" }

// isLiteral reports whether filter has no wildcard token.
func isLiteral(filter string) bool {
	for i := 0; i < len(filter); i++ {
		if c := filter[i]; (c == '*' || c == '>') &&
			(i == 0 || filter[i-1] == '.') && (i+1 == len(filter) || filter[i+1] == '.') {
			return false
		}
	}
	return true
}

// subjectMatches reports whether subject matches filter, where a "*" token
// matches one token and a final ">" one or more. It walks both strings
// token by token without allocating.
func subjectMatches(filter, subject string) bool {
	if matchAll(filter) {
		return subject != ""
	}
	for {
		ft, frest, fmore := strings.Cut(filter, ".")
		if subject == "" {
			return false
		}
		st, srest, smore := strings.Cut(subject, ".")
		switch ft {
		case ">":
			if !fmore {
				return true
			}
			if ft != st {
				return false
			}
		case "*":
		default:
			if ft != st {
				return false
			}
		}
		if !fmore || !smore {
			return fmore == smore
		}
		filter, subject = frest, srest
	}
}

// maxSubjectLen is what a record's 16-bit subject length holds.
const maxSubjectLen = 0xffff

// validSubject reports whether s is a literal subject a message may carry:
// non-empty tokens, no wildcards, no whitespace.
func validSubject(s string) bool {
	if s == "" || len(s) > maxSubjectLen {
		return false
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			tok := s[start:i]
			if tok == "" || tok == "*" || tok == ">" {
				return false
			}
			start = i + 1
			continue
		}
		switch s[i] {
		case ' ', '\t', '\r', '\n':
			return false
		}
	}
	return true
}
