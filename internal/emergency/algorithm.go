package emergency

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/store"
	"qorgan/internal/text"
)

// Role is whose checklist a step is on (the unified action algorithm's
// roles), not a sign-in role.
type Role string

const (
	Pupil            Role = "pupil"
	Teacher          Role = "teacher"
	Administration   Role = "administration"
	Guard            Role = "guard"
	SecurityProvider Role = "security_provider"
	Parents          Role = "parents"
)

// Roles lists every checklist role.
var Roles = []Role{Pupil, Teacher, Administration, Guard, SecurityProvider, Parents}

// Languages are those every step is written in.
var Languages = []string{"kk", "ru", "en"}

// Text is one step in each language.
type Text struct {
	KK string `json:"kk"`
	RU string `json:"ru"`
	EN string `json:"en"`
}

// In returns the text in lang (Kazakh when lang is unknown).
func (t Text) In(lang string) string {
	switch lang {
	case "ru":
		return t.RU
	case "en":
		return t.EN
	}
	return t.KK
}

// Algorithm is the action algorithm: the steps of each role in each scenario.
type Algorithm map[Scenario]map[Role][]Text

//go:embed algorithm.json
var shipped []byte

// Shipped returns the algorithm shipped in the binary (version 1 of a new
// installation).
func Shipped() Algorithm {
	var a Algorithm
	if err := json.Unmarshal(shipped, &a); err != nil {
		panic("emergency: algorithm.json: " + err.Error())
	}
	return a
}

// Validate checks that every scenario has steps for every role in every
// language, and nothing else; problems name the scenario, role and step.
func (a Algorithm) Validate() error {
	var probs []*errs.Error
	for sc := range a {
		if !validScenario(sc) {
			probs = append(probs, errs.Invalidf(string(sc), "unknown scenario %q", sc))
		}
	}
	for _, sc := range Scenarios {
		for r := range a[sc] {
			if !validRole(r) {
				probs = append(probs, errs.Invalidf(fmt.Sprintf("%s/%s", sc, r), "unknown role %q", r))
			}
		}
		for _, r := range Roles {
			steps := a[sc][r]
			if len(steps) == 0 || len(steps) > 30 {
				probs = append(probs, errs.Invalidf(fmt.Sprintf("%s/%s", sc, r), "1–30 steps are required for %s in %s", r, sc))
			}
			for i, st := range steps {
				for _, l := range Languages {
					v := st.In(l)
					f := fmt.Sprintf("%s/%s/%d/%s", sc, r, i, l)
					if msg := text.Check(v, text.Line); msg != "" {
						probs = append(probs, errs.Invalidf(f, "step %s", msg))
					} else if strings.TrimSpace(v) == "" || len(v) > 500 {
						probs = append(probs, errs.Invalidf(f, "the step is required in %s, at most 500 bytes", l))
					}
				}
			}
		}
	}
	return errs.Of(probs)
}

func validRole(r Role) bool {
	return slices.Contains(Roles, r)
}

// currentAlgorithm returns the newest version, storing the shipped one as
// the first when there is none.
func currentAlgorithm(ctx context.Context, tx *store.Tx, now time.Time) (int64, error) {
	var v sql.NullInt64
	if err := tx.QueryRowContext(ctx, "SELECT MAX(version) FROM emergency_algorithms").Scan(&v); err != nil {
		return 0, errs.Wrap(err, "algorithm")
	}
	if v.Valid {
		return v.Int64, nil
	}
	err := tx.QueryRowContext(ctx, "INSERT INTO emergency_algorithms (created_at, created_by, body) VALUES (?, 'shipped', ?) RETURNING version",
		store.Micros(now), string(shipped)).Scan(&v)
	return v.Int64, errs.Wrap(err, "algorithm")
}

// SaveAlgorithm stores a new version of the algorithm (the administrator's
// edit). Emergencies declared before keep the version they started with.
func (s *Service) SaveAlgorithm(ctx context.Context, p auth.Principal, a Algorithm) (int64, error) {
	if err := p.Require(auth.EditAlgorithm); err != nil {
		return 0, err
	}
	if err := a.Validate(); err != nil {
		return 0, err
	}
	body, _ := json.Marshal(a)
	var v int64
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.Now()
		if _, err := currentAlgorithm(ctx, tx, now); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, "INSERT INTO emergency_algorithms (created_at, created_by, body) VALUES (?, ?, ?) RETURNING version",
			store.Micros(now), p.Actor(), string(body)).Scan(&v); err != nil {
			return errs.Wrap(err, "algorithm")
		}
		return auth.Append(ctx, tx, now, p, "emergency.algorithm", fmt.Sprintf("algorithm/%d", v), map[string]any{"version": v})
	})
	return v, err
}

// AlgorithmVersion returns one stored version (0: the newest; the shipped
// one when none is stored yet). Every signed-in person may read it.
func (s *Service) AlgorithmVersion(ctx context.Context, version int64) (int64, Algorithm, error) {
	return algorithmVersion(ctx, s.DB.Reader(), version)
}

func algorithmVersion(ctx context.Context, q store.Querier, version int64) (int64, Algorithm, error) {
	var body string
	var err error
	if version == 0 {
		err = q.QueryRowContext(ctx, "SELECT version, body FROM emergency_algorithms ORDER BY version DESC LIMIT 1").Scan(&version, &body)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, Shipped(), nil
		}
	} else {
		err = q.QueryRowContext(ctx, "SELECT body FROM emergency_algorithms WHERE version = ?", version).Scan(&body)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, nil, errs.NotFoundf("no algorithm version %d", version)
		}
	}
	if err != nil {
		return 0, nil, errs.Wrap(err, "algorithm")
	}
	var a Algorithm
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		return 0, nil, errs.Wrap(err, "algorithm")
	}
	return version, a, nil
}

// ChecklistStep is one step of a person's checklist and when they ticked it.
type ChecklistStep struct {
	No       int        `json:"no"`
	Text     string     `json:"text"`
	TickedAt *time.Time `json:"ticked_at,omitempty"`
}

// Checklist is a person's steps for a live emergency, in their language, in
// the algorithm version the emergency started with.
type Checklist struct {
	EmergencyID int64           `json:"emergency_id"`
	Version     int64           `json:"algorithm_version"`
	Role        Role            `json:"role"`
	Language    string          `json:"language"`
	Drill       bool            `json:"drill"`
	Steps       []ChecklistStep `json:"steps"`
}

// roleOf is the checklist of a signed-in person.
func roleOf(p auth.Principal) Role {
	switch p.Role {
	case auth.RoleGuard:
		return Guard
	case auth.RolePCNOperator:
		return SecurityProvider
	case auth.RoleGuardian:
		return Parents
	}
	return Administration
}

func checkLang(lang string) error {
	if slices.Contains(Languages, lang) {
		return nil
	}
	return errs.Invalidf("lang", "lang must be one of %v, got %q", Languages, lang)
}

// Checklist returns the signed-in person's checklist (the administration's
// for the director, the ЦОУ and the others, the guard's, the provider's)
// in lang.
func (s *Service) Checklist(ctx context.Context, p auth.Principal, id int64, lang string) (Checklist, error) {
	if err := checkLang(lang); err != nil {
		return Checklist{}, err
	}
	e, err := s.Get(ctx, p, id)
	if err != nil {
		return Checklist{}, err
	}
	return checklist(ctx, s.DB.Reader(), e, p.Actor(), roleOf(p), lang)
}

func checklist(ctx context.Context, q store.Querier, e Emergency, who string, r Role, lang string) (Checklist, error) {
	_, a, err := algorithmVersion(ctx, q, e.AlgorithmVersion)
	if err != nil {
		return Checklist{}, err
	}
	c := Checklist{EmergencyID: e.ID, Version: e.AlgorithmVersion, Role: r, Language: lang, Drill: e.Drill, Steps: []ChecklistStep{}}
	ticks := map[int]time.Time{}
	err = store.Each(ctx, q, func(rows *sql.Rows) error {
		var n int
		var at int64
		err := rows.Scan(&n, &at)
		ticks[n] = store.FromMicros(at)
		return err
	}, "SELECT step, at FROM emergency_ticks WHERE emergency_id = ? AND who = ? AND role = ?", e.ID, who, string(r))
	if err != nil {
		return c, errs.Wrap(err, "checklist")
	}
	for i, st := range a[e.Scenario][r] {
		cs := ChecklistStep{No: i + 1, Text: st.In(lang)}
		if t, ok := ticks[i+1]; ok {
			cs.TickedAt = &t
		}
		c.Steps = append(c.Steps, cs)
	}
	return c, nil
}

// Tick records that the signed-in person did step no of their checklist.
func (s *Service) Tick(ctx context.Context, p auth.Principal, id int64, no int) (time.Time, error) {
	e, err := s.Get(ctx, p, id)
	if err != nil {
		return time.Time{}, err
	}
	return s.tick(ctx, e, p.Actor(), roleOf(p), no)
}

func (s *Service) tick(ctx context.Context, e Emergency, who string, r Role, no int) (time.Time, error) {
	if e.State != Live {
		return time.Time{}, errs.E(errs.Conflict, "", "emergency %d is %s: steps are ticked while it is live", e.ID, e.State)
	}
	_, a, err := algorithmVersion(ctx, s.DB.Reader(), e.AlgorithmVersion)
	if err != nil {
		return time.Time{}, err
	}
	if n := len(a[e.Scenario][r]); no < 1 || no > n {
		return time.Time{}, errs.Invalidf("step", "step must be 1–%d for %s, got %d", n, r, no)
	}
	now := s.Now()
	// A second tick of the same step keeps the first time.
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO emergency_ticks (emergency_id, who, role, step, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
			e.ID, who, string(r), no, store.Micros(now))
		return errs.Wrap(err, "tick")
	})
	return now, err
}
