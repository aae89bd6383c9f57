package server

import "github.com/natsctl/natsctl/internal/monitorapi"

// stats describes the index for /subsz. Fan-out figures come from the
// cached match results, as nats-server computes them.
func (sl *Sublist) stats() *monitorapi.SublistStats {
	sl.mu.RLock()
	st := &monitorapi.SublistStats{
		NumSubs:    uint32(sl.count),
		NumCache:   uint32(len(sl.cache)),
		NumInserts: sl.inserts,
		NumRemoves: sl.removes,
	}
	var total int
	for _, r := range sl.cache {
		n := len(r.psubs) + len(r.qsubs)
		total += n
		st.MaxFanout = max(st.MaxFanout, uint32(n))
	}
	if len(sl.cache) > 0 {
		st.AvgFanout = float64(total) / float64(len(sl.cache))
	}
	sl.mu.RUnlock()
	hits, misses := sl.hits.Load(), sl.misses.Load()
	st.NumMatches = hits + misses
	if st.NumMatches > 0 {
		st.CacheHitRate = float64(hits) / float64(st.NumMatches)
	}
	return st
}
