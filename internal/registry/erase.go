package registry

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/chore"
	"qorgan/internal/errs"
	"qorgan/internal/store"
)

// PupilRecords is what a domain outside the registry keeps about a pupil:
// passes and presence, messages to the guardians. The personal-data law
// gives the child's legal representatives the right to have everything held
// about the child shown to them and erased; the registry reaches every such
// domain through this, so that an export or an erasure leaves nothing out.
type PupilRecords interface {
	// RecordsName names the records in an export and an erasure report.
	RecordsName() string
	// ExportPupil returns every record held about the pupil, ready for JSON.
	ExportPupil(ctx context.Context, q store.Querier, schoolID, pupilID int64) (any, error)
	// ErasePupil deletes every record held about the pupil in tx and says
	// how many there were.
	ErasePupil(ctx context.Context, tx *store.Tx, schoolID, pupilID int64) (int64, error)
}

// PupilExport is everything Qorgan holds about one pupil: the registry's
// record with the guardians, and each domain's records by name.
type PupilExport struct {
	ExportedAt time.Time      `json:"exported_at"`
	Pupil      Pupil          `json:"pupil"`
	Records    map[string]any `json:"records"`
}

// Erasure reports what erasing a pupil deleted: the pupil, the guardians
// left with no other child here (and their sign-ins), and each domain's
// records by name.
type Erasure struct {
	PupilID   int64            `json:"pupil_id"`
	SchoolID  int64            `json:"school_id"`
	Guardians int              `json:"guardians"`
	Logins    int              `json:"logins"`
	Records   map[string]int64 `json:"records"`
}

// managedPupil finds a pupil the caller may manage: NotFound outside the
// caller's scope, Forbidden for a role that sees the pupil but may not
// change pupils.
func (r *Registry) managedPupil(ctx context.Context, p auth.Principal, id int64) (schoolID int64, err error) {
	return atPupil(ctx, r.DB.Reader(), p, r.today(), id, auth.WritePupils)
}

// ExportPupil gathers everything held about a pupil, for the school to
// answer a guardian's request under the personal-data law. Only staff who
// manage the school's pupils may export; the export is access-logged.
func (r *Registry) ExportPupil(ctx context.Context, p auth.Principal, id int64) (PupilExport, error) {
	schoolID, err := r.managedPupil(ctx, p, id)
	if err != nil {
		return PupilExport{}, err
	}
	x, err := r.pupilWithGuardians(ctx, id, "export pupil")
	if err != nil {
		return PupilExport{}, err
	}
	out := PupilExport{ExportedAt: r.Now().UTC(), Pupil: x, Records: map[string]any{}}
	for _, d := range r.Records {
		v, err := d.ExportPupil(ctx, r.DB.Reader(), schoolID, id)
		if err != nil {
			return PupilExport{}, errs.Wrap(err, "export pupil "+d.RecordsName())
		}
		out.Records[d.RecordsName()] = v
	}
	return out, r.logReads(ctx, p, "pupil.export", []Pupil{x})
}

// ErasePupil deletes a pupil and everything held about them, in one
// transaction: the registry's record and pass credentials, the links to
// guardians, every domain's records (passes, presence, messages), and the
// guardians left with no other child, with their sign-ins. The audit trail
// records that the pupil was erased, by whom and how much, and nothing that
// names the child. The access log of earlier reads stays: it is the
// operator's record of who looked, and holds only ids.
func (r *Registry) ErasePupil(ctx context.Context, p auth.Principal, id int64) (Erasure, error) {
	schoolID, err := r.managedPupil(ctx, p, id)
	if err != nil {
		return Erasure{}, err
	}
	e := Erasure{PupilID: id, SchoolID: schoolID, Records: map[string]int64{}}
	err = r.DB.InTx(ctx, func(tx *store.Tx) error {
		// The pupil's row first, as a change of the pupil takes it: the two
		// cannot deadlock, and a pupil erased meanwhile is found out.
		if err := lockPupil(ctx, tx, r.Now(), id); err != nil {
			return err
		}
		guardians, err := store.Collect(ctx, tx, func(rows *sql.Rows) (int64, error) {
			var g int64
			return g, rows.Scan(&g)
		}, "DELETE FROM pupil_guardians WHERE pupil_id = ? RETURNING guardian_id", id)
		if err != nil {
			return err
		}
		for _, d := range r.Records {
			n, err := d.ErasePupil(ctx, tx, schoolID, id)
			if err != nil {
				return fmt.Errorf("%s: %w", d.RecordsName(), err)
			}
			e.Records[d.RecordsName()] = n
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM pupils WHERE id = ?", id); err != nil {
			return err
		}
		if e.Guardians, e.Logins, err = dropChildlessGuardians(ctx, tx, guardians); err != nil {
			return err
		}
		// The id stays a few minutes for the sweep (SweepErasures).
		if _, err := tx.ExecContext(ctx, "INSERT INTO erasures (pupil_id, school_id, erased_at) VALUES (?, ?, ?)", id, schoolID, store.Micros(r.Now())); err != nil {
			return err
		}
		return auth.Append(ctx, tx, r.Now(), p, "pupil.erase", fmt.Sprintf("pupil/%d", id), e)
	})
	if err != nil {
		return Erasure{}, errs.Wrap(err, "erase pupil")
	}
	return e, nil
}

// EraseSettle is how long after an erasure the sweep looks once more: longer
// than a pass intake takes from matching a card to its commit (a group
// commit gives up after a minute).
const EraseSettle = 3 * time.Minute

// SweepErasures deletes, for each pupil erased before `before`, the records
// written after the erasure by an intake that had matched the pupil's card
// just before it, and then forgets the pupil's id. It says how many records
// went. Run it every minute or so with before = now - EraseSettle.
func (r *Registry) SweepErasures(ctx context.Context, before time.Time) (int64, error) {
	type erased struct{ pupil, school int64 }
	due, err := store.Collect(ctx, r.DB.Reader(), func(rows *sql.Rows) (erased, error) {
		var e erased
		return e, rows.Scan(&e.pupil, &e.school)
	}, "SELECT pupil_id, school_id FROM erasures WHERE erased_at < ? ORDER BY pupil_id LIMIT 1000", store.Micros(before))
	if err != nil {
		return 0, errs.Wrap(err, "sweep erasures")
	}
	var total int64
	for _, e := range due {
		var swept int64
		err := r.DB.InTx(ctx, func(tx *store.Tx) error {
			swept = 0
			// Ids are not given twice (AUTOINCREMENT on SQLite, identity on
			// PostgreSQL), but a database restored from a copy, or one with
			// erasures from before migration 00012, may give one again: if
			// a pupil has the id now, the records are theirs.
			var reused int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM pupils WHERE id = ?", e.pupil).Scan(&reused); err != nil {
				return err
			}
			for _, d := range r.Records {
				if reused > 0 {
					break
				}
				n, err := d.ErasePupil(ctx, tx, e.school, e.pupil)
				if err != nil {
					return fmt.Errorf("%s: %w", d.RecordsName(), err)
				}
				swept += n
			}
			_, err := tx.ExecContext(ctx, "DELETE FROM erasures WHERE pupil_id = ?", e.pupil)
			return err
		})
		if err != nil {
			return total, errs.Wrap(err, "sweep erasures")
		}
		total += swept
	}
	return total, nil
}

// lockPupil takes the pupil's row for the transaction (the first write of a
// change or an erasure of a pupil), or says the pupil is gone.
func lockPupil(ctx context.Context, tx *store.Tx, now time.Time, id int64) error {
	res, err := tx.ExecContext(ctx, "UPDATE pupils SET updated_at = ? WHERE id = ?", store.Micros(now), id)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err == nil && n != 1 {
		err = errs.NotFoundf("no pupil %d", id)
	}
	return err
}

// dropChildlessGuardians deletes those of the given guardians who are left
// with no child, with their sign-ins: a guardian is kept only as a child's
// guardian. It says how many guardians and logins went. Each guardian's row
// is locked first, so a child being linked to them meanwhile (on another
// PostgreSQL connection) is waited for and counted.
func dropChildlessGuardians(ctx context.Context, tx *store.Tx, ids []int64) (guardians, logins int, err error) {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if err := tx.LockRows(ctx, "guardians", ids); err != nil {
		return 0, 0, err
	}
	for _, g := range ids {
		var others int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM pupil_guardians WHERE guardian_id = ?", g).Scan(&others); err != nil {
			return 0, 0, err
		}
		if others > 0 {
			continue
		}
		n, err := auth.DeleteGuardianLogins(ctx, tx, g)
		if err != nil {
			return 0, 0, err
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM guardians WHERE id = ?", g)
		if err != nil {
			return 0, 0, err
		}
		if k, _ := res.RowsAffected(); k == 1 {
			guardians++
			logins += n
		}
	}
	return guardians, logins, nil
}

// PupilAccessLog lists who read a pupil's data and when, newest first (the
// school-wide lists that showed the pupil too), for the staff who manage
// the school's pupils: a guardian may ask who looked at their child.
func (r *Registry) PupilAccessLog(ctx context.Context, p auth.Principal, id int64) ([]auth.AccessEntry, error) {
	if _, err := r.managedPupil(ctx, p, id); err != nil {
		return nil, err
	}
	out, err := r.Auth.PupilAccess(ctx, id, 500)
	return out, errs.Wrap(err, "access log")
}

// markUnlinked notes since when each of the unlinked guardians has had no
// child (a guardian still linked elsewhere is not marked), and forgets the
// mark of the relinked ones.
func markUnlinked(ctx context.Context, tx *store.Tx, now int64, unlinked, relinked []int64) error {
	// Another transaction taking the same guardian off a list, or putting
	// them on one, goes first or after, never alongside: each looks at the
	// links once the other has committed.
	ids := slices.Concat(unlinked, relinked)
	slices.Sort(ids)
	if err := tx.LockRowsToUpdate(ctx, "guardians", slices.Compact(ids)); err != nil {
		return err
	}
	for _, g := range unlinked {
		if _, err := tx.ExecContext(ctx, `UPDATE guardians SET unlinked_at = ? WHERE id = ? AND unlinked_at IS NULL
			AND NOT EXISTS (SELECT 1 FROM pupil_guardians WHERE guardian_id = ?)`, now, g, g); err != nil {
			return err
		}
	}
	for _, g := range relinked {
		if _, err := tx.ExecContext(ctx, "UPDATE guardians SET unlinked_at = NULL WHERE id = ? AND unlinked_at IS NOT NULL", g); err != nil {
			return err
		}
	}
	return nil
}

// DropUnlinkedGuardians deletes the guardians who have had no child since
// before `before`, with their sign-ins, and says how many went. Run it from
// the housekeeping with before = now - the retention of unlinked guardians.
func (r *Registry) DropUnlinkedGuardians(ctx context.Context, before time.Time) (int64, error) {
	ids, err := store.Collect(ctx, r.DB.Reader(), func(rows *sql.Rows) (int64, error) {
		var id int64
		return id, rows.Scan(&id)
	}, "SELECT id FROM guardians WHERE unlinked_at IS NOT NULL AND unlinked_at < ? ORDER BY id LIMIT 1000", store.Micros(before))
	if err != nil || len(ids) == 0 {
		return 0, errs.Wrap(err, "unlinked guardians")
	}
	var n int
	err = r.DB.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.LockRows(ctx, "guardians", ids); err != nil {
			return err
		}
		// Looked at again under the lock: still marked from before the
		// cutoff (not linked and taken off again meanwhile); one with a
		// child again loses a mark that should have gone.
		args := []any{store.Micros(before)}
		for _, id := range ids {
			args = append(args, id)
		}
		ph := store.Placeholders(len(ids)) // at most 1000, read above
		if _, err := tx.ExecContext(ctx, `UPDATE guardians SET unlinked_at = NULL WHERE unlinked_at < ? AND id IN (`+ph+`)
			AND EXISTS (SELECT 1 FROM pupil_guardians WHERE guardian_id = guardians.id)`, args...); err != nil {
			return err
		}
		due, err := store.Collect(ctx, tx, func(rows *sql.Rows) (int64, error) {
			var id int64
			return id, rows.Scan(&id)
		}, "SELECT id FROM guardians WHERE unlinked_at < ? AND id IN ("+ph+") ORDER BY id", args...)
		if err != nil {
			return err
		}
		n, _, err = dropChildlessGuardians(ctx, tx, due)
		return err
	})
	return int64(n), errs.Wrap(err, "unlinked guardians")
}

// Run does the registry's housekeeping until ctx ends: hourly, it deletes
// the guardians who have had no child for keepUnlinked; every minute, what
// an intake wrote just after an erasure.
func (r *Registry) Run(ctx context.Context, keepUnlinked time.Duration, log *slog.Logger) {
	var wg sync.WaitGroup
	wg.Go(func() {
		chore.Every(ctx, time.Hour, log, "guardians with no child deleted", "rows", func(ctx context.Context) (int64, error) {
			return r.DropUnlinkedGuardians(ctx, r.Now().Add(-keepUnlinked))
		})
	})
	chore.Every(ctx, time.Minute, log, "records written after an erasure deleted", "rows", func(ctx context.Context) (int64, error) {
		return r.SweepErasures(ctx, r.Now().Add(-EraseSettle))
	})
	wg.Wait()
}
