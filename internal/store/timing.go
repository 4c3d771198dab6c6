package store

import (
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Where a write transaction's time goes, by lane (the alarm lane, which
// goes first on SQLite's one writer, and the others): waiting for the
// writer, holding it (from BEGIN to COMMIT returned), and after the commit
// waiting for the log sync that makes it durable (SQLite FULL). An alarm's
// acknowledgement waits for all three, so when alarms are slow at a busy
// hour these say whether it was the queue for the writer, the alarm's own
// transaction or the disk. Published on /metrics (ExportStats) and read by
// `qorgan bench`.
type writerTiming struct {
	wait, hold, sync *prometheus.HistogramVec
	logSync          prometheus.Histogram
	lanes            [2]laneTiming // other, alarm
}

// laneTiming is one lane's histograms, looked up once.
type laneTiming struct{ wait, hold, sync prometheus.Observer }

func (t *writerTiming) of(urgent bool) *laneTiming {
	if urgent {
		return &t.lanes[1]
	}
	return &t.lanes[0]
}

// Lanes, as the metrics' "lane" label names them.
const (
	LaneAlarm = "alarm"
	LaneOther = "other"
)

// timingBuckets run from 50 µs to 2 s, each about 1.44 times the last: fine
// enough to tell a 5 ms wait from a 25 ms one.
var timingBuckets = prometheus.ExponentialBucketsRange(50e-6, 2, 30)

func newWriterTiming() *writerTiming {
	vec := func(name, help string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "qorgan_store_" + name, Help: help, Buckets: timingBuckets}, []string{"lane"})
	}
	t := &writerTiming{
		wait: vec("writer_wait_seconds", "Time a write transaction waited for SQLite's one writer (0 on PostgreSQL), by lane: alarm or other."),
		hold: vec("writer_hold_seconds", "Time a write transaction held the writer, by lane: BEGIN to COMMIT and the writer's upkeep right after it (statements kept prepared)."),
		sync: vec("commit_sync_wait_seconds", "Time from a write transaction's COMMIT to the log sync that made it durable (SQLite FULL), by lane."),
		logSync: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "qorgan_store_log_sync_seconds",
			Help: "Duration of each sync of SQLite's log (-wal file) that Qorgan runs after the writer is free.", Buckets: timingBuckets}),
	}
	for i, l := range []string{LaneOther, LaneAlarm} {
		t.lanes[i] = laneTiming{t.wait.WithLabelValues(l), t.hold.WithLabelValues(l), t.sync.WithLabelValues(l)}
	}
	return t
}

// ExportStats publishes the writer's timings on a Prometheus registry (the
// server's /metrics).
func (db *DB) ExportStats(reg prometheus.Registerer) {
	t := db.timing
	reg.MustRegister(t.wait, t.hold, t.sync, t.logSync)
}

// Timing is a snapshot of a histogram of the writer's timings (see
// DB.Timings): counts per upper bound, cumulative, as Prometheus keeps them.
type Timing struct {
	Count  uint64
	Bounds []float64 // seconds
	Counts []uint64  // observations ≤ Bounds[i]
}

// Timings returns the writer's histograms now, named as on /metrics without
// the prefix ("writer_wait_seconds/alarm", "log_sync_seconds"…); a
// benchmark subtracts two snapshots to get a run's own.
func (db *DB) Timings() map[string]Timing {
	t := db.timing
	out := map[string]Timing{}
	read := func(name string, h prometheus.Histogram) {
		out[name] = TimingOf(h)
	}
	for _, l := range []string{LaneAlarm, LaneOther} {
		read("writer_wait_seconds/"+l, t.wait.WithLabelValues(l).(prometheus.Histogram))
		read("writer_hold_seconds/"+l, t.hold.WithLabelValues(l).(prometheus.Histogram))
		read("commit_sync_wait_seconds/"+l, t.sync.WithLabelValues(l).(prometheus.Histogram))
	}
	read("log_sync_seconds", t.logSync)
	return out
}

// TimingOf snapshots any Prometheus histogram (the DC-09 receiver's
// commit times too) as a Timing.
func TimingOf(h prometheus.Histogram) Timing {
	var m dto.Metric
	if err := h.Write(&m); err != nil || m.Histogram == nil {
		return Timing{}
	}
	t := Timing{Count: m.Histogram.GetSampleCount()}
	for _, b := range m.Histogram.Bucket {
		t.Bounds = append(t.Bounds, b.GetUpperBound())
		t.Counts = append(t.Counts, b.GetCumulativeCount())
	}
	return t
}

// Since is what was observed between an earlier snapshot and t.
func (t Timing) Since(earlier Timing) Timing {
	d := Timing{Count: t.Count - earlier.Count, Bounds: t.Bounds, Counts: make([]uint64, len(t.Counts))}
	for i := range t.Counts {
		d.Counts[i] = t.Counts[i]
		if i < len(earlier.Counts) {
			d.Counts[i] -= earlier.Counts[i]
		}
	}
	return d
}

// Quantile is the upper bound of the bucket that holds the q-quantile (so
// "p99 ≤ this"); +Inf when it lies beyond the last bound, 0 when nothing
// was observed.
func (t Timing) Quantile(q float64) time.Duration {
	if t.Count == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(t.Count)))
	for i, c := range t.Counts {
		if c >= rank {
			return time.Duration(t.Bounds[i] * float64(time.Second))
		}
	}
	return time.Duration(math.MaxInt64)
}
