package bench

import "math/bits"

// tracker counts, for one receiver, which sequences of each publisher it has
// seen: a bitset per publisher grows as sequences arrive, so a duplicate is a
// bit already set and a loss is a bit never set. Not safe for concurrent use:
// each receiver owns one, and they are merged after the run.
type tracker struct {
	pubs       []pubTrack
	dups       int64
	outOfOrder int64
	untracked  int64
}

type pubTrack struct {
	seen []uint64 // bit n: sequence n received
	next uint64   // one past the highest sequence received
}

// trackWindow is how far past the highest sequence seen a new one may be:
// anything further is not one of ours (a random payload that looked
// stamped) and is not tracked, so memory stays bounded.
const trackWindow = 1 << 20

// observe records one message and reports whether it was new.
func (t *tracker) observe(pub int, seq uint64) bool {
	for pub >= len(t.pubs) {
		t.pubs = append(t.pubs, pubTrack{})
	}
	p := &t.pubs[pub]
	if seq >= p.next+trackWindow {
		t.untracked++
		return true
	}
	w, bit := seq>>6, uint64(1)<<(seq&63)
	if int(w) >= len(p.seen) {
		n := max(int(w)+1, 2*len(p.seen), 16)
		s := make([]uint64, n)
		copy(s, p.seen)
		p.seen = s
	}
	if p.seen[w]&bit != 0 {
		t.dups++
		return false
	}
	p.seen[w] |= bit
	if seq < p.next {
		t.outOfOrder++
	} else {
		p.next = seq + 1
	}
	return true
}

// unique returns how many distinct messages were seen.
func (t *tracker) unique() int64 {
	var n int64
	for _, p := range t.pubs {
		for _, w := range p.seen {
			n += int64(bits.OnesCount64(w))
		}
	}
	return n
}

// merge folds o into t, as for members of one queue group: a message both
// received is a duplicate.
func (t *tracker) merge(o *tracker) {
	t.dups += o.dups
	t.outOfOrder += o.outOfOrder
	t.untracked += o.untracked
	for i, op := range o.pubs {
		for i >= len(t.pubs) {
			t.pubs = append(t.pubs, pubTrack{})
		}
		p := &t.pubs[i]
		if len(op.seen) > len(p.seen) {
			s := make([]uint64, len(op.seen))
			copy(s, p.seen)
			p.seen = s
		}
		for j, w := range op.seen {
			t.dups += int64(bits.OnesCount64(p.seen[j] & w))
			p.seen[j] |= w
		}
		p.next = max(p.next, op.next)
	}
}

// Delivery is the accounting of what receivers got against what was sent.
type Delivery struct {
	Expected   int64 `json:"expected"`
	Received   int64 `json:"received"` // distinct messages
	Lost       int64 `json:"lost"`
	Duplicates int64 `json:"duplicates"`
	OutOfOrder int64 `json:"out_of_order"`
	// Tracked is false when payloads were too small to carry a stamp: then
	// only counts are known, and losses are expected minus received.
	Tracked bool `json:"tracked"`
}

// Add sums two deliveries (for receivers that each expect everything).
func (d Delivery) Add(o Delivery) Delivery {
	return Delivery{
		Expected:   d.Expected + o.Expected,
		Received:   d.Received + o.Received,
		Lost:       d.Lost + o.Lost,
		Duplicates: d.Duplicates + o.Duplicates,
		OutOfOrder: d.OutOfOrder + o.OutOfOrder,
		Tracked:    d.Tracked || o.Tracked,
	}
}

// delivery reports t against expected messages.
func (t *tracker) delivery(expected int64) Delivery {
	u := t.unique() + t.untracked
	return Delivery{Expected: expected, Received: u, Lost: max(0, expected-u),
		Duplicates: t.dups, OutOfOrder: t.outOfOrder, Tracked: true}
}

// gaps counts sequences below the highest seen that never arrived: the
// losses a receiver can prove without knowing how many were sent.
func (t *tracker) gaps() int64 {
	var n int64
	for _, p := range t.pubs {
		var seen int64
		for _, w := range p.seen {
			seen += int64(bits.OnesCount64(w))
		}
		n += int64(p.next) - seen
	}
	return n
}
