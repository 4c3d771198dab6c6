package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/demo"
	"qorgan/internal/registry"
	"qorgan/internal/roadmap"
	"qorgan/internal/store"
)

// IndicatorsConfig describes a roadmap run.
type IndicatorsConfig struct {
	Scale     float64 // share of the country to load (1 = national)
	Requests  int     // timed calls of each kind
	Snapshots int     // timed monthly snapshots
	Dir       string  // directory for the SQLite file; empty: a temporary one
	Sync      string  // SQLite synchronous mode
	Postgres  string  // a PostgreSQL URL to run on instead of SQLite (an empty database)
}

// Indicators loads the demo dataset, marks its supervised panels heard (one
// in ten silent for two days), and times the roadmap's reads as the domain
// serves them: the nation's indicators with their regions, a region's with
// its districts, a school's gap list, and the monthly snapshot of the
// nation, every region and every district. Progress goes to errOut.
func Indicators(ctx context.Context, cfg IndicatorsConfig, out, errOut io.Writer) error {
	var db *store.DB
	if cfg.Postgres != "" {
		var err error
		if db, err = store.Open(ctx, store.Config{URL: cfg.Postgres}); err != nil {
			return err
		}
		defer db.Close()
		fmt.Fprintln(out, "store: PostgreSQL")
	} else {
		var done func()
		var err error
		if db, done, err = Store(ctx, cfg.Dir, "bench-indicators.db", cfg.Sync, out); err != nil {
			return err
		}
		defer done()
	}
	if err := registry.SeedRegions(ctx, db); err != nil {
		return err
	}
	last := time.Now()
	res, err := demo.Load(ctx, db, auth.New(db), demo.Options{Scale: cfg.Scale, Progress: func(done, total int) {
		if time.Since(last) > 5*time.Second {
			fmt.Fprintf(errOut, "  loaded %d/%d schools\n", done, total)
			last = time.Now()
		}
	}})
	if err != nil {
		return err
	}
	now := time.Now()
	err = db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO device_status (device_id, last_seen_at)
			SELECT id, CASE WHEN id % 10 = 0 THEN ? ELSE ? END FROM devices WHERE reporting_interval_s > 0`,
			store.Micros(now.Add(-48*time.Hour)), store.Micros(now.Add(-time.Hour)))
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "data: %d schools, %d devices (supervised panels heard, one in ten silent for two days)\n", res.Schools, res.Devices)
	rm := roadmap.New(db)
	if err := rm.Load(ctx); err != nil {
		return err
	}
	p := auth.System
	timeIt := func(n int, call func(i int) error) ([]time.Duration, error) {
		ds := make([]time.Duration, 0, n)
		for i := 0; i < n; i++ {
			t0 := time.Now()
			if err := call(i); err != nil {
				return nil, err
			}
			ds = append(ds, time.Since(t0))
		}
		return ds, nil
	}
	report := func(what string, ds []time.Duration, target time.Duration) {
		verdict := "within"
		if percentile(ds, 99) > target {
			verdict = "OVER"
		}
		fmt.Fprintf(out, "%-44s n=%-4d p50 %s, p99 %s, max %s (target p99 < %s: %s)\n", what, len(ds), ms(percentile(ds, 50)), ms(percentile(ds, 99)),
			ms(percentile(ds, 100)), target, verdict)
	}
	var nation roadmap.Figures
	ds, err := timeIt(cfg.Requests, func(int) error {
		var err error
		nation, err = rm.Indicators(ctx, p, roadmap.Place{})
		return err
	})
	if err != nil {
		return err
	}
	report("national indicators (with 20 regions)", ds, 100*time.Millisecond)
	regions := registry.Regions()
	ds, err = timeIt(cfg.Requests, func(i int) error {
		_, err := rm.Indicators(ctx, p, roadmap.Place{Level: roadmap.LevelRegion, Code: regions[i%len(regions)].Code})
		return err
	})
	if err != nil {
		return err
	}
	report("a region's indicators (with its districts)", ds, 20*time.Millisecond)
	rng := rand.New(rand.NewPCG(1, 2))
	ds, err = timeIt(cfg.Requests, func(int) error {
		_, err := rm.Gaps(ctx, p, 1+rng.Int64N(int64(res.Schools)))
		return err
	})
	if err != nil {
		return err
	}
	report("a school's gap list", ds, 5*time.Millisecond)
	var snap roadmap.Snapshot
	ds, err = timeIt(cfg.Snapshots, func(int) error {
		var err error
		snap, err = rm.TakeSnapshot(ctx, p)
		return err
	})
	if err != nil {
		return err
	}
	report(fmt.Sprintf("monthly snapshot (%d figures)", len(snap.Figures)), ds, 5*time.Second)
	fmt.Fprintf(out, "\nnational figures of the demo (live, %s):\n", nation.AsOf)
	for _, in := range nation.Indicators {
		if !in.Measured {
			fmt.Fprintf(out, "  %-15s not measured\n", in.Key)
			continue
		}
		fmt.Fprintf(out, "  %-15s %5d of %5d  %5.1f%%\n", in.Key, in.Having, in.Required, *in.Share*100)
	}
	return nil
}
