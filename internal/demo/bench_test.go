package demo_test

import (
	"context"
	"testing"

	"qorgan/internal/auth"
	"qorgan/internal/demo"
	"qorgan/internal/store/storetest"
)

// BenchmarkLoad loads 1% of the country into a fresh SQLite file per
// iteration and reports pupils/s (`qorgan bench registry` does the national
// size).
func BenchmarkLoad(b *testing.B) {
	ctx := context.Background()
	pupils := 0
	for b.Loop() {
		b.StopTimer()
		db := storetest.SQLite(b)
		b.StartTimer()
		res, err := demo.Load(ctx, db, auth.New(db), demo.Options{Scale: 0.01})
		if err != nil {
			b.Fatal(err)
		}
		pupils += res.Pupils
	}
	b.ReportMetric(float64(pupils)/b.Elapsed().Seconds(), "pupils/s")
}
