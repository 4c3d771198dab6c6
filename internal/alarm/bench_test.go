package alarm_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"qorgan/internal/alarm"
	"qorgan/internal/auth"
	"qorgan/internal/bench"
	"qorgan/internal/demo"
	"qorgan/internal/protocol/alarmcode"
	"qorgan/internal/registry"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
	"qorgan/internal/testkit"
)

// BenchmarkCommit commits batches of 50 panic signals from the demo's plain
// panel, as the DC-09 receiver's group commit does; it reports alarms/s.
func BenchmarkCommit(b *testing.B) {
	ctx := context.Background()
	db := storetest.SQLite(b)
	a := auth.New(db)
	testkit.Demo(b, db, a, 0.002)
	s := alarm.New(db, a, nil)
	d := panelDevice(b, db, demo.PlainAccount)
	seq := 0
	n := 0
	for b.Loop() {
		batch := make([]alarm.Signal, 50)
		for i := range batch {
			seq++
			batch[i] = alarm.Signal{Source: "dc09", Account: demo.PlainAccount, DeviceID: d.ID, SchoolID: d.SchoolID, Sequence: fmt.Sprint(seq), Content: []byte("BA"),
				Events: []alarmcode.Event{{Type: alarmcode.Panic, Code: "BA", Known: true}}, ReceivedAt: time.Now()}
		}
		if err := s.Commit(ctx, batch); err != nil {
			b.Fatal(err)
		}
		n += len(batch)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "alarms/s")
}

// BenchmarkCommitStorm commits what the DC-09 receiver's group commit
// commits in an alarm storm: batches of 90 burglary alarms, each from a
// panel on an account of its own, 200 panels spread over the schools of 1%
// of the country, synchronous=FULL. It reports the process's CPU time and
// the bytes handed to write calls per alarm, which move far less with the
// machine's other work than the rate does.
func BenchmarkCommitStorm(b *testing.B) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(b.TempDir(), "storm.db"), Synchronous: "FULL"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	a := auth.New(db)
	testkit.Demo(b, db, a, 0.01)
	schools, err := store.Collect(ctx, db.Reader(), func(rows *sql.Rows) (int64, error) {
		var id int64
		return id, rows.Scan(&id)
	}, "SELECT id FROM schools ORDER BY id")
	if err != nil {
		b.Fatal(err)
	}
	const panels, batchSize = 200, 90
	devs := make([]registry.Device, panels)
	if err := db.InTx(ctx, func(tx *store.Tx) error {
		for i := range devs {
			in := registry.DeviceInput{Kind: registry.AlarmPanel, Name: fmt.Sprintf("storm panel %d", i), DC09Account: fmt.Sprintf("S%05d", i+1)}
			d, err := registry.InsertDevice(ctx, tx, time.Now().UnixMicro(), schools[i%len(schools)], in, nil)
			if err != nil {
				return err
			}
			devs[i] = d
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	s := alarm.New(db, a, slog.New(slog.DiscardHandler))
	seq := make([]int, panels)
	next := 0
	n := 0
	cpu0, written0 := bench.ProcessCost()
	for b.Loop() {
		batch := make([]alarm.Signal, batchSize)
		for i := range batch {
			p := next % panels
			next++
			seq[p] = seq[p]%9999 + 1
			d := devs[p]
			sq := fmt.Sprintf("%04d", seq[p])
			frame := fmt.Sprintf("\nC4A50047\"SIA-DCS\"%s L0#%s[#%s|Nri1/BA001]_12:00:00,12-07-2026\r", sq, d.DC09Account, d.DC09Account)
			batch[i] = alarm.Signal{Source: "dc09", Account: d.DC09Account, DeviceID: d.ID, SchoolID: d.SchoolID, Sequence: sq,
				Content: []byte("Nri1/BA001"), Raw: []byte(frame), Remote: "127.0.0.1:40000", RetryWindow: time.Minute,
				Events: []alarmcode.Event{{Type: alarmcode.Unknown, Code: "BA", Zone: "001", Description: "Burglary alarm", Known: true}}, ReceivedAt: time.Now()}
		}
		if err := s.Commit(ctx, batch); err != nil {
			b.Fatal(err)
		}
		n += len(batch)
	}
	cpu1, written1 := bench.ProcessCost()
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "alarms/s")
	b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/float64(n)/1e3, "cpu-µs/alarm")
	b.ReportMetric(float64(written1-written0)/float64(n), "B-written/alarm")
}
