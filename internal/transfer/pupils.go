package transfer

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/registry"
	"qorgan/internal/store"
)

// A school's pupils are written in chunks of about writeChunk pupils, so that
// progress moves while a big file is written, but in at most about maxChunks
// chunks: each registry.UpsertPupils call reads the whole school first.
const writeChunk = 500

const maxChunks = 10

type pupilRow struct {
	n        int
	code     string // school_code as written
	in       registry.PupilInput
	slots    []int    // in.Guardians[i] came from the guardian<slots[i]>_ columns
	bad      []string // columns that already have a problem
	schoolID int64
}

// parsePupil reads a row into a pupil with guardians, normalized and
// validated; problems go to the row.
func parsePupil(r *row) pupilRow {
	pr := pupilRow{n: r.n, code: r.get("school_code")}
	if pr.code == "" {
		r.fail("school_code", ProblemRequired, "", "school_code is required")
	}
	in := registry.PupilInput{ExternalID: r.get("external_id"), LastName: r.get("last_name"), FirstName: r.get("first_name"),
		MiddleName: r.get("middle_name"), Class: r.get("class"), CardUID: r.get("card_uid")}
	for g := 1; g <= registry.MaxGuardians; g++ {
		if !r.h.hasGroup(g - 1) { // guardian1_ is in the required group 0
			continue
		}
		col := func(f string) string { return guardianColumn(g, f) }
		phone, name := r.get(col("phone")), r.get(col("full_name"))
		if phone == "" && name == "" {
			for _, f := range []string{"email", "messenger_id", "relation", "consent_given_on", "consent_withdrawn_on"} {
				if r.get(col(f)) != "" {
					r.fail(col("phone"), ProblemGuardianPart, "", "guardian %d has %s but no phone or full name", g, f)
					break
				}
			}
			continue
		}
		gi := registry.GuardianInput{Phone: phone, FullName: name, Email: r.get(col("email")), MessengerID: r.get(col("messenger_id")),
			Language: r.get(col("language")), Relation: r.get(col("relation"))}
		if v := r.get(col("may_collect")); v != "" {
			if b, ok := parseBool(v, true); ok {
				gi.MayCollect = &b
			} else {
				r.fail(col("may_collect"), ProblemNotBool, v, "may_collect must be true or false (also 1/0, yes/no, да/нет, иә/жоқ), got %q", v)
			}
		}
		for _, d := range []struct {
			field string
			to    *string
		}{{"consent_given_on", &gi.ConsentGivenOn}, {"consent_withdrawn_on", &gi.ConsentWithdrawnOn}} {
			v, ok := parseDate(r.get(col(d.field)), r.src)
			if !ok {
				r.fail(col(d.field), ProblemNotDate, v, "date must be YYYY-MM-DD or DD.MM.YYYY, got %q", v)
			}
			*d.to = v
		}
		in.Guardians = append(in.Guardians, gi)
		pr.slots = append(pr.slots, g)
	}
	in.Normalize()
	for _, e := range in.Validate() {
		r.fail(pupilColumn(e.Field, pr.slots), ProblemInvalid, "", "%s", e.Message)
	}
	pr.in = in
	return pr
}

// pupilColumn names the column of a registry.PupilInput field:
// "guardians/1/phone" is the phone of the second guardian in the row, which
// came from guardian2_phone unless guardian1_ was blank.
func pupilColumn(field string, slots []int) string {
	parts := strings.Split(field, "/")
	if len(parts) == 3 && parts[0] == "guardians" {
		if i, err := strconv.Atoi(parts[1]); err == nil && i >= 0 && i < len(slots) {
			return guardianColumn(slots[i], parts[2])
		}
	}
	if _, ok := pupilLayout.index[field]; ok {
		return field
	}
	return ""
}

// guardianDetail is one of a guardian's own details (not the link's).
type guardianDetail struct {
	field string
	get   func(registry.GuardianInput) string
}

var guardianDetails = []guardianDetail{
	{"full_name", func(g registry.GuardianInput) string { return g.FullName }},
	{"email", func(g registry.GuardianInput) string { return g.Email }},
	{"messenger_id", func(g registry.GuardianInput) string { return g.MessengerID }},
	{"language", func(g registry.GuardianInput) string { return g.Language }},
	{"consent_given_on", func(g registry.GuardianInput) string { return g.ConsentGivenOn }},
	{"consent_withdrawn_on", func(g registry.GuardianInput) string { return g.ConsentWithdrawnOn }},
}

func (im *importer) pupils(ctx context.Context, data []byte) error {
	im.probs.order = pupilLayout.index
	var rows []pupilRow
	var err error
	im.total, err = readSheet(im.file.Format, data, pupilLayout, &im.probs, func(r *row) error {
		pr := parsePupil(r)
		pr.bad = append(pr.bad, im.badCells(r)...)
		rows = append(rows, pr)
		return nil
	})
	if err != nil {
		return errs.Wrap(err, "read the file")
	}
	if im.total > len(rows) { // the header was bad; its problems say why
		return nil
	}
	q := im.reg.DB.Reader()
	today := kztime.Today(im.reg.Now())

	// Schools: only those in scope exist for this import.
	var codes, phones []string
	seenCode, seenPhone := map[string]bool{}, map[string]bool{}
	for _, pr := range rows {
		if pr.code != "" && !seenCode[pr.code] {
			seenCode[pr.code] = true
			codes = append(codes, pr.code)
		}
		for _, g := range pr.in.Guardians {
			if !seenPhone[g.Phone] {
				seenPhone[g.Phone] = true
				phones = append(phones, g.Phone)
			}
		}
	}
	ids, err := registry.SchoolIDsInScope(ctx, q, im.p, today, codes)
	if err != nil {
		return errs.Wrap(err, "read schools")
	}
	var schoolOrder []int64
	stored := map[int64]map[string]registry.PupilKey{} // school → external id → stored pupil
	cardHolder := map[int64]map[string]string{}        // school → card → external id, stored
	fileExt := map[int64]map[string]bool{}             // school → external ids in the file
	for i := range rows {
		pr := &rows[i]
		pr.schoolID = ids[pr.code]
		sid := pr.schoolID
		if sid == 0 {
			continue
		}
		if _, ok := stored[sid]; !ok {
			keys, err := registry.PupilKeys(ctx, q, sid)
			if err != nil {
				return errs.Wrap(err, "read pupils")
			}
			stored[sid], cardHolder[sid], fileExt[sid] = keys, map[string]string{}, map[string]bool{}
			for _, k := range keys {
				if k.CardUID != "" {
					cardHolder[sid][k.CardUID] = k.ExternalID
				}
			}
			schoolOrder = append(schoolOrder, sid)
		}
		fileExt[sid][pr.in.ExternalID] = true
	}

	// Whole-file checks, row by row.
	extRow, cardRow := map[int64]map[string]int{}, map[int64]map[string]int{}
	type firstSeen struct {
		n int
		g registry.GuardianInput
	}
	guardians := map[string]firstSeen{}
	for i := range rows {
		pr := &rows[i]
		in, sid := pr.in, pr.schoolID
		bad := func(col string, code ProblemCode, value, format string, args ...any) {
			if !slices.Contains(pr.bad, col) {
				pr.bad = append(pr.bad, col)
				im.probs.add(pr.n, col, code, value, format, args...)
			}
		}
		if pr.code != "" && sid == 0 {
			// Out of scope reads exactly like unknown: a director learns
			// nothing about other schools from an import.
			bad("school_code", ProblemUnknownSchool, pr.code, "unknown school %q", pr.code)
		}
		if sid != 0 {
			if extRow[sid] == nil {
				extRow[sid], cardRow[sid] = map[string]int{}, map[string]int{}
			}
			if prev, ok := extRow[sid][in.ExternalID]; ok {
				bad("external_id", ProblemRepeats, strconv.Itoa(prev), "external_id %s repeats row %d (same school)", in.ExternalID, prev)
			} else {
				extRow[sid][in.ExternalID] = pr.n
			}
			if in.CardUID != "" {
				if prev, ok := cardRow[sid][in.CardUID]; ok {
					bad("card_uid", ProblemRepeats, strconv.Itoa(prev), "card %s repeats row %d (same school)", in.CardUID, prev)
				} else {
					cardRow[sid][in.CardUID] = pr.n
				}
				if holder, ok := cardHolder[sid][in.CardUID]; ok && holder != in.ExternalID && !fileExt[sid][holder] {
					bad("card_uid", ProblemTaken, in.CardUID, "card %s belongs to pupil %s, who is not in this file", in.CardUID, holder)
				}
			}
		}
		for gi, g := range in.Guardians {
			slot := pr.slots[gi]
			if slices.Contains(pr.bad, guardianColumn(slot, "phone")) {
				continue
			}
			prev, ok := guardians[g.Phone]
			if !ok {
				guardians[g.Phone] = firstSeen{pr.n, g}
				continue
			}
			for _, d := range guardianDetails {
				if a, b := d.get(g), d.get(prev.g); a != b {
					if d.field == "full_name" {
						bad(guardianColumn(slot, d.field), ProblemGuardianOther, strconv.Itoa(prev.n), "guardian %s is named %q in row %d", g.Phone, b, prev.n)
					} else {
						bad(guardianColumn(slot, d.field), ProblemGuardianOther, strconv.Itoa(prev.n), "guardian %s has %s %q in row %d", g.Phone, d.field, b, prev.n)
					}
					break
				}
			}
		}
		im.checked++
		im.tick(false)
	}
	im.tick(true)
	if !im.probs.empty() {
		return nil
	}

	// A guardian who is also a guardian at a school outside the scope keeps
	// the details stored: a director may link them, not rewrite them.
	var elsewhere map[string]registry.Guardian
	if im.p.Scope.Kind != auth.ScopeInstallation {
		if elsewhere, err = registry.GuardiansElsewhere(ctx, q, im.p, today, phones); err != nil {
			return errs.Wrap(err, "read guardians")
		}
	}
	bySchool := map[int64][]*registry.PupilInput{}
	for i := range rows {
		pr := &rows[i]
		pr.in.PhoneToken = stored[pr.schoolID][pr.in.ExternalID].PhoneToken // not in files; kept
		for gi := range pr.in.Guardians {
			g := &pr.in.Guardians[gi]
			if s, ok := elsewhere[g.Phone]; ok {
				g.FullName, g.Email, g.MessengerID, g.Language, g.ConsentGivenOn, g.ConsentWithdrawnOn =
					s.FullName, s.Email, s.MessengerID, s.Language, s.ConsentGivenOn, s.ConsentWithdrawnOn
			}
		}
		bySchool[pr.schoolID] = append(bySchool[pr.schoolID], &pr.in)
	}

	now := im.reg.Now()
	var ch registry.PeopleChange
	err = im.inTx(ctx, func(tx *store.Tx) error {
		ch = registry.PeopleChange{}
		upsert := func(sid int64, ins []registry.PupilInput) error {
			c, err := registry.UpsertPupils(ctx, tx, now, sid, ins)
			if err != nil {
				return err
			}
			ch.Created, ch.Updated, ch.Unchanged = ch.Created+c.Created, ch.Updated+c.Updated, ch.Unchanged+c.Unchanged
			im.written += len(ins)
			im.tick(false)
			return nil
		}
		for _, sid := range schoolOrder {
			first, release, rest := cardMoves(bySchool[sid], stored[sid])
			if len(first) > 0 {
				if err := upsert(sid, first); err != nil {
					return err
				}
			}
			if err := registry.ReleaseCards(ctx, tx, now, sid, release); err != nil {
				return err
			}
			for _, chunk := range chunkByGuardians(rest, max(writeChunk, len(rest)/maxChunks)) {
				if err := upsert(sid, chunk); err != nil {
					return err
				}
			}
		}
		return auth.Append(ctx, tx, now, im.p, "import.pupils", im.auditObject(), map[string]any{
			"file": im.file.Name, "format": im.file.Format, "rows": len(rows), "school_ids": schoolOrder,
			"created": ch.Created, "updated": ch.Updated, "unchanged": ch.Unchanged,
		})
	})
	if err != nil {
		return errs.Wrap(err, "write pupils")
	}
	im.created, im.updated, im.unchanged, im.schoolIDs = ch.Created, ch.Updated, ch.Unchanged, schoolOrder
	im.tick(true)
	return nil
}

// cardMoves orders a school's pupils around cards that move from one pupil
// to another in the file. Pupils who give up their card and take none are
// written first (first); pupils who give theirs up and take another have
// their card released before the rest are written, so that no write finds
// its card still held.
func cardMoves(ins []*registry.PupilInput, stored map[string]registry.PupilKey) (first []registry.PupilInput, release []string, rest []registry.PupilInput) {
	taker := map[string]string{} // card → external id that has it in the file
	for _, in := range ins {
		if in.CardUID != "" {
			taker[in.CardUID] = in.ExternalID
		}
	}
	for _, in := range ins {
		old := stored[in.ExternalID].CardUID
		if t, ok := taker[old]; old != "" && ok && t != in.ExternalID {
			if in.CardUID == "" {
				first = append(first, *in)
				continue
			}
			release = append(release, in.ExternalID)
		}
		rest = append(rest, *in)
	}
	return first, release, rest
}

// chunkByGuardians splits pupils into chunks of about size, keeping pupils
// who share a guardian (siblings) in one chunk, so that each guardian is
// written, and each change to them counted, in one place.
func chunkByGuardians(ins []registry.PupilInput, size int) [][]registry.PupilInput {
	parent := make([]int, len(ins))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := map[string]int{}
	for i, in := range ins {
		for _, g := range in.Guardians {
			if o, ok := owner[g.Phone]; ok {
				parent[find(i)] = find(o)
			} else {
				owner[g.Phone] = i
			}
		}
	}
	var chunks [][]registry.PupilInput
	chunkOf := map[int]int{}
	for i, in := range ins {
		root := find(i)
		c, ok := chunkOf[root]
		if !ok {
			if len(chunks) == 0 || len(chunks[len(chunks)-1]) >= size {
				chunks = append(chunks, nil)
			}
			c = len(chunks) - 1
			chunkOf[root] = c
		}
		chunks[c] = append(chunks[c], in)
	}
	return chunks
}

// ExportPupils writes the pupils of one school in the principal's scope with
// their guardians, in the layout ImportPupils reads (with as many guardian
// groups as the school needs, at least two). Only the roles that may export
// a school's children do (the director, the administrator); the export is
// one entry of the access log, with its number of rows
// (registry.ExportablePupils).
func ExportPupils(ctx context.Context, reg *registry.Registry, p auth.Principal, schoolID int64, format Format, w io.Writer) error {
	if _, err := ParseFormat(string(format)); err != nil {
		return err
	}
	school, all, err := reg.ExportablePupils(ctx, p, schoolID)
	if err != nil {
		return err
	}
	groups := 2
	for _, x := range all {
		groups = max(groups, len(x.Guardians))
	}
	groups = min(groups, registry.MaxGuardians)
	columns := PupilColumns(groups)
	sw, err := newSheetWriter(format, w, string(Pupils), columns)
	if err != nil {
		return err
	}
	cells := make([]any, 0, len(columns))
	for _, x := range all {
		cells = append(cells[:0], school.Code, x.ExternalID, x.LastName, x.FirstName, x.MiddleName, x.Class, x.CardUID)
		for g := 0; g < groups; g++ {
			if g >= len(x.Guardians) {
				for range guardianFields {
					cells = append(cells, nil)
				}
				continue
			}
			l := x.Guardians[g]
			cells = append(cells, l.Phone, l.FullName, l.Email, l.MessengerID, l.Language, l.Relation, formatBool(l.MayCollect),
				l.ConsentGivenOn, l.ConsentWithdrawnOn)
		}
		if err := sw.row(cells...); err != nil {
			sw.abort()
			return fmt.Errorf("export pupils: %w", err)
		}
	}
	return sw.close()
}
