package roadmap

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/registry"
	"qorgan/internal/store"
)

// The indicators of the nation, a region or a district are tallied from a
// per-school evaluation kept in memory and brought up to date at each
// request (at most every Roadmap.Fresh, 5 s) from the rows changed since the last (the registry's and the
// alarm intake's timestamps, read back with a margin for transactions
// still open then): a national read costs the changes plus a sum over
// the schools, not a pass over every device. A school's evaluation is
// redone when its rows change, when a working supervised device's
// reporting interval runs out, and at midnight (contracts and licences
// are by date). TestCachedEqualsFromScratch holds it to the computation
// from scratch, which the other places (a school, a ПЦН's or a ЦОУ's
// scope) and the monthly snapshot use.

// margin is how far before the last refresh the next one reads again: a
// row stamped before that refresh but committed after it is still seen.
const margin = int64(2 * time.Minute / time.Microsecond)

type cDevice struct {
	kind     registry.DeviceKind
	interval int64 // reporting interval, µs; 0: not supervised
	lastSeen int64 // µs; 0: never heard
}

type cContract struct {
	provider     int64
	starts, ends string
}

type cProvider struct {
	uto     bool
	expires string
}

type cSchool struct {
	id                     int64
	name, region, district string
	headcount              int
	centre                 bool
	devices                map[int64]*cDevice
	contracts              map[int64]cContract
	decl                   Declaration

	dirty      bool
	validUntil int64 // µs: evaluate again from then
	items      []Item
	uto        bool
	req, met   uint8 // bit i: indicatorItems[i] required, met
}

type cache struct {
	mu        sync.Mutex
	loaded    bool
	readAt    time.Time // the last refresh
	marks     [6]int64  // schools, devices, device_status, contracts, providers, declarations
	schools   map[int64]*cSchool
	devices   map[int64]*cDevice
	providers map[int64]cProvider
}

func (c *cache) reset() {
	c.loaded = false
	c.marks = [6]int64{}
	c.schools, c.devices, c.providers = map[int64]*cSchool{}, map[int64]*cDevice{}, map[int64]cProvider{}
}

func since(mark int64) int64 {
	if mark == 0 {
		return -1 << 62
	}
	return mark - margin
}

// refresh reads the rows stamped since the last refresh at now, less the
// margin (everything the first time).
func (c *cache) refresh(ctx context.Context, q store.Querier, now time.Time) error {
	if !c.loaded {
		c.reset()
	}
	school := func(id int64) *cSchool {
		s := c.schools[id]
		if s == nil {
			s = &cSchool{id: id, devices: map[int64]*cDevice{}, contracts: map[int64]cContract{}}
			c.schools[id] = s
		}
		s.dirty = true
		return s
	}
	err := store.Each(ctx, q, func(rows *sql.Rows) error {
		var id, at int64
		var x cSchool
		if err := rows.Scan(&id, &x.name, &x.region, &x.district, &x.headcount, &x.centre, &at); err != nil {
			return err
		}
		s := school(id)
		s.name, s.region, s.district, s.headcount, s.centre = x.name, x.region, x.district, x.headcount, x.centre
		return nil
	}, "SELECT id, name_ru, region_code, COALESCE(district_code, ''), headcount, regional_centre, updated_at FROM schools WHERE updated_at >= ?", since(c.marks[0]))
	if err != nil {
		return errs.Wrap(err, "schools")
	}
	err = store.Each(ctx, q, func(rows *sql.Rows) error {
		var id, sid, interval, at int64
		var kind registry.DeviceKind
		if err := rows.Scan(&id, &sid, &kind, &interval, &at); err != nil {
			return err
		}
		d := c.devices[id]
		if d == nil {
			d = &cDevice{}
			c.devices[id] = d
		}
		d.kind, d.interval = kind, interval*1_000_000
		school(sid).devices[id] = d
		return nil
	}, "SELECT id, school_id, kind, reporting_interval_s, updated_at FROM devices WHERE updated_at >= ?", since(c.marks[1]))
	if err != nil {
		return errs.Wrap(err, "devices")
	}
	err = store.Each(ctx, q, func(rows *sql.Rows) error {
		var id, sid, at int64
		if err := rows.Scan(&id, &sid, &at); err != nil {
			return err
		}
		if d := c.devices[id]; d != nil && d.lastSeen != at {
			d.lastSeen = at
			school(sid)
		}
		return nil
	}, "SELECT st.device_id, d.school_id, st.last_seen_at FROM device_status st JOIN devices d ON d.id = st.device_id WHERE st.last_seen_at >= ?", since(c.marks[2]))
	if err != nil {
		return errs.Wrap(err, "device status")
	}
	err = store.Each(ctx, q, func(rows *sql.Rows) error {
		var id, sid, pid, at int64
		var k cContract
		var ends sql.NullString
		if err := rows.Scan(&id, &sid, &pid, &k.starts, &ends, &at); err != nil {
			return err
		}
		k.provider, k.ends = pid, ends.String
		school(sid).contracts[id] = k
		return nil
	}, "SELECT id, school_id, provider_id, starts_on, ends_on, created_at FROM contracts WHERE created_at >= ?", since(c.marks[3]))
	if err != nil {
		return errs.Wrap(err, "contracts")
	}
	changed := map[int64]bool{}
	err = store.Each(ctx, q, func(rows *sql.Rows) error {
		var id, at int64
		var v cProvider
		if err := rows.Scan(&id, &v.uto, &v.expires, &at); err != nil {
			return err
		}
		if old, ok := c.providers[id]; !ok || old != v {
			changed[id] = true
		}
		c.providers[id] = v
		return nil
	}, "SELECT id, licence_uto, licence_expires, created_at FROM providers WHERE created_at >= ?", since(c.marks[4]))
	if err != nil {
		return errs.Wrap(err, "providers")
	}
	if len(changed) > 0 && c.loaded {
		for _, s := range c.schools {
			for _, k := range s.contracts {
				if changed[k.provider] {
					s.dirty = true
				}
			}
		}
	}
	err = store.Each(ctx, q, func(rows *sql.Rows) error {
		var sid, at int64
		var d Declaration
		if err := rows.Scan(&sid, &d.COUConnected, &d.VideoStandard, &d.ArchiveDays, &at); err != nil {
			return err
		}
		school(sid).decl = d
		return nil
	}, "SELECT school_id, cou_connected, video_standard, archive_days, declared_at FROM roadmap_declarations WHERE declared_at >= ?", since(c.marks[5]))
	if err != nil {
		return errs.Wrap(err, "declarations")
	}
	for i := range c.marks {
		c.marks[i] = store.Micros(now)
	}
	c.loaded = true
	return nil
}

// evaluate brings a school's items up to date at now under set.
func (c *cache) evaluate(s *cSchool, set RuleSet, now time.Time) {
	us := store.Micros(now)
	if !s.dirty && us < s.validUntil {
		return
	}
	day := kztime.Today(now)
	midnight := time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, kztime.Almaty)
	s.validUntil = store.Micros(midnight)
	f := &facts{kinds: map[registry.DeviceKind]*kindCount{}, guardWhy: noContract}
	for _, d := range s.devices {
		k := f.kinds[d.kind]
		if k == nil {
			k = &kindCount{}
			f.kinds[d.kind] = k
		}
		k.total++
		switch {
		case d.interval == 0:
			k.working++
		case d.lastSeen > 0 && d.lastSeen+d.interval >= us:
			k.working++
			s.validUntil = min(s.validUntil, d.lastSeen+d.interval+1)
		}
	}
	today := day.Format(time.DateOnly)
	for _, k := range s.contracts {
		if k.starts > today || (k.ends != "" && k.ends < today) {
			continue
		}
		v := c.providers[k.provider]
		switch {
		case f.guard:
		case v.uto && v.expires >= today:
			f.guard, f.guardWhy = true, nil
		case !v.uto:
			f.guardWhy = &Why{Code: WhyNoUTOLicence}
		default:
			f.guardWhy = &Why{Code: WhyLicenceExpired, Date: v.expires}
		}
	}
	f.decl = s.decl
	s.items = evaluate(set.Requirement(s.headcount, s.centre, day), f)
	s.uto, s.req, s.met = len(s.items) > 0, 0, 0
	for _, it := range s.items {
		if i := keyIndex(it.Key); i >= 0 {
			s.req |= 1 << i
			if it.Met {
				s.met |= 1 << i
			}
		}
	}
	s.dirty = false
}

// tally brings the cache up to date and tallies the schools keep accepts,
// by the part each is in.
func (r *Roadmap) tally(ctx context.Context, now time.Time, keep func(*cSchool) bool, part func(*cSchool) (string, string)) (*tally, map[string]*tally, RuleSet, error) {
	set, err := r.RuleSetOn(kztime.Today(now))
	if err != nil {
		return nil, nil, set, err
	}
	drills, err := r.drillsDone(ctx, now)
	if err != nil {
		return nil, nil, set, err
	}
	c := &r.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	// Reading the changed rows costs the rows stamped within the margin
	// (every supervised device heard in the last two minutes: most of them
	// where supervision is short), so a reading is reused for r.Fresh.
	if !c.loaded || now.Sub(c.readAt) >= r.Fresh || now.Before(c.readAt) {
		if err := c.refresh(ctx, r.DB.Reader(), now); err != nil {
			c.loaded = false
			return nil, nil, set, err
		}
		c.readAt = now
	}
	total, parts := &tally{}, map[string]*tally{}
	for _, s := range c.schools {
		if !keep(s) {
			continue
		}
		c.evaluate(s, set, now)
		total.addBits(s.uto, s.req, s.met)
		total.addDrill(drills, s.id)
		k, name := part(s)
		t := parts[k]
		if t == nil {
			t = &tally{name: name}
			parts[k] = t
		}
		t.addBits(s.uto, s.req, s.met)
		t.addDrill(drills, s.id)
	}
	return total, parts, set, nil
}

// Rebuild drops the kept evaluation; the next read builds it from scratch.
// The monthly chore does it hourly, so that nothing a refresh could miss
// lives longer.
func (r *Roadmap) Rebuild() {
	r.cache.mu.Lock()
	r.cache.loaded = false
	r.cache.mu.Unlock()
}
