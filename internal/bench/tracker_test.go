package bench

import "testing"

func TestTracker_LossDuplicatesOrder(t *testing.T) {
	var tr tracker
	// publisher 0: 0 1 2 4 3 3 (5 lost, 3 duplicated, 3 late)
	for _, s := range []uint64{0, 1, 2, 4, 3, 3} {
		tr.observe(0, s)
	}
	// publisher 2: 0..99 in order
	for s := range uint64(100) {
		tr.observe(2, s)
	}
	d := tr.delivery(106)
	want := Delivery{Expected: 106, Received: 105, Lost: 1, Duplicates: 1, OutOfOrder: 1, Tracked: true}
	if d != want {
		t.Errorf("delivery = %+v, want %+v", d, want)
	}
	if g := tr.gaps(); g != 0 {
		t.Errorf("gaps = %d, want 0 (no hole below the highest)", g)
	}
	tr.observe(0, 10)
	if g := tr.gaps(); g != 5 {
		t.Errorf("gaps = %d, want 5 (6..9 missing... and 5)", g)
	}
}

func TestTracker_MergeCountsOverlapAsDuplicates(t *testing.T) {
	var a, b tracker
	for s := range uint64(10) {
		if s%2 == 0 {
			a.observe(0, s)
		} else {
			b.observe(0, s)
		}
	}
	b.observe(0, 4) // also delivered to a: a duplicate across members
	b.observe(1, 0)
	a.merge(&b)
	d := a.delivery(12)
	want := Delivery{Expected: 12, Received: 11, Lost: 1, Duplicates: 1, OutOfOrder: 1, Tracked: true}
	if d != want {
		t.Errorf("merged delivery = %+v, want %+v", d, want)
	}
}

func TestTracker_FarSequenceIsNotTracked(t *testing.T) {
	var tr tracker
	tr.observe(0, 1<<40) // a random payload that looked stamped
	if len(tr.pubs[0].seen) != 0 {
		t.Fatalf("tracker grew to %d words for a wild sequence", len(tr.pubs[0].seen))
	}
	if d := tr.delivery(1); d.Received != 1 || d.Lost != 0 {
		t.Errorf("delivery = %+v, want it counted as received", d)
	}
}

func TestDelivery_Add(t *testing.T) {
	a := Delivery{Expected: 10, Received: 9, Lost: 1, Tracked: true}
	b := Delivery{Expected: 10, Received: 10, Duplicates: 2, OutOfOrder: 3}
	if got := a.Add(b); got != (Delivery{20, 19, 1, 2, 3, true}) {
		t.Errorf("Add = %+v", got)
	}
}
