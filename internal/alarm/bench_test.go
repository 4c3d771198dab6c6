package alarm_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"qorgan/internal/alarm"
	"qorgan/internal/auth"
	"qorgan/internal/demo"
	"qorgan/internal/protocol/alarmcode"
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
