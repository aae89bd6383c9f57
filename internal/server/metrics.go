package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// /metrics serves the /varz, /connz and /subsz figures in the Prometheus
// text format. Names follow prometheus-nats-exporter (gnatsd_<endpoint>_
// <json field>, label server_id), so dashboards built on that exporter for
// nats-server read ours unchanged; the top subjects are natsctl_ metrics.
// Values are read at scrape time from the same snapshots as the JSON.

// metricsTopSubjects bounds the subject label's cardinality.
const metricsTopSubjects = 20

type metricDesc struct {
	desc *prometheus.Desc
	typ  prometheus.ValueType
}

func newDesc(name, help string, typ prometheus.ValueType, labels ...string) metricDesc {
	return metricDesc{prometheus.NewDesc(name, help, append([]string{"server_id"}, labels...), nil), typ}
}

// serverCollector is a prometheus.Collector over one Server.
type serverCollector struct {
	s *Server

	connections, totalConns, subscriptions                    metricDesc
	inMsgs, outMsgs, inBytes, outBytes                        metricDesc
	slowConsumers, staleConns, mem, cpu, cores, startTime     metricDesc
	maxConns, maxPayload, maxPending, maxControl, maxSubs     metricDesc
	pingInterval, pingMax, writeDeadline, routes, remotes     metricDesc
	connzNum, connzTotal, connzPending                        metricDesc
	subsNum, subsCache, subsInserts, subsRemoves, subsMatches metricDesc
	subsHitRate, subsMaxFanout, subsAvgFanout                 metricDesc
	subjMsgs, subjBytes                                       metricDesc
}

func newServerCollector(s *Server) *serverCollector {
	g, c := prometheus.GaugeValue, prometheus.CounterValue
	return &serverCollector{
		s:             s,
		connections:   newDesc("gnatsd_varz_connections", "Open client connections.", g),
		totalConns:    newDesc("gnatsd_varz_total_connections", "Client connections accepted since start.", c),
		subscriptions: newDesc("gnatsd_varz_subscriptions", "Subscriptions.", g),
		inMsgs:        newDesc("gnatsd_varz_in_msgs", "Messages received from clients.", c),
		outMsgs:       newDesc("gnatsd_varz_out_msgs", "Messages sent to clients.", c),
		inBytes:       newDesc("gnatsd_varz_in_bytes", "Payload bytes received from clients.", c),
		outBytes:      newDesc("gnatsd_varz_out_bytes", "Payload bytes sent to clients.", c),
		slowConsumers: newDesc("gnatsd_varz_slow_consumers", "Connections closed as slow consumers.", c),
		staleConns:    newDesc("gnatsd_varz_stale_connections", "Connections closed as stale (unanswered PINGs).", c),
		mem:           newDesc("gnatsd_varz_mem", "Resident memory, bytes.", g),
		cpu:           newDesc("gnatsd_varz_cpu", "CPU use, percent of one core.", g),
		cores:         newDesc("gnatsd_varz_cores", "CPU cores.", g),
		startTime:     newDesc("gnatsd_varz_start_time_seconds", "Start time, Unix seconds.", g),
		maxConns:      newDesc("gnatsd_varz_max_connections", "Configured max_connections.", g),
		maxPayload:    newDesc("gnatsd_varz_max_payload", "Configured max_payload, bytes.", g),
		maxPending:    newDesc("gnatsd_varz_max_pending", "Configured max_pending, bytes.", g),
		maxControl:    newDesc("gnatsd_varz_max_control_line", "Configured max_control_line, bytes.", g),
		maxSubs:       newDesc("gnatsd_varz_max_subscriptions", "Configured max_subscriptions per connection (0: unlimited).", g),
		pingInterval:  newDesc("gnatsd_varz_ping_interval", "Configured ping_interval, nanoseconds.", g),
		pingMax:       newDesc("gnatsd_varz_ping_max", "Configured ping_max.", g),
		writeDeadline: newDesc("gnatsd_varz_write_deadline", "Configured write_deadline, nanoseconds.", g),
		routes:        newDesc("gnatsd_varz_routes", "Cluster routes.", g),
		remotes:       newDesc("gnatsd_varz_remotes", "Remote servers.", g),
		connzNum:      newDesc("gnatsd_connz_num_connections", "Open client connections.", g),
		connzTotal:    newDesc("gnatsd_connz_total", "Open client connections.", g),
		connzPending:  newDesc("gnatsd_connz_pending_bytes", "Bytes queued for all clients.", g),
		subsNum:       newDesc("gnatsd_subsz_num_subscriptions", "Subscriptions in the subject index.", g),
		subsCache:     newDesc("gnatsd_subsz_num_cache", "Entries in the match cache.", g),
		subsInserts:   newDesc("gnatsd_subsz_num_inserts", "Subscriptions inserted.", c),
		subsRemoves:   newDesc("gnatsd_subsz_num_removes", "Subscriptions removed.", c),
		subsMatches:   newDesc("gnatsd_subsz_num_matches", "Shared match lookups.", c),
		subsHitRate:   newDesc("gnatsd_subsz_cache_hit_rate", "Match cache hit rate, 0..1.", g),
		subsMaxFanout: newDesc("gnatsd_subsz_max_fanout", "Largest fan-out among cached matches.", g),
		subsAvgFanout: newDesc("gnatsd_subsz_avg_fanout", "Mean fan-out among cached matches.", g),
		subjMsgs:      newDesc("natsctl_subject_msgs", "Messages published on one of the busiest subjects (sampled estimate).", c, "subject"),
		subjBytes:     newDesc("natsctl_subject_bytes", "Payload bytes published on one of the busiest subjects (sampled estimate).", c, "subject"),
	}
}

func (sc *serverCollector) all() []metricDesc {
	return []metricDesc{
		sc.connections, sc.totalConns, sc.subscriptions, sc.inMsgs, sc.outMsgs, sc.inBytes, sc.outBytes,
		sc.slowConsumers, sc.staleConns, sc.mem, sc.cpu, sc.cores, sc.startTime, sc.maxConns, sc.maxPayload,
		sc.maxPending, sc.maxControl, sc.maxSubs, sc.pingInterval, sc.pingMax, sc.writeDeadline, sc.routes,
		sc.remotes, sc.connzNum, sc.connzTotal, sc.connzPending, sc.subsNum, sc.subsCache, sc.subsInserts,
		sc.subsRemoves, sc.subsMatches, sc.subsHitRate, sc.subsMaxFanout, sc.subsAvgFanout, sc.subjMsgs, sc.subjBytes,
	}
}

// Describe implements prometheus.Collector.
func (sc *serverCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range sc.all() {
		ch <- d.desc
	}
}

// Collect implements prometheus.Collector: one snapshot per scrape.
func (sc *serverCollector) Collect(ch chan<- prometheus.Metric) {
	s := sc.s
	id := s.id
	emit := func(d metricDesc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d.desc, d.typ, v, append([]string{id}, labels...)...)
	}
	v := s.Varz()
	emit(sc.connections, float64(v.Connections))
	emit(sc.totalConns, float64(v.TotalConnections))
	emit(sc.subscriptions, float64(v.Subscriptions))
	emit(sc.inMsgs, float64(v.InMsgs))
	emit(sc.outMsgs, float64(v.OutMsgs))
	emit(sc.inBytes, float64(v.InBytes))
	emit(sc.outBytes, float64(v.OutBytes))
	emit(sc.slowConsumers, float64(v.SlowConsumers))
	emit(sc.staleConns, float64(v.StaleConnections))
	emit(sc.mem, float64(v.Mem))
	emit(sc.cpu, v.CPU)
	emit(sc.cores, float64(v.Cores))
	emit(sc.startTime, float64(v.Start.UnixNano())/1e9)
	emit(sc.maxConns, float64(v.MaxConn))
	emit(sc.maxPayload, float64(v.MaxPayload))
	emit(sc.maxPending, float64(v.MaxPending))
	emit(sc.maxControl, float64(v.MaxControlLine))
	emit(sc.maxSubs, float64(v.MaxSubs))
	emit(sc.pingInterval, float64(v.PingInterval))
	emit(sc.pingMax, float64(v.MaxPingsOut))
	emit(sc.writeDeadline, float64(v.WriteDeadline))
	emit(sc.routes, 0)
	emit(sc.remotes, 0)

	conns := s.snapshotConns()
	var pending int64
	for _, c := range conns {
		c.mu.Lock()
		pending += c.pending
		c.mu.Unlock()
	}
	emit(sc.connzNum, float64(len(conns)))
	emit(sc.connzTotal, float64(len(conns)))
	emit(sc.connzPending, float64(pending))

	st := s.subStats()
	emit(sc.subsNum, float64(st.NumSubs))
	emit(sc.subsCache, float64(st.NumCache))
	emit(sc.subsInserts, float64(st.NumInserts))
	emit(sc.subsRemoves, float64(st.NumRemoves))
	emit(sc.subsMatches, float64(st.NumMatches))
	emit(sc.subsHitRate, st.CacheHitRate)
	emit(sc.subsMaxFanout, float64(st.MaxFanout))
	emit(sc.subsAvgFanout, st.AvgFanout)

	if sz, err := s.Subjz(SubjzOptions{Limit: metricsTopSubjects}); err == nil {
		for _, e := range sz.Subjects {
			emit(sc.subjMsgs, float64(e.Msgs), e.Subject)
			emit(sc.subjBytes, float64(e.Bytes), e.Subject)
		}
	}
}

// metricsHandler serves this server's metrics plus the Go runtime's and the
// process's, from a registry of its own (several servers may share a
// process, in tests).
func (s *Server) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		newServerCollector(s),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slogPromLogger{s}})
}

// slogPromLogger passes promhttp's errors to the server log.
type slogPromLogger struct{ s *Server }

func (l slogPromLogger) Println(v ...any) { l.s.log.Warn("metrics", "err", v) }
