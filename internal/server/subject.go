package server

// Subject rules (NATS protocol docs, "Subject-based messaging"): tokens are
// separated by '.', must not be empty, and contain no whitespace. '*' matches
// one token and '>' the rest; both only as a whole token, '>' only last.

// validSubject reports whether subj is a valid subscription subject
// (wildcards allowed).
func validSubject(subj []byte) bool {
	return checkSubject(subj, true)
}

// validLiteralSubject reports whether subj is a valid publish subject
// (no wildcards).
func validLiteralSubject(subj []byte) bool {
	return checkSubject(subj, false)
}

func checkSubject(subj []byte, wildcards bool) bool {
	if len(subj) == 0 {
		return false
	}
	start := 0
	for i := 0; i <= len(subj); i++ {
		if i < len(subj) {
			switch subj[i] {
			case ' ', '\t', '\r', '\n', '\f':
				return false
			case '.':
			default:
				continue
			}
		}
		tok := subj[start:i]
		if len(tok) == 0 {
			return false
		}
		if len(tok) == 1 && (tok[0] == '*' || tok[0] == '>') {
			if !wildcards || (tok[0] == '>' && i != len(subj)) {
				return false
			}
		}
		start = i + 1
	}
	return true
}

// validQueue reports whether a queue group name is acceptable: non-empty and
// without whitespace.
func validQueue(q []byte) bool {
	if len(q) == 0 {
		return false
	}
	for _, b := range q {
		switch b {
		case ' ', '\t', '\r', '\n', '\f':
			return false
		}
	}
	return true
}
