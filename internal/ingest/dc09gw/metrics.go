package dc09gw

import "github.com/prometheus/client_golang/prometheus"

// ExportStats publishes the receiver's counters on a Prometheus registry
// (the server's /metrics).
func (r *Receiver) ExportStats(reg prometheus.Registerer) {
	counter := func(name, help string, f func(Stats) uint64) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "qorgan_dc09_" + name, Help: help},
			func() float64 { return float64(f(r.Stats())) }))
	}
	counter("frames_total", "DC-09 frames read, good or not.", func(s Stats) uint64 { return s.Frames })
	counter("acked_total", "DC-09 frames committed and ACKed.", func(s Stats) uint64 { return s.Accepted })
	counter("naks_total", "DC-09 frames refused with NAK.", func(s Stats) uint64 { return s.NAKs })
	counter("duhs_total", "DC-09 frames answered DUH.", func(s Stats) uint64 { return s.DUHs })
	counter("unknown_accounts_total", "DC-09 frames from unregistered accounts.", func(s Stats) uint64 { return s.UnknownAccounts })
	counter("unanswered_total", "DC-09 frames left unanswered because their commit failed.", func(s Stats) uint64 { return s.Unanswered })
	counter("commits_total", "Group commits of DC-09 frames.", func(s Stats) uint64 { return s.Commits })
	counter("commit_errors_total", "Failed group commits.", func(s Stats) uint64 { return s.CommitErrors })
	counter("split_commits_total", "Failed group commits whose frames were committed again in parts, to leave out only those that fail alone.", func(s Stats) uint64 { return s.SplitCommits })
	counter("connections_refused_total", "DC-09 TCP connections refused at a connection limit (every open one had proved itself).", func(s Stats) uint64 { return s.ConnectionsRefused })
	counter("connections_evicted_total", "DC-09 TCP connections that had sent no frame from a registered account, closed to make room at a limit.", func(s Stats) uint64 { return s.ConnectionsEvicted })
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "qorgan_dc09_connections", Help: "Open DC-09 TCP connections."},
		func() float64 { return float64(r.Stats().Connections) }), r.answerTimes)
}
