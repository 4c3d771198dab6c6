// Package demo generates Qorgan's demonstration dataset: every region, schools
// at a chosen scale with pupils, guardians, staff and the devices the rules
// require (some schools deliberately short of them), security providers with
// contracts, police units, and a login for every role. The same options give
// the same data on every machine.
package demo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/registry"
	"qorgan/internal/roadmap"
	"qorgan/internal/store"
)

// Options say how much to generate.
type Options struct {
	// Scale is the share of the country's schools to generate (1 = about
	// 7,800 schools and 3.9 million pupils).
	Scale float64
	// Seed varies the data; the default 2026 is what the README describes.
	Seed uint64
	// Password is every demo login's password.
	Password string
	// Progress, if set, is called as schools are written.
	Progress func(done, total int)
}

// DefaultPassword is the demo logins' password unless another is given.
const DefaultPassword = "qorgan-demo-2026"

// The demo panels of the first school, for the alarm work.
const (
	PlainAccount     = "1234"
	EncryptedAccount = "5678"
	EncryptedKeyText = "0123456789abcdef"
)

// Login is a demo account.
type Login struct {
	Login    string     `json:"login"`
	Password string     `json:"password"`
	Role     auth.Role  `json:"role"`
	Scope    auth.Scope `json:"scope"`
	FullName string     `json:"full_name"` // the name the console shows, as a real installation's
	Note     string     `json:"note"`      // what the login is for
}

// Result says what was generated.
type Result struct {
	Schools, Pupils, Guardians, Staff, Devices, Providers, Contracts, PoliceUnits int
	// ShortSchools is how many УТО schools lack a required kind of device.
	ShortSchools int
	Logins       []Login
	Took         time.Duration
}

type plan struct {
	region   registry.Region
	schools  int
	pupilsOf []int
}

// Load writes the demo dataset into an empty registry.
func Load(ctx context.Context, db *store.DB, a *auth.Service, opt Options) (Result, error) {
	start := time.Now()
	if opt.Scale <= 0 || opt.Scale > 1 {
		return Result{}, errs.Invalidf("scale", "scale must be in (0, 1], got %g", opt.Scale)
	}
	if opt.Seed == 0 {
		opt.Seed = 2026
	}
	if opt.Password == "" {
		opt.Password = DefaultPassword
	}
	if len(opt.Password) < 10 {
		return Result{}, errs.Invalidf("password", "the demo password must have at least 10 characters")
	}
	if err := registry.SeedRegions(ctx, db); err != nil {
		return Result{}, err
	}
	var n int
	if err := db.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM schools").Scan(&n); err != nil {
		return Result{}, err
	}
	if n > 0 {
		return Result{}, errs.E(errs.Conflict, "", "the database already holds %d schools; the demo loads only into an empty one", n)
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x51a7e))
	g := &gen{db: db, rng: rng, now: time.Now().UTC(), opt: opt}
	g.districts, g.districtNames = map[string][]string{}, map[string]string{}
	for _, d := range registry.Districts() {
		g.districts[d.RegionCode] = append(g.districts[d.RegionCode], d.Code)
		g.districtNames[d.Code] = d.NameRU
	}
	var plans []plan
	total := 0
	for _, r := range registry.Regions() {
		k := max(1, int(math.Round(float64(r.Schools)*opt.Scale)))
		target := float64(r.Pupils) * float64(k) / float64(r.Schools)
		w := make([]float64, k)
		sum := 0.0
		for i := range w {
			// About a quarter of schools are small rural ones.
			if rng.Float64() < 0.25 && !cities[r.Code] {
				w[i] = 0.05 + 0.3*rng.Float64()
			} else {
				w[i] = 0.6 + 1.2*rng.Float64()
			}
			sum += w[i]
		}
		p := plan{region: r, schools: k, pupilsOf: make([]int, k)}
		for i := range w {
			p.pupilsOf[i] = max(8, int(math.Round(w[i]/sum*target)))
		}
		plans = append(plans, p)
		total += k
	}
	// The first school is a large one in a regional centre, with every kind of
	// device, a provider and a police unit: the alarm demo runs there.
	if plans[0].pupilsOf[0] < 900 {
		plans[0].pupilsOf[0] = 900
	}
	if err := g.providersAndPolice(ctx, plans); err != nil {
		return Result{}, err
	}
	done := 0
	for _, p := range plans {
		for i := 0; i < p.schools; i += 50 {
			end := min(i+50, p.schools)
			if err := db.InTx(ctx, func(tx *store.Tx) error { return g.schools(ctx, tx, p, i, end) }); err != nil {
				return Result{}, fmt.Errorf("demo: region %s: %w", p.region.Code, err)
			}
			done += end - i
			if opt.Progress != nil {
				opt.Progress(done, total)
			}
		}
	}
	if err := db.SyncIDs(ctx, "schools", "pupils", "guardians", "staff", "devices", "providers", "contracts", "police_units"); err != nil {
		return Result{}, err
	}
	logins, err := g.logins(ctx, a)
	if err != nil {
		return Result{}, err
	}
	g.res.Logins = logins
	err = db.InTx(ctx, func(tx *store.Tx) error {
		return auth.Append(ctx, tx, g.now, auth.System, "demo.load", "registry", map[string]any{
			"scale": opt.Scale, "seed": opt.Seed, "schools": g.res.Schools, "pupils": g.res.Pupils, "guardians": g.res.Guardians})
	})
	g.res.Took = time.Since(start)
	return g.res, err
}

type gen struct {
	db            *store.DB
	rng           *rand.Rand
	now           time.Time
	opt           Options
	res           Result
	districts     map[string][]string // region → its districts' codes
	districtNames map[string]string   // district code → its (Russian) name

	schoolID, pupilID, guardianID, staffID, deviceID, contractID int64
	providersOf                                                  map[string][]int64 // region → provider ids
	utoProviders                                                 map[int64]bool
	binSerial                                                    int
}

// bin makes a valid BIN registered in the given year and month.
func (g *gen) bin(yymm string, branch bool) string {
	attr := "0"
	if branch {
		attr = "1"
	}
	for {
		g.binSerial++
		if b, ok := registry.MakeBIN(fmt.Sprintf("%s4%s%05d", yymm, attr, g.binSerial%100000)); ok {
			return b
		}
	}
}

func (g *gen) providersAndPolice(ctx context.Context, plans []plan) error {
	g.providersOf = map[string][]int64{}
	g.utoProviders = map[int64]bool{}
	t := g.now.UnixMicro()
	return g.db.InTx(ctx, func(tx *store.Tx) error {
		for _, p := range plans {
			r := p.region
			for i := 0; i < 3; i++ {
				uto := i < 2
				expires := g.now.AddDate(1+i, 0, 0).Format(time.DateOnly)
				in := registry.ProviderInput{
					Name:      fmt.Sprintf("«Күзет-%s-%d» ЖШС", r.Code[:2], i+1),
					BIN:       g.bin(fmt.Sprintf("%02d%02d", 10+g.rng.IntN(14), 1+g.rng.IntN(12)), false),
					LicenceNo: fmt.Sprintf("KZ%02dLSS%07d", i, g.rng.IntN(10_000_000)), LicenceUTO: uto, LicenceExpires: expires,
				}
				v, err := registry.InsertProvider(ctx, tx, t, in)
				if err != nil {
					return err
				}
				g.providersOf[r.Code] = append(g.providersOf[r.Code], v.ID)
				g.utoProviders[v.ID] = uto
				g.res.Providers++
			}
			if _, err := registry.InsertPoliceUnit(ctx, tx, t, registry.PoliceUnit{
				NameKK: r.NameKK + " ПД Жедел басқару орталығы", NameRU: "ЦОУ ДП " + r.NameRU, RegionCode: r.Code}); err != nil {
				return err
			}
			g.res.PoliceUnits++
			for i, d := range g.districts[r.Code] {
				if i >= 3 {
					break
				}
				if _, err := registry.InsertPoliceUnit(ctx, tx, t, registry.PoliceUnit{
					NameKK: "ПБ ЖБО: " + g.districtNames[d], NameRU: "ЦОУ ОП: " + g.districtNames[d], RegionCode: r.Code, DistrictCode: d}); err != nil {
					return err
				}
				g.res.PoliceUnits++
			}
		}
		return nil
	})
}

var places = []string{"Главный вход", "Запасный выход", "Коридор 1 этажа", "Коридор 2 этажа", "Лестница", "Столовая", "Спортзал", "Актовый зал", "Двор", "Периметр"}

func (g *gen) schools(ctx context.Context, tx *store.Tx, p plan, from, to int) error {
	t := g.now.UnixMicro()
	r := p.region
	schools := tx.NewBulk("schools", "id", "code", "bin", "parent_bin", "name_kk", "name_ru", "region_code", "district_code", "address", "lat", "lon",
		"urban", "regional_centre", "shifts", "headcount", "created_at", "updated_at")
	pupils := tx.NewBulk("pupils", "id", "school_id", "external_id", "last_name", "first_name", "middle_name", "class", "card_uid", "created_at", "updated_at").DependsOn(schools)
	guardians := tx.NewBulk("guardians", "id", "phone", "full_name", "email", "messenger_id", "language", "consent_given_on", "created_at", "updated_at")
	links := tx.NewBulk("pupil_guardians", "pupil_id", "guardian_id", "relation", "may_collect").DependsOn(pupils, guardians)
	staff := tx.NewBulk("staff", "id", "school_id", "external_id", "full_name", "position", "phone", "homeroom", "created_at", "updated_at").DependsOn(schools)
	devices := tx.NewBulk("devices", "id", "school_id", "kind", "name", "place", "dc09_account", "dc09_key", "reporting_interval_s", "created_at", "updated_at").DependsOn(schools)
	contracts := tx.NewBulk("contracts", "id", "provider_id", "school_id", "starts_on", "ends_on", "created_at").DependsOn(schools)
	declarations := tx.NewBulk("roadmap_declarations", "school_id", "cou_connected", "video_standard", "archive_days", "declared_at").DependsOn(schools)
	c := centres[r.Code]
	rng := g.rng
	for i := from; i < to; i++ {
		g.schoolID++
		sid := g.schoolID
		first := sid == 1
		npupils := p.pupilsOf[i]
		nstaff := 4 + min(npupils/15, 150)
		headcount := npupils + nstaff
		urban := cities[r.Code] || rng.Float64() < 0.32
		centre := cities[r.Code] || (urban && rng.Float64() < 0.5) || first
		var bin, parent any
		if npupils < 100 && !urban && rng.Float64() < 0.6 {
			parent = g.bin("1507", false) // a small school under its district department
		} else {
			bin = g.bin(fmt.Sprintf("%02d%02d", rng.IntN(25), 1+rng.IntN(12)), false)
		}
		var district any
		if ds := g.districts[r.Code]; len(ds) > 0 {
			district = ds[i%len(ds)]
		}
		shifts := `[{"start":"08:00","end":"13:30"}]`
		if npupils > 800 {
			shifts = `[{"start":"08:00","end":"13:30"},{"start":"14:00","end":"19:00"}]`
		}
		num := i + 1
		kind := "жалпы білім беретін мектеп"
		if urban && num%5 == 0 {
			kind = "мектеп-гимназия"
		}
		if err := schools.Add(ctx, sid, fmt.Sprintf("KZ%s-%05d", r.Code[:2], num), bin, parent,
			fmt.Sprintf("№%d %s", num, kind), fmt.Sprintf("Средняя школа №%d (%s)", num, r.NameRU),
			r.Code, district, fmt.Sprintf("%s, ул. Мектеп, %d", r.NameRU, 1+rng.IntN(200)),
			math.Round((c[0]+rng.NormFloat64()*0.4)*1e5)/1e5, math.Round((c[1]+rng.NormFloat64()*0.6)*1e5)/1e5,
			urban, centre, shifts, headcount, t, t); err != nil {
			return err
		}
		g.res.Schools++
		for k := 0; k < npupils; k++ {
			g.pupilID++
			pid := g.pupilID
			girl := rng.IntN(2) == 0
			sur := surnames[rng.IntN(len(surnames))]
			var name string
			if girl {
				name = girls[rng.IntN(len(girls))]
				sur = feminine(sur)
			} else {
				name = boys[rng.IntN(len(boys))]
			}
			class := fmt.Sprintf("%d%s", 1+rng.IntN(11), classLetters[rng.IntN(min(len(classLetters), 1+npupils/250))])
			// Multiplying by an odd constant is a bijection mod 2³², so
			// every pupil's card is different.
			card := fmt.Sprintf("%08X", uint32(pid)*2654435761)
			if err := pupils.Add(ctx, pid, sid, fmt.Sprintf("P%07d", k+1), sur, name, "", class, card, t, t); err != nil {
				return err
			}
			g.res.Pupils++
			ng := 1
			if rng.Float64() < 0.6 {
				ng = 2
			}
			for j := 0; j < ng; j++ {
				g.guardianID++
				gid := g.guardianID
				lang := "kk"
				switch x := rng.Float64(); {
				case x < 0.25:
					lang = "ru"
				case x < 0.28:
					lang = "en"
				}
				var consent any
				if rng.Float64() < 0.9 {
					consent = g.now.AddDate(0, -rng.IntN(12), -rng.IntN(28)).Format(time.DateOnly)
				}
				gname := boys[rng.IntN(len(boys))] + " " + surnames[rng.IntN(len(surnames))]
				rel := "father"
				if j == 0 {
					gname = girls[rng.IntN(len(girls))] + " " + feminine(surnames[rng.IntN(len(surnames))])
					rel = "mother"
				}
				email := ""
				if rng.Float64() < 0.5 {
					email = fmt.Sprintf("parent%d@example.kz", gid)
				}
				if err := guardians.Add(ctx, gid, fmt.Sprintf("+77%09d", gid), gname, email, "", lang, consent, t, t); err != nil {
					return err
				}
				if err := links.Add(ctx, pid, gid, rel, true); err != nil {
					return err
				}
				g.res.Guardians++
			}
		}
		letters := min(len(classLetters), 1+npupils/250)
		for k := 0; k < nstaff; k++ {
			g.staffID++
			pos := "teacher"
			// The first teachers lead the classes the pupils were given, in
			// order: grade 1 to 11 of each letter (no draw from rng, so the
			// rest of the dataset is as before).
			homeroom := ""
			if c := k - 4; c >= 0 && c < 11*letters {
				homeroom = fmt.Sprintf("%d%s", 1+c%11, classLetters[c/11])
			}
			switch k {
			case 0:
				pos = "director"
			case 1:
				pos = "safety_officer"
			case 2, 3:
				pos = "guard"
			}
			if err := staff.Add(ctx, g.staffID, sid, fmt.Sprintf("S%05d", k+1), boys[rng.IntN(len(boys))]+" "+surnames[rng.IntN(len(surnames))], pos,
				fmt.Sprintf("+77%09d", 900_000_000+g.staffID), homeroom, t, t); err != nil {
				return err
			}
			g.res.Staff++
		}
		// Devices as the rules require; one УТО school in seven is short of a kind.
		req := roadmap.RequiredKinds(headcount, centre, g.now)
		skip := registry.DeviceKind("")
		if len(req) > 0 && !first && rng.IntN(7) == 0 {
			skip = req[rng.IntN(len(req))]
			g.res.ShortSchools++
		}
		addDevice := func(kind registry.DeviceKind, name, place string, account, key any, interval int) error {
			g.deviceID++
			g.res.Devices++
			return devices.Add(ctx, g.deviceID, sid, string(kind), name, place, account, key, interval, t, t)
		}
		for _, kind := range req {
			if kind == skip {
				continue
			}
			var err error
			switch kind {
			case registry.Camera:
				for k := 0; k < min(4+headcount/100, 32); k++ {
					if err = addDevice(kind, fmt.Sprintf("Камера %d", k+1), places[k%len(places)], nil, nil, 0); err != nil {
						return err
					}
				}
			case registry.PanicButton:
				for k, place := range []string{"Пост охраны у входа", "Дежурный учитель", "Кабинет директора"} {
					if err = addDevice(kind, fmt.Sprintf("Тревожная кнопка %d", k+1), place, nil, nil, 0); err != nil {
						return err
					}
				}
				// The building's panel reports the buttons over DC-09 and
				// sends a daily test (supervision: EN 50136 DP1, 25 h).
				account := fmt.Sprintf("%06X", 0x100000+sid)
				if err = addDevice(registry.AlarmPanel, "Охранная панель", "Пост охраны", account, nil, registry.SupervisionPresets["DP1"]); err != nil {
					return err
				}
			case registry.Turnstile:
				for k := 0; k < 2+headcount/500; k++ {
					if err = addDevice(kind, fmt.Sprintf("Турникет %d", k+1), "Главный вход", nil, nil, 0); err != nil {
						return err
					}
				}
			default:
				if err = addDevice(kind, "Система оповещения", "Вся школа", nil, nil, 0); err != nil {
					return err
				}
			}
		}
		if first {
			if err := addDevice(registry.AlarmPanel, "Тревожная панель (DC-09, открытая)", "Пост охраны у входа", PlainAccount, nil, 0); err != nil {
				return err
			}
			if err := addDevice(registry.AlarmPanel, "Тревожная панель (DC-09, AES-128)", "Кабинет директора", EncryptedAccount, []byte(EncryptedKeyText), 0); err != nil {
				return err
			}
		}
		// About 72% of schools have a security provider under contract.
		if ps := g.providersOf[r.Code]; first || rng.Float64() < 0.72 {
			g.contractID++
			pv := ps[rng.IntN(len(ps))]
			if first {
				pv = ps[0]
			}
			if err := contracts.Add(ctx, g.contractID, pv, sid, g.now.AddDate(0, -3, 0).Format(time.DateOnly), g.now.AddDate(1, 0, 0).Format(time.DateOnly), t); err != nil {
				return err
			}
			g.res.Contracts++
		}
		// What the school declares for the roadmap, drawn from the school's
		// id rather than the generator, so that the rest of the data stays
		// as it was: about 70% of cameras connected to the ЦОУ, 81% of
		// video to the standard, 90% of archives kept 30 days.
		h := int((uint64(sid) * 2654435761) % 1000)
		archive := 30
		if h%10 == 0 {
			archive = 14
		}
		if err := declarations.Add(ctx, sid, h < 700, (h*7)%1000 < 810, archive, t); err != nil {
			return err
		}
	}
	for _, b := range []*store.Bulk{schools, pupils, guardians, links, staff, devices, contracts, declarations} {
		if err := b.Flush(ctx); err != nil {
			return err
		}
	}
	return nil
}

// logins creates one demo account for every role, scoped to the first school
// and its region where a scope is needed.
func (g *gen) logins(ctx context.Context, a *auth.Service) ([]Login, error) {
	q := g.db.Reader()
	var region, district string
	if err := q.QueryRowContext(ctx, "SELECT region_code FROM schools WHERE id = 1").Scan(&region); err != nil {
		return nil, err
	}
	q.QueryRowContext(ctx, "SELECT COALESCE(MIN(district_code), '') FROM schools WHERE district_code IS NOT NULL").Scan(&district)
	pv, _, err := registry.ProviderOnDuty(ctx, q, 1, kztime.Today(g.now))
	if err != nil {
		return nil, err
	}
	pu, _, err := registry.PoliceUnitFor(ctx, q, 1)
	if err != nil {
		return nil, err
	}
	// The parent login is a guardian of a child of school 1, who has given
	// consent, and whose child has another guardian too, so that what one
	// guardian sees of the other shows.
	var guardian int64
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(
		(SELECT MIN(pg.guardian_id) FROM pupil_guardians pg JOIN pupils p ON p.id = pg.pupil_id JOIN guardians g ON g.id = pg.guardian_id
			WHERE p.school_id = 1 AND g.consent_given_on IS NOT NULL AND (SELECT COUNT(*) FROM pupil_guardians o WHERE o.pupil_id = p.id) > 1),
		(SELECT MIN(pg.guardian_id) FROM pupil_guardians pg JOIN pupils p ON p.id = pg.pupil_id WHERE p.school_id = 1))`).Scan(&guardian); err != nil {
		return nil, err
	}
	// The school's people sign in under the names the registry has for
	// them: the director and a guard on the school's staff, the parent as
	// the guardian; the others have names of their own.
	var director, guard1, guard2, parent string
	for _, n := range []struct {
		to    *string
		query string
		arg   int64
	}{
		{&director, "SELECT full_name FROM staff WHERE school_id = ? AND position = 'director' ORDER BY id LIMIT 1", 1},
		{&guard1, "SELECT full_name FROM staff WHERE school_id = ? AND position = 'guard' ORDER BY id LIMIT 1", 1},
		{&guard2, "SELECT full_name FROM staff WHERE school_id = ? AND position = 'guard' ORDER BY id LIMIT 1", 2},
		{&parent, "SELECT full_name FROM guardians WHERE id = ?", guardian},
	} {
		if err := q.QueryRowContext(ctx, n.query, n.arg).Scan(n.to); err != nil {
			return nil, fmt.Errorf("demo login's name: %w", err)
		}
	}
	id := func(n int64) string { return fmt.Sprint(n) }
	ls := []Login{
		{Login: "admin", Role: auth.RoleAdmin, Scope: auth.Scope{Kind: auth.ScopeInstallation}, FullName: "Ержан Сейітов", Note: "system administrator"},
		{Login: "analyst", Role: auth.RoleAnalyst, Scope: auth.Scope{Kind: auth.ScopeNation}, FullName: "Ольга Смирнова", Note: "ministry analyst, the nation, read-only"},
		{Login: "region", Role: auth.RoleEducation, Scope: auth.Scope{Kind: auth.ScopeRegion, Ref: region}, FullName: "Гүлмира Оспанова",
			Note: "education department of the first school's region"},
		{Login: "director", Role: auth.RoleDirector, Scope: auth.Scope{Kind: auth.ScopeSchool, Ref: "1"}, FullName: director, Note: "director of school 1"},
		{Login: "guard", Role: auth.RoleGuard, Scope: auth.Scope{Kind: auth.ScopeSchool, Ref: "1"}, FullName: guard1, Note: "guard of school 1"},
		{Login: "guard2", Role: auth.RoleGuard, Scope: auth.Scope{Kind: auth.ScopeSchool, Ref: "2"}, FullName: guard2, Note: "guard of school 2 (another school)"},
		{Login: "pcn", Role: auth.RolePCNOperator, Scope: auth.Scope{Kind: auth.ScopeProvider, Ref: id(pv.ID)}, FullName: "Асқар Нұрланов", Note: "ПЦН operator of " + pv.Name},
		{Login: "cou", Role: auth.RoleCOUOperator, Scope: auth.Scope{Kind: auth.ScopePoliceUnit, Ref: id(pu.ID)}, FullName: "Андрей Петренко", Note: "ЦОУ operator, " + pu.NameRU},
		{Login: "parent", Role: auth.RoleGuardian, Scope: auth.Scope{Kind: auth.ScopeGuardian, Ref: id(guardian)}, FullName: parent, Note: "guardian of a pupil of school 1"},
	}
	if district != "" {
		ls = append(ls, Login{Login: "district", Role: auth.RoleEducation, Scope: auth.Scope{Kind: auth.ScopeDistrict, Ref: district}, FullName: "Тимур Исаев",
			Note: "education department of district " + district})
	}
	hash, err := auth.HashPassword(g.opt.Password)
	if err != nil {
		return nil, err
	}
	for i := range ls {
		ls[i].Password = g.opt.Password
		if _, err := a.CreateUser(ctx, auth.System, auth.NewUser{Login: ls[i].Login, FullName: ls[i].FullName, PasswordHash: hash, Role: ls[i].Role, Scope: ls[i].Scope}); err != nil {
			return nil, fmt.Errorf("demo login %s: %w", ls[i].Login, err)
		}
	}
	return ls, nil
}
