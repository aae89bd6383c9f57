// Package subject validates NATS subjects and queue group names. It is shared
// by the client (to reject bad input before it reaches the wire) and the server
// (which must give the same answers), so it has no dependencies.
//
// A subject is one or more tokens separated by '.'. Tokens are non-empty and
// hold no whitespace. In a subscription a token may be '*' (any one token) and
// the last token may be '>' (one or more tokens); in a publish subject both are
// ordinary characters only when they are part of a longer token.
package subject

// ValidPublish reports whether s may be published to: at least one token, no
// empty token, no whitespace, no wildcard token.
func ValidPublish(s string) bool {
	return valid(s, false)
}

// ValidSubscribe reports whether s may be subscribed to: like ValidPublish, but
// '*' may stand for any token and a final '>' for the rest of the subject.
func ValidSubscribe(s string) bool {
	return valid(s, true)
}

// ValidQueue reports whether q is a usable queue group name: non-empty, no
// whitespace.
func ValidQueue(q string) bool {
	if q == "" {
		return false
	}
	for i := 0; i < len(q); i++ {
		if isSpace(q[i]) {
			return false
		}
	}
	return true
}

// HasWildcard reports whether s contains a '*' or '>' token.
func HasWildcard(s string) bool {
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if i-start == 1 && (s[start] == '*' || s[start] == '>') {
				return true
			}
			start = i + 1
		}
	}
	return false
}

func valid(s string, wildcards bool) bool {
	if s == "" {
		return false
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) {
			c := s[i]
			if isSpace(c) {
				return false
			}
			if c != '.' {
				continue
			}
		}
		// s[start:i] is one token.
		n := i - start
		if n == 0 {
			return false
		}
		if n == 1 && (s[start] == '*' || s[start] == '>') {
			if !wildcards {
				return false
			}
			if s[start] == '>' && i != len(s) {
				return false // '>' must be the last token
			}
		}
		start = i + 1
	}
	return true
}

// isSpace is the whitespace the protocol uses as an argument separator or line
// end; any of it inside a subject would split the line on the wire.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v' || c == 0
}
