package registry

import (
	"context"
	"database/sql"
	"maps"
	"time"

	"qorgan/internal/errs"
	"qorgan/internal/store"
)

// PeopleChange counts what a pupil write did.
type PeopleChange struct {
	Created, Updated, Unchanged int
}

type storedPupil struct {
	Pupil
	phoneToken string
}

// UpsertPupils writes validated, normalized inputs for one school in tx,
// keyed by the school's external id for pupils and by phone for guardians.
// Writing the same inputs twice changes nothing the second time.
func UpsertPupils(ctx context.Context, tx *store.Tx, now time.Time, schoolID int64, ins []PupilInput) (PeopleChange, error) {
	var ch PeopleChange
	t := now.UnixMicro()
	existing, err := pupilsOfSchool(ctx, tx, schoolID)
	if err != nil {
		return ch, err
	}
	guardians, err := guardiansByPhone(ctx, tx, ins)
	if err != nil {
		return ch, err
	}
	// Guardians first: create or update each once.
	var unlinked, relinked []int64 // guardians taken off a pupil's list; stored ones put on one
	known := maps.Clone(guardians)
	done := map[string]bool{}
	for _, in := range ins {
		for _, g := range in.Guardians {
			if done[g.Phone] {
				continue
			}
			done[g.Phone] = true
			old, ok := guardians[g.Phone]
			want := Guardian{ID: old.ID, Phone: g.Phone, FullName: g.FullName, Email: g.Email, MessengerID: g.MessengerID, Language: g.Language,
				ConsentGivenOn: g.ConsentGivenOn, ConsentWithdrawnOn: g.ConsentWithdrawnOn}
			// A withdrawal on record (the guardian's own, or the school's)
			// stands against a file or a form that does not mention it; only
			// consent given anew after it lifts it.
			if ok && old.ConsentWithdrawnOn != "" && want.ConsentWithdrawnOn == "" && want.ConsentGivenOn <= old.ConsentWithdrawnOn {
				want.ConsentWithdrawnOn = old.ConsentWithdrawnOn
				if want.ConsentGivenOn == "" {
					want.ConsentGivenOn = old.ConsentGivenOn
				}
			}
			switch {
			case !ok:
				if err := tx.QueryRowContext(ctx, `INSERT INTO guardians (phone, full_name, email, messenger_id, language, consent_given_on, consent_withdrawn_on, created_at, updated_at)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, g.Phone, g.FullName, g.Email, g.MessengerID, g.Language,
					nullStr(g.ConsentGivenOn), nullStr(g.ConsentWithdrawnOn), t, t).Scan(&want.ID); err != nil {
					return ch, err
				}
			case old != want:
				if _, err := tx.ExecContext(ctx, `UPDATE guardians SET full_name = ?, email = ?, messenger_id = ?, language = ?, consent_given_on = ?, consent_withdrawn_on = ?, updated_at = ? WHERE id = ?`,
					want.FullName, want.Email, want.MessengerID, want.Language, nullStr(want.ConsentGivenOn), nullStr(want.ConsentWithdrawnOn), t, old.ID); err != nil {
					return ch, err
				}
			}
			guardians[g.Phone] = want
		}
	}
	for _, in := range ins {
		old, ok := existing[in.ExternalID]
		if !ok {
			old = &storedPupil{}
		}
		changed := false
		pid := old.ID
		if !ok {
			err := tx.QueryRowContext(ctx, `INSERT INTO pupils (school_id, external_id, last_name, first_name, middle_name, class, card_uid, phone_token, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, schoolID, in.ExternalID, in.LastName, in.FirstName, in.MiddleName, in.Class,
				nullStr(in.CardUID), nullStr(in.PhoneToken), t, t).Scan(&pid)
			if store.IsUniqueViolation(err) {
				return ch, errs.E(errs.Conflict, "card_uid", "card %s or phone token belongs to another pupil", in.CardUID)
			}
			if err != nil {
				return ch, err
			}
			ch.Created++
		} else if old.LastName != in.LastName || old.FirstName != in.FirstName || old.MiddleName != in.MiddleName || old.Class != in.Class ||
			old.CardUID != in.CardUID || old.phoneToken != in.PhoneToken {
			_, err := tx.ExecContext(ctx, `UPDATE pupils SET last_name = ?, first_name = ?, middle_name = ?, class = ?, card_uid = ?, phone_token = ?, updated_at = ? WHERE id = ?`,
				in.LastName, in.FirstName, in.MiddleName, in.Class, nullStr(in.CardUID), nullStr(in.PhoneToken), t, pid)
			if store.IsUniqueViolation(err) {
				return ch, errs.E(errs.Conflict, "card_uid", "card %s or phone token belongs to another pupil", in.CardUID)
			}
			if err != nil {
				return ch, err
			}
			changed = true
		}
		// Links: the input's guardian list replaces the stored one.
		have := map[int64]GuardianLink{}
		for _, l := range old.Guardians {
			have[l.ID] = l
		}
		want := map[int64]bool{}
		for _, g := range in.Guardians {
			gid := guardians[g.Phone].ID
			want[gid] = true
			l, ok := have[gid]
			switch {
			case !ok:
				if _, err := tx.ExecContext(ctx, "INSERT INTO pupil_guardians (pupil_id, guardian_id, relation, may_collect) VALUES (?, ?, ?, ?)",
					pid, gid, g.Relation, g.mayCollect()); err != nil {
					return ch, err
				}
				if _, existed := known[g.Phone]; existed {
					relinked = append(relinked, gid)
				}
				changed = true
			case l.Relation != g.Relation || l.MayCollect != g.mayCollect():
				if _, err := tx.ExecContext(ctx, "UPDATE pupil_guardians SET relation = ?, may_collect = ? WHERE pupil_id = ? AND guardian_id = ?",
					g.Relation, g.mayCollect(), pid, gid); err != nil {
					return ch, err
				}
				changed = true
			}
			if ok && l.Guardian != guardians[g.Phone] {
				changed = true // the guardian's own details changed
			}
		}
		for gid := range have {
			if !want[gid] {
				if _, err := tx.ExecContext(ctx, "DELETE FROM pupil_guardians WHERE pupil_id = ? AND guardian_id = ?", pid, gid); err != nil {
					return ch, err
				}
				unlinked = append(unlinked, gid)
				changed = true
			}
		}
		if ok {
			if changed {
				ch.Updated++
			} else {
				ch.Unchanged++
			}
		}
	}
	// A guardian taken off the list of their last child is kept until
	// DropUnlinkedGuardians (a corrected file links them again); one
	// linked again is no longer waiting to go.
	if err := markUnlinked(ctx, tx, t, unlinked, relinked); err != nil {
		return ch, err
	}
	return ch, nil
}

// pupilsOfSchool loads a school's pupils with their guardian links, by external id.
func pupilsOfSchool(ctx context.Context, q store.Querier, schoolID int64) (map[string]*storedPupil, error) {
	byID := map[int64]*storedPupil{}
	out := map[string]*storedPupil{}
	err := store.Each(ctx, q, func(rows *sql.Rows) error {
		p := &storedPupil{}
		p.SchoolID = schoolID
		if err := rows.Scan(&p.ID, &p.ExternalID, &p.LastName, &p.FirstName, &p.MiddleName, &p.Class, &p.CardUID, &p.phoneToken); err != nil {
			return err
		}
		byID[p.ID] = p
		out[p.ExternalID] = p
		return nil
	}, `SELECT id, external_id, last_name, first_name, middle_name, class, COALESCE(card_uid, ''), COALESCE(phone_token, '')
		FROM pupils WHERE school_id = ?`, schoolID)
	if err != nil {
		return nil, err
	}
	err = eachGuardianLink(ctx, q, func(pid int64, l GuardianLink) {
		if p := byID[pid]; p != nil {
			p.Guardians = append(p.Guardians, l)
		}
	}, "JOIN pupils p ON p.id = pg.pupil_id WHERE p.school_id = ?", schoolID)
	return out, err
}
