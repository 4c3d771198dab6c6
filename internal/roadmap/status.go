package roadmap

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/registry"
	"qorgan/internal/store"
)

// A school's facts: what it has and what works, as one pass over the store
// reads them for many schools at once.
type facts struct {
	kinds map[registry.DeviceKind]*kindCount
	// guard: a contract in force today with a provider whose licence
	// covers УТО objects and has not expired; guardWhy says why not.
	guard    bool
	guardWhy *Why
	decl     Declaration
}

type kindCount struct {
	total, working int
	failing        []DeviceWhy // why devices do not work (filled for one school's gap list)
}

func (f *facts) kind(k registry.DeviceKind) *kindCount {
	if c := f.kinds[k]; c != nil {
		return c
	}
	return &kindCount{}
}

// worksSQL is true for a device (d, with its device_status st) that counts
// as working at ?: a supervised device heard within its reporting interval;
// a device that is not supervised (interval 0) counts as registered.
const worksSQL = "(d.reporting_interval_s = 0 OR (st.last_seen_at IS NOT NULL AND st.last_seen_at + CAST(d.reporting_interval_s AS BIGINT) * 1000000 >= ?))"

// readFacts reads the facts of the schools matching cond (over schools s)
// at now.
func readFacts(ctx context.Context, q store.Querier, cond string, args []any, now time.Time) (map[int64]*facts, error) {
	out := map[int64]*facts{}
	get := func(id int64) *facts {
		f := out[id]
		if f == nil {
			f = &facts{kinds: map[registry.DeviceKind]*kindCount{}, guardWhy: noContract}
			out[id] = f
		}
		return f
	}
	err := store.Each(ctx, q, func(rows *sql.Rows) error {
		var id int64
		var k registry.DeviceKind
		var n, w int
		if err := rows.Scan(&id, &k, &n, &w); err != nil {
			return err
		}
		get(id).kinds[k] = &kindCount{total: n, working: w}
		return nil
	}, `SELECT d.school_id, d.kind, COUNT(*), SUM(CASE WHEN `+worksSQL+` THEN 1 ELSE 0 END)
		FROM devices d JOIN schools s ON s.id = d.school_id LEFT JOIN device_status st ON st.device_id = d.id
		WHERE `+cond+` GROUP BY d.school_id, d.kind`, append([]any{store.Micros(now)}, args...)...)
	if err != nil {
		return nil, errs.Wrap(err, "devices")
	}
	day := todayOf(now)
	err = store.Each(ctx, q, func(rows *sql.Rows) error {
		var id int64
		var uto bool
		var expires string
		if err := rows.Scan(&id, &uto, &expires); err != nil {
			return err
		}
		f := get(id)
		switch {
		case f.guard:
		case uto && expires >= day:
			f.guard, f.guardWhy = true, nil
		case !uto:
			f.guardWhy = &Why{Code: WhyNoUTOLicence}
		default:
			f.guardWhy = &Why{Code: WhyLicenceExpired, Date: expires}
		}
		return nil
	}, `SELECT c.school_id, v.licence_uto, v.licence_expires FROM contracts c JOIN providers v ON v.id = c.provider_id JOIN schools s ON s.id = c.school_id
		WHERE c.starts_on <= ? AND (c.ends_on IS NULL OR c.ends_on >= ?) AND `+cond, append([]any{day, day}, args...)...)
	if err != nil {
		return nil, errs.Wrap(err, "contracts")
	}
	err = store.Each(ctx, q, func(rows *sql.Rows) error {
		var id int64
		var d Declaration
		if err := rows.Scan(&id, &d.COUConnected, &d.VideoStandard, &d.ArchiveDays); err != nil {
			return err
		}
		get(id).decl = d
		return nil
	}, `SELECT r.school_id, r.cou_connected, r.video_standard, r.archive_days FROM roadmap_declarations r JOIN schools s ON s.id = r.school_id WHERE `+cond, args...)
	return out, errs.Wrap(err, "declarations")
}

func todayOf(now time.Time) string { return kztime.Today(now).Format(time.DateOnly) }

// Item is one required item of a school: met or not, and why not.
type Item struct {
	Key    Key    `json:"key"`
	Met    bool   `json:"met"`
	Reason string `json:"reason,omitempty"` // why not, in English
	// Why is the same reason in parts, for a page to word in its reader's
	// language.
	Why    *Why   `json:"why,omitempty"`
	Source Source `json:"source"`
}

// Why is why a required item is not met, in parts: its kind (Code), the
// device kind and count it is about, the first device that does not work
// and how many more do not, a day or a number of days, and the reason
// under it (Cause: why alarms reach no ПЦН).
type Why struct {
	Code   WhyCode             `json:"code"`
	Kind   registry.DeviceKind `json:"kind,omitempty"`
	Count  int                 `json:"count,omitempty"`
	Device *DeviceWhy          `json:"device,omitempty"`
	More   int                 `json:"more,omitempty"`
	Days   int                 `json:"days,omitempty"`
	Date   string              `json:"date,omitempty"`
	Cause  *Why                `json:"cause,omitempty"`
}

// DeviceWhy is a supervised device that does not work: never heard, or
// silent since a moment past its reporting interval.
type DeviceWhy struct {
	Name      string     `json:"name"`
	IntervalS int        `json:"reporting_interval_s"`
	Since     *time.Time `json:"silent_since,omitempty"` // nil: never heard
}

// WhyCode is the kind of a reason.
type WhyCode string

// The kinds of reason a required item is not met.
const (
	WhyNoDevice       WhyCode = "no_device"        // none of the kind registered
	WhyNoneWorks      WhyCode = "none_works"       // Count registered, none works
	WhyNotToStandard  WhyCode = "not_to_standard"  // video not declared to the standard
	WhyArchiveShort   WhyCode = "archive_short"    // Days of archive declared, 30 required
	WhyCOUNotDeclared WhyCode = "cou_not_declared" // cameras' link to the ЦОУ not declared
	WhyNoAlarmDevice  WhyCode = "no_alarm_device"  // no working button or panel (Cause)
	WhyNoPCN          WhyCode = "no_pcn"           // alarms reach no licensed ПЦН (Cause)
	WhyNoContract     WhyCode = "no_contract"      // no security contract in force
	WhyNoUTOLicence   WhyCode = "no_uto_licence"   // the provider's licence does not cover УТО
	WhyLicenceExpired WhyCode = "licence_expired"  // the provider's licence expired on Date
)

// WhyCodes are every kind of reason, for the pages' message files.
var WhyCodes = []WhyCode{WhyNoDevice, WhyNoneWorks, WhyNotToStandard, WhyArchiveShort, WhyCOUNotDeclared,
	WhyNoAlarmDevice, WhyNoPCN, WhyNoContract, WhyNoUTOLicence, WhyLicenceExpired}

// noContract is the reason of a school with no security contract in force.
var noContract = &Why{Code: WhyNoContract}

// English says the reason in English, as the API's reason does.
func (w *Why) English() string {
	switch w.Code {
	case WhyNoDevice:
		return fmt.Sprintf("no %s registered", kindName[w.Kind])
	case WhyNoneWorks:
		s := fmt.Sprintf("none of the %d %s(s) works", w.Count, kindName[w.Kind])
		if w.Device != nil {
			s += ": " + w.Device.English()
			if w.More > 0 {
				s += fmt.Sprintf(" (and %d more)", w.More)
			}
		}
		return s
	case WhyNotToStandard:
		return "the school has not declared its video surveillance to the standard"
	case WhyArchiveShort:
		return fmt.Sprintf("video archive of %d days declared; at least 30 required", w.Days)
	case WhyCOUNotDeclared:
		return "the cameras' connection to the ЦОУ is not declared"
	case WhyNoAlarmDevice:
		return "no working panic button or alarm panel to send to a ПЦН: " + w.Cause.English()
	case WhyNoPCN:
		return "alarms reach no licensed ПЦН: " + w.Cause.English()
	case WhyNoContract:
		return "no security contract in force today"
	case WhyNoUTOLicence:
		return "the provider under contract has no licence covering УТО objects"
	case WhyLicenceExpired:
		return "the licence of the provider under contract expired on " + w.Date
	}
	return string(w.Code)
}

// English says why the device does not work, in English.
func (d *DeviceWhy) English() string {
	if d.Since == nil {
		return fmt.Sprintf("%q never heard (supervised, reporting interval %d s)", d.Name, d.IntervalS)
	}
	return fmt.Sprintf("%q silent since %s, past its reporting interval of %d s", d.Name, d.Since.In(kztime.Almaty).Format("2006-01-02 15:04 MST"), d.IntervalS)
}

// not records why an item is not met.
func (m *Item) not(w *Why) {
	m.Met, m.Why, m.Reason = false, w, w.English()
}

var kindOf = map[Key]registry.DeviceKind{Video: registry.Camera, Notification: registry.PublicAddress, Panic: registry.PanicButton, Turnstiles: registry.Turnstile}

var kindName = map[registry.DeviceKind]string{registry.Camera: "camera", registry.PublicAddress: "public-address system", registry.PanicButton: "panic button",
	registry.Turnstile: "turnstile", registry.AlarmPanel: "alarm panel"}

// meet records an item as met when w is nil, else as not met for w.
func (m *Item) meet(w *Why) {
	if w == nil {
		m.Met = true
		return
	}
	m.not(w)
}

// devicesWork says whether a school has a working device of kind, and why not.
func devicesWork(f *facts, k registry.DeviceKind) (bool, *Why) {
	c := f.kind(k)
	switch {
	case c.working > 0:
		return true, nil
	case c.total == 0:
		return false, &Why{Code: WhyNoDevice, Kind: k}
	}
	w := &Why{Code: WhyNoneWorks, Kind: k, Count: c.total}
	if len(c.failing) > 0 {
		w.Device, w.More = &c.failing[0], len(c.failing)-1
	}
	return false, w
}

// camerasDeclared is why an item that needs working cameras and a
// declaration of the school is not met: no camera works, or the school has
// not declared it (code); nil when it is met.
func camerasDeclared(f *facts, declared bool, code WhyCode) *Why {
	if ok, why := devicesWork(f, registry.Camera); !ok {
		return why
	}
	if !declared {
		return &Why{Code: code}
	}
	return nil
}

// evaluate checks each required item against the facts.
func evaluate(q Requirement, f *facts) []Item {
	items := make([]Item, 0, len(q.Items))
	for _, it := range q.Items {
		m := Item{Key: it.Key, Source: it.Source}
		switch it.Key {
		case Video, Notification, Panic, Turnstiles:
			_, why := devicesWork(f, kindOf[it.Key])
			m.meet(why)
		case VideoStandard:
			m.meet(camerasDeclared(f, f.decl.VideoStandard, WhyNotToStandard))
		case VideoArchive:
			m.Met = f.decl.ArchiveDays >= 30
			if !m.Met {
				m.not(&Why{Code: WhyArchiveShort, Days: f.decl.ArchiveDays})
			}
		case COU:
			m.meet(camerasDeclared(f, f.decl.COUConnected, WhyCOUNotDeclared))
		case PCN:
			button, why := devicesWork(f, registry.PanicButton)
			if !button {
				var panel bool
				panel, _ = devicesWork(f, registry.AlarmPanel)
				button = panel
			}
			switch {
			case !button:
				m.not(&Why{Code: WhyNoAlarmDevice, Cause: why})
			case !f.guard:
				m.not(&Why{Code: WhyNoPCN, Cause: f.guardWhy})
			default:
				m.Met = true
			}
		case Guard:
			if f.guard {
				m.Met = true
			} else {
				m.not(f.guardWhy)
			}
		}
		items = append(items, m)
	}
	return items
}

// Gaps is a school's requirement on a day against what it has and what
// works: every item, met or not; Missing lists the gap alone.
type Gaps struct {
	SchoolID  int64       `json:"school_id"`
	Name      string      `json:"name_ru"`
	NameKK    string      `json:"name_kk"`
	Headcount int         `json:"headcount"`
	Required  Requirement `json:"requirement"`
	Items     []Item      `json:"items"`
	Missing   []Item      `json:"missing"`
	Compliant bool        `json:"compliant"`
	// Devices counts the school's devices by kind, and how many work.
	Devices map[registry.DeviceKind]DeviceCount `json:"devices"`
}

// DeviceCount is how many devices of a kind a school has, and how many work.
type DeviceCount struct {
	Registered int `json:"registered"`
	Working    int `json:"working"`
}

// Gaps reports a school in the caller's scope against the rules in force
// today.
func (r *Roadmap) Gaps(ctx context.Context, p auth.Principal, schoolID int64) (Gaps, error) {
	if err := registry.AtSchool(ctx, r.DB.Reader(), p, r.today(), schoolID, auth.ReadRegistry); err != nil {
		return Gaps{}, err
	}
	return r.gaps(ctx, schoolID, r.Now())
}

func (r *Roadmap) gaps(ctx context.Context, schoolID int64, now time.Time) (Gaps, error) {
	g := Gaps{SchoolID: schoolID, Devices: map[registry.DeviceKind]DeviceCount{}, Missing: []Item{}}
	var centre bool
	q := r.DB.Reader()
	if err := q.QueryRowContext(ctx, "SELECT name_ru, name_kk, headcount, regional_centre FROM schools WHERE id = ?", schoolID).Scan(&g.Name, &g.NameKK, &g.Headcount, &centre); err != nil {
		return g, errs.Wrap(err, "school")
	}
	req, err := r.Requirement(registry.School{Headcount: g.Headcount, RegionalCentre: centre}, kztime.Today(now))
	if err != nil {
		return g, err
	}
	g.Required = req
	all, err := readFacts(ctx, q, "s.id = ?", []any{schoolID}, now)
	if err != nil {
		return g, err
	}
	f := all[schoolID]
	if f == nil {
		f = &facts{kinds: map[registry.DeviceKind]*kindCount{}, guardWhy: noContract}
	}
	// Why each device that does not work does not, for the reasons.
	err = store.Each(ctx, q, func(rows *sql.Rows) error {
		var name string
		var k registry.DeviceKind
		var interval int
		var last sql.NullInt64
		var created int64
		if err := rows.Scan(&name, &k, &interval, &last, &created); err != nil {
			return err
		}
		why := DeviceWhy{Name: name, IntervalS: interval}
		// Supervision stamps a device it declares lost unheard with its
		// registration: that is still never heard.
		if last.Valid && last.Int64 != created {
			since := store.FromMicros(last.Int64)
			why.Since = &since
		}
		if c := f.kinds[k]; c != nil {
			c.failing = append(c.failing, why)
		}
		return nil
	}, `SELECT d.name, d.kind, d.reporting_interval_s, st.last_seen_at, d.created_at FROM devices d LEFT JOIN device_status st ON st.device_id = d.id
		WHERE d.school_id = ? AND NOT `+worksSQL+` ORDER BY d.id`, schoolID, store.Micros(now))
	if err != nil {
		return g, errs.Wrap(err, "devices")
	}
	for k, c := range f.kinds {
		g.Devices[k] = DeviceCount{Registered: c.total, Working: c.working}
	}
	g.Items = evaluate(req, f)
	for _, it := range g.Items {
		if !it.Met {
			g.Missing = append(g.Missing, it)
		}
	}
	g.Compliant = len(g.Missing) == 0
	return g, nil
}

// Declaration is what a school declares that Qorgan cannot see yet: its
// cameras' connection to the ЦОУ (a later issue verifies it with live
// probes), its video to the standard, the days its archive keeps.
type Declaration struct {
	COUConnected  bool `json:"cou_connected"`
	VideoStandard bool `json:"video_standard"`
	ArchiveDays   int  `json:"archive_days"`
}

// Declare records a school's declaration (who may change its devices may).
func (r *Roadmap) Declare(ctx context.Context, p auth.Principal, schoolID int64, d Declaration) (Declaration, error) {
	if err := registry.AtSchool(ctx, r.DB.Reader(), p, r.today(), schoolID, auth.WriteDevices); err != nil {
		return d, err
	}
	if d.ArchiveDays < 0 || d.ArchiveDays > 3660 {
		return d, errs.Invalidf("archive_days", "archive_days must be 0 to 3660, got %d", d.ArchiveDays)
	}
	now := r.Now()
	err := r.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO roadmap_declarations (school_id, cou_connected, video_standard, archive_days, declared_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (school_id) DO UPDATE SET cou_connected = excluded.cou_connected, video_standard = excluded.video_standard,
			archive_days = excluded.archive_days, declared_at = excluded.declared_at`, schoolID, d.COUConnected, d.VideoStandard, d.ArchiveDays, store.Micros(now)); err != nil {
			return err
		}
		return auth.Append(ctx, tx, now, p, "roadmap.declare", fmt.Sprintf("school/%d", schoolID), d)
	})
	return d, err
}
