// Package roadmap is the ministry's roadmap computed from live data: what
// each school must have under the law (requirement rule sets held as data,
// asked "as of" a date), what it has and whether that works, the gap with
// the rule behind each item, coverage indicators from school to nation in
// the caller's scope, monthly and seeded snapshots, targets with projected
// dates, and funding allocated and spent.
//
// Its figures are plain structs (Figures, Indicator, Snapshot) for the
// reports to word and export.
package roadmap

import (
	"context"
	"slices"
	"sync"
	"time"

	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/store"
)

// Key names an item a rule set may require, and (for the indicator keys)
// a coverage indicator.
type Key string

const (
	Video         Key = "video"          // video surveillance (cameras that work)
	VideoStandard Key = "video_standard" // video to the 2019 standard (declared)
	VideoArchive  Key = "video_archive"  // archive kept at least 30 days (declared)
	Notification  Key = "notification"   // public address system
	COU           Key = "cou"            // cameras connected to the police ЦОУ (declared)
	Panic         Key = "panic"          // panic buttons
	PCN           Key = "pcn"            // panic signals reach a licensed provider's ПЦН
	Turnstiles    Key = "turnstiles"     // turnstiles
	Guard         Key = "guard"          // licensed guard under contract
	Drill         Key = "drill"          // this year's drill done (not measured yet)
)

// ItemKeys are the items a rule set may require, in the order gap lists
// show them.
var ItemKeys = []Key{Video, VideoStandard, VideoArchive, Notification, COU, Panic, PCN, Turnstiles, Guard}

// IndicatorKeys are the coverage indicators, in the order reports show them.
var IndicatorKeys = []Key{Video, VideoStandard, COU, Panic, PCN, Turnstiles, Guard, Drill}

func knownItem(k Key) bool {
	return slices.Contains(ItemKeys, k)
}

// Roadmap computes the roadmap over a store. Make one with New and Load it.
type Roadmap struct {
	DB  *store.DB
	Now func() time.Time

	mu   sync.RWMutex
	sets []RuleSet // by effective date, oldest first

	cache cache // the per-school evaluation the places' indicators are tallied from (cache.go)
	// Drills tells which schools have done this school year's drills (the
	// emergency module keeps them); without it the drill indicator is
	// "not measured", never 0.
	Drills DrillRecord
	// FromScratch makes every read compute from the store, as the test of
	// the kept evaluation does.
	FromScratch bool
	// Fresh is how long the kept evaluation's last reading of the changed
	// rows serves before the next (New: 5 s; 0: read at every request).
	// The figures of a nation, a region or a district may be that much
	// behind; a school's own are always computed from the store.
	Fresh time.Duration
}

// DrillRecord says which schools have done their school year's drill plan
// as of a day: done holds the schools with a plan or a drill on record,
// rest is the verdict for every other school (done only when the default
// plan asks for nothing).
type DrillRecord interface {
	DrillsDone(ctx context.Context, asOf time.Time) (done map[int64]bool, rest bool, err error)
}

// drillsDone is r.Drills' answer, or nil when no record is wired.
func (r *Roadmap) drillsDone(ctx context.Context, now time.Time) (*drillSet, error) {
	if r.Drills == nil {
		return nil, nil
	}
	done, rest, err := r.Drills.DrillsDone(ctx, now)
	if err != nil {
		return nil, errs.Wrap(err, "drills")
	}
	return &drillSet{done: done, rest: rest}, nil
}

// drillSet is which schools have done the year's drills.
type drillSet struct {
	done map[int64]bool
	rest bool
}

func (d *drillSet) has(school int64) bool {
	if v, ok := d.done[school]; ok {
		return v
	}
	return d.rest
}

// New returns a Roadmap on the wall clock; call Load before use.
func New(db *store.DB) *Roadmap { return &Roadmap{DB: db, Now: time.Now, Fresh: 5 * time.Second} }

func (r *Roadmap) today() time.Time { return kztime.Today(r.Now()) }

// Load stores the rule sets shipped in the binary (once: loading again
// changes nothing), seeds the published history and the 2021 allocations,
// and reads every rule set the store holds.
func (r *Roadmap) Load(ctx context.Context) error {
	shipped, err := ShippedRuleSets()
	if err != nil {
		return err
	}
	for _, s := range shipped {
		if err := r.storeRuleSet(ctx, s); err != nil {
			return err
		}
	}
	if err := r.seed(ctx); err != nil {
		return err
	}
	if err := r.readRuleSets(ctx); err != nil {
		return err
	}
	// Build the kept evaluation now rather than at the first request.
	_, _, _, err = r.tally(ctx, r.Now(), func(*cSchool) bool { return true }, func(*cSchool) (string, string) { return "", "" })
	return err
}
