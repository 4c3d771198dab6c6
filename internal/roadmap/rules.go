package roadmap

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"qorgan/internal/errs"
	"qorgan/internal/registry"
	"qorgan/internal/store"
)

//go:embed rules/*.json
var shippedRules embed.FS

// Source is where a requirement comes from: the act, the clause, and the
// level of evidence (act, title, official, secondary, default). The act and
// the clause are in English, and in Russian and Kazakh as officials cite
// them; a translation is not the law, so a set may lack one (see In).
type Source struct {
	Act      string `json:"act"`
	ActRU    string `json:"act_ru,omitempty"`
	ActKK    string `json:"act_kk,omitempty"`
	Clause   string `json:"clause"`
	ClauseRU string `json:"clause_ru,omitempty"`
	ClauseKK string `json:"clause_kk,omitempty"`
	Level    string `json:"level"`
}

// In returns the act and the clause in lang (kk, ru or en), each in
// English where the set gives no text in that language.
func (s Source) In(lang string) (act, clause string) {
	return inLang(lang, s.Act, s.ActRU, s.ActKK), inLang(lang, s.Clause, s.ClauseRU, s.ClauseKK)
}

func inLang(lang, en, ru, kk string) string {
	switch {
	case lang == "ru" && ru != "":
		return ru
	case lang == "kk" && kk != "":
		return kk
	}
	return en
}

// Band is a headcount range [From, To] (To nil: no upper bound) and the
// items a school in it must have.
type Band struct {
	From    int   `json:"from"`
	To      *int  `json:"to,omitempty"`
	Require []Key `json:"require"`
}

// RuleSet is the law on a date: from EffectiveFrom until the next set.
// A change of law is a new set with a new date.
type RuleSet struct {
	ID            string         `json:"id"`
	EffectiveFrom string         `json:"effective_from"`
	Title         string         `json:"title"`
	TitleRU       string         `json:"title_ru,omitempty"`
	TitleKK       string         `json:"title_kk,omitempty"`
	UTOFrom       int            `json:"uto_from"` // headcount from which a school is an УТО object
	Requirements  map[Key]Source `json:"requirements"`
	Bands         []Band         `json:"bands"`
	// RegionalCentre is what every УТО school in a regional centre must
	// have, whatever its headcount.
	RegionalCentre []Key `json:"regional_centre"`
}

// TitleIn is the set's title in lang (kk, ru or en), in English where the
// set gives none in that language.
func (s RuleSet) TitleIn(lang string) string { return inLang(lang, s.Title, s.TitleRU, s.TitleKK) }

// Untranslated lists the texts of the set that have no Russian or no
// Kazakh version ("title/kk", "video/act/ru", ...), sorted.
func (s RuleSet) Untranslated() []string {
	var out []string
	miss := func(where, ru, kk string) {
		if ru == "" {
			out = append(out, where+"/ru")
		}
		if kk == "" {
			out = append(out, where+"/kk")
		}
	}
	miss("title", s.TitleRU, s.TitleKK)
	for k, src := range s.Requirements {
		miss(string(k)+"/act", src.ActRU, src.ActKK)
		miss(string(k)+"/clause", src.ClauseRU, src.ClauseKK)
	}
	sort.Strings(out)
	return out
}

// law is the set without its translations: what a stored set must keep.
func (s RuleSet) law() RuleSet {
	s.TitleRU, s.TitleKK = "", ""
	req := make(map[Key]Source, len(s.Requirements))
	for k, src := range s.Requirements {
		src.ActRU, src.ActKK, src.ClauseRU, src.ClauseKK = "", "", "", ""
		req[k] = src
	}
	s.Requirements = req
	return s
}

// withTranslationsOf is s with each translation it lacks taken from old, so
// that an older binary's set, translated less, takes none away.
func (s RuleSet) withTranslationsOf(old RuleSet) RuleSet {
	keep := func(v *string, o string) {
		if *v == "" {
			*v = o
		}
	}
	keep(&s.TitleRU, old.TitleRU)
	keep(&s.TitleKK, old.TitleKK)
	req := make(map[Key]Source, len(s.Requirements))
	for k, src := range s.Requirements {
		o := old.Requirements[k]
		keep(&src.ActRU, o.ActRU)
		keep(&src.ActKK, o.ActKK)
		keep(&src.ClauseRU, o.ClauseRU)
		keep(&src.ClauseKK, o.ClauseKK)
		req[k] = src
	}
	s.Requirements = req
	return s
}

// ParseRuleSet reads a rule set and validates it.
func ParseRuleSet(b []byte) (RuleSet, error) {
	var s RuleSet
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, errs.Invalidf("rule_set", "not a rule set: %v", err)
	}
	return s, s.Validate()
}

// Validate refuses a rule set that leaves a headcount uncovered, covers
// one twice, requires something below the УТО threshold or nothing from
// it, names an item it gives no source for, or asks less of a larger
// school than of a smaller one — with the reason.
func (s RuleSet) Validate() error {
	if s.ID == "" {
		return errs.Invalidf("id", "a rule set needs an id")
	}
	if _, err := time.Parse(time.DateOnly, s.EffectiveFrom); err != nil {
		return errs.Invalidf("effective_from", "rule set %s: effective_from must be a date YYYY-MM-DD, got %q", s.ID, s.EffectiveFrom)
	}
	if s.UTOFrom <= 0 {
		return errs.Invalidf("uto_from", "rule set %s: uto_from must be a positive headcount", s.ID)
	}
	for k, src := range s.Requirements {
		if !knownItem(k) {
			return errs.Invalidf("requirements", "rule set %s: unknown item %q", s.ID, k)
		}
		if src.Act == "" || src.Clause == "" {
			return errs.Invalidf("requirements", "rule set %s: item %s needs its act and clause", s.ID, k)
		}
	}
	check := func(where string, keys []Key) error {
		seen := map[Key]bool{}
		for _, k := range keys {
			if _, ok := s.Requirements[k]; !ok {
				return errs.Invalidf("bands", "rule set %s: %s requires %q, which has no source in requirements", s.ID, where, k)
			}
			if seen[k] {
				return errs.Invalidf("bands", "rule set %s: %s names %q twice", s.ID, where, k)
			}
			seen[k] = true
		}
		return nil
	}
	if len(s.Bands) == 0 {
		return errs.Invalidf("bands", "rule set %s: no headcount bands", s.ID)
	}
	bands := slices.Clone(s.Bands)
	sort.Slice(bands, func(i, j int) bool { return bands[i].From < bands[j].From })
	next := 0
	var prev []Key
	utoStarts := false
	for i, b := range bands {
		where := fmt.Sprintf("band from %d", b.From)
		switch {
		case b.From > next:
			return errs.Invalidf("bands", "rule set %s: headcounts %d to %d are in no band", s.ID, next, b.From-1)
		case b.From < next:
			return errs.Invalidf("bands", "rule set %s: headcount %d is in two bands", s.ID, b.From)
		}
		if b.To == nil {
			if i != len(bands)-1 {
				return errs.Invalidf("bands", "rule set %s: %s has no upper bound but is not the last", s.ID, where)
			}
			next = math.MaxInt
		} else {
			if *b.To < b.From {
				return errs.Invalidf("bands", "rule set %s: %s ends at %d, before it starts", s.ID, where, *b.To)
			}
			next = *b.To + 1
		}
		if err := check(where, b.Require); err != nil {
			return err
		}
		if b.From == s.UTOFrom {
			utoStarts = true
		}
		below := b.To != nil && *b.To < s.UTOFrom
		if below && len(b.Require) > 0 {
			return errs.Invalidf("bands", "rule set %s: %s is below the УТО threshold of %d yet requires %v", s.ID, where, s.UTOFrom, b.Require)
		}
		if !below && b.From < s.UTOFrom {
			return errs.Invalidf("bands", "rule set %s: %s straddles the УТО threshold of %d", s.ID, where, s.UTOFrom)
		}
		if !below && len(b.Require) == 0 {
			return errs.Invalidf("bands", "rule set %s: %s is УТО yet requires nothing", s.ID, where)
		}
		for _, k := range prev {
			if !slices.Contains(b.Require, k) {
				return errs.Invalidf("bands", "rule set %s: %s drops %q that a smaller school must have", s.ID, where, k)
			}
		}
		prev = b.Require
	}
	if next != math.MaxInt {
		return errs.Invalidf("bands", "rule set %s: headcounts from %d are in no band", s.ID, next)
	}
	if !utoStarts {
		return errs.Invalidf("bands", "rule set %s: no band starts at the УТО threshold %d", s.ID, s.UTOFrom)
	}
	return check("regional_centre", s.RegionalCentre)
}

// ShippedRuleSets are the rule sets in the binary, oldest first.
func ShippedRuleSets() ([]RuleSet, error) {
	files, err := fs.Glob(shippedRules, "rules/*.json")
	if err != nil {
		return nil, err
	}
	var out []RuleSet
	for _, f := range files {
		b, _ := shippedRules.ReadFile(f)
		s, err := ParseRuleSet(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].EffectiveFrom < out[j].EffectiveFrom })
	return out, nil
}

// AddRuleSet validates a rule set and stores it; one with the id of a
// stored set must be that set, unchanged (law is amended by a new set) but
// for the Russian and Kazakh texts of its title, acts and clauses, which it
// may add or correct.
func (r *Roadmap) AddRuleSet(ctx context.Context, body []byte) (RuleSet, error) {
	s, err := ParseRuleSet(body)
	if err != nil {
		return s, err
	}
	if err := r.storeRuleSet(ctx, s); err != nil {
		return s, err
	}
	return s, r.readRuleSets(ctx)
}

func (r *Roadmap) storeRuleSet(ctx context.Context, s RuleSet) error {
	body, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return r.DB.InTx(ctx, func(tx *store.Tx) error {
		var old string
		err := tx.QueryRowContext(ctx, "SELECT body FROM roadmap_rule_sets WHERE id = ?", s.ID).Scan(&old)
		switch {
		case err == nil:
			if old == string(body) {
				return nil
			}
			var was RuleSet
			if err := json.Unmarshal([]byte(old), &was); err != nil {
				return errs.Wrap(err, "stored rule set "+s.ID)
			}
			a, _ := json.Marshal(was.law())
			b, _ := json.Marshal(s.law())
			if !bytes.Equal(a, b) {
				return errs.E(errs.Conflict, "id", "rule set %s is stored already with other rules; a change of law is a new set with a new date", s.ID)
			}
			// Only the translations differ: they are not the law.
			body, err := json.Marshal(s.withTranslationsOf(was))
			if err != nil || string(body) == old {
				return err
			}
			_, err = tx.ExecContext(ctx, "UPDATE roadmap_rule_sets SET body = ? WHERE id = ?", string(body), s.ID)
			return err
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO roadmap_rule_sets (id, effective_from, title, body, loaded_at) VALUES (?, ?, ?, ?, ?)",
			s.ID, s.EffectiveFrom, s.Title, string(body), store.Micros(r.Now()))
		if store.IsUniqueViolation(err) {
			return errs.E(errs.Conflict, "effective_from", "another rule set takes effect on %s", s.EffectiveFrom)
		}
		return err
	})
}

func (r *Roadmap) readRuleSets(ctx context.Context) error {
	sets, err := store.Collect(ctx, r.DB.Reader(), func(rows *sql.Rows) (RuleSet, error) {
		var body string
		var s RuleSet
		if err := rows.Scan(&body); err != nil {
			return s, err
		}
		return s, json.Unmarshal([]byte(body), &s)
	}, "SELECT body FROM roadmap_rule_sets ORDER BY effective_from")
	if err != nil {
		return errs.Wrap(err, "rule sets")
	}
	r.mu.Lock()
	r.sets = sets
	r.mu.Unlock()
	return nil
}

// RuleSets returns the rule sets in force at some time, oldest first.
func (r *Roadmap) RuleSets() []RuleSet {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.sets)
}

// RuleSet returns the rule set held under id, and false when none is.
func (r *Roadmap) RuleSet(id string) (RuleSet, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, s := range r.sets {
		if s.ID == id {
			return s, true
		}
	}
	return RuleSet{}, false
}

// RuleSetOn returns the rule set in force on a day.
func (r *Roadmap) RuleSetOn(day time.Time) (RuleSet, error) {
	d := day.Format(time.DateOnly)
	r.mu.RLock()
	defer r.mu.RUnlock()
	for i := len(r.sets) - 1; i >= 0; i-- {
		if r.sets[i].EffectiveFrom <= d {
			return r.sets[i], nil
		}
	}
	return RuleSet{}, errs.Invalidf("as_of", "no rule set is in force on %s", d)
}

// Required is one item a school must have and the rule behind it.
type Required struct {
	Key    Key    `json:"key"`
	Source Source `json:"source"`
}

// Requirement is what a school must have on a day, under which rule set.
type Requirement struct {
	RuleSet string     `json:"rule_set"`
	AsOf    string     `json:"as_of"`
	UTO     bool       `json:"uto"`
	Items   []Required `json:"items"`
}

// Has reports whether the requirement names k.
func (q Requirement) Has(k Key) bool {
	for _, it := range q.Items {
		if it.Key == k {
			return true
		}
	}
	return false
}

// Requirement says what a school must have on a day: its headcount's band,
// and for an УТО school in a regional centre that list too.
func (r *Roadmap) Requirement(s registry.School, asOf time.Time) (Requirement, error) {
	set, err := r.RuleSetOn(asOf)
	if err != nil {
		return Requirement{}, err
	}
	return set.Requirement(s.Headcount, s.RegionalCentre, asOf), nil
}

// Requirement is the set's answer for a headcount, in or out of a
// regional centre.
func (s RuleSet) Requirement(headcount int, regionalCentre bool, asOf time.Time) Requirement {
	q := Requirement{RuleSet: s.ID, AsOf: asOf.Format(time.DateOnly), UTO: headcount >= s.UTOFrom, Items: []Required{}}
	if !q.UTO {
		return q
	}
	want := map[Key]bool{}
	for _, b := range s.Bands {
		if headcount >= b.From && (b.To == nil || headcount <= *b.To) {
			for _, k := range b.Require {
				want[k] = true
			}
		}
	}
	if regionalCentre {
		for _, k := range s.RegionalCentre {
			want[k] = true
		}
	}
	for _, k := range ItemKeys {
		if want[k] {
			q.Items = append(q.Items, Required{Key: k, Source: s.Requirements[k]})
		}
	}
	return q
}

var (
	shippedOnce sync.Once
	shipped     []RuleSet
)

// RequiredKinds is the equipment the shipped rules require on a day of a
// school of a headcount, in or out of a regional centre: the kinds of
// device behind its items, for generating data that follows the law
// without a store.
func RequiredKinds(headcount int, regionalCentre bool, on time.Time) []registry.DeviceKind {
	shippedOnce.Do(func() {
		var err error
		if shipped, err = ShippedRuleSets(); err != nil {
			panic(err) // the shipped files are tested
		}
	})
	d := on.Format(time.DateOnly)
	var out []registry.DeviceKind
	for i := len(shipped) - 1; i >= 0; i-- {
		if shipped[i].EffectiveFrom <= d {
			for _, it := range shipped[i].Requirement(headcount, regionalCentre, on).Items {
				if k, ok := kindOf[it.Key]; ok {
					out = append(out, k)
				}
			}
			break
		}
	}
	return out
}
