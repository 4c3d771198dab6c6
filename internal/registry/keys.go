package registry

import (
	"context"
	"database/sql"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/store"
)

// What bulk import (package transfer) must know before it writes: stored keys
// to check a whole file against, read inside the import's checks and never
// shown to anyone as records.

// SchoolKey is what a bulk school write checks about a stored school.
type SchoolKey struct {
	ID           int64
	Code         string
	BIN          string
	RegionCode   string
	DistrictCode string
}

// SchoolKeys returns the stored schools whose code is among codes or whose BIN
// is among bins, whatever the caller's scope: a file may name a school that
// exists outside it, and the import must refuse that rather than move it.
func SchoolKeys(ctx context.Context, q store.Querier, codes, bins []string) ([]SchoolKey, error) {
	seen := map[int64]bool{}
	var out []SchoolKey
	run := func(col string, keys []string) error {
		return store.InBatches(keys, store.InList, func(ph string, args []any) error {
			return store.Each(ctx, q, func(rows *sql.Rows) error {
				var k SchoolKey
				if err := rows.Scan(&k.ID, &k.Code, &k.BIN, &k.RegionCode, &k.DistrictCode); err != nil {
					return err
				}
				if !seen[k.ID] {
					seen[k.ID] = true
					out = append(out, k)
				}
				return nil
			}, "SELECT id, code, COALESCE(bin, ''), region_code, COALESCE(district_code, '') FROM schools WHERE "+col+" IN ("+ph+")", args...)
		})
	}
	if err := run("code", codes); err != nil {
		return nil, err
	}
	if err := run("bin", bins); err != nil {
		return nil, err
	}
	return out, nil
}

// SchoolIDsInScope maps those of codes that name a school in p's scope to the
// school's id. Unknown codes and codes of schools outside the scope are both
// simply absent, so that the caller cannot tell them apart.
func SchoolIDsInScope(ctx context.Context, q store.Querier, p auth.Principal, today time.Time, codes []string) (map[string]int64, error) {
	out := map[string]int64{}
	scope, sargs := SchoolScope(p, "s", today)
	err := store.InBatches(codes, store.InList, func(ph string, args []any) error {
		return store.Each(ctx, q, func(rows *sql.Rows) error {
			var code string
			var id int64
			err := rows.Scan(&code, &id)
			out[code] = id
			return err
		}, "SELECT s.code, s.id FROM schools s WHERE s.code IN ("+ph+") AND "+scope, append(args, sargs...)...)
	})
	return out, err
}

// PupilKey is what a bulk pupil write checks about a stored pupil.
type PupilKey struct {
	ID         int64
	ExternalID string
	CardUID    string
	PhoneToken string
}

// PupilKeys returns a school's stored pupils by external id.
func PupilKeys(ctx context.Context, q store.Querier, schoolID int64) (map[string]PupilKey, error) {
	out := map[string]PupilKey{}
	err := store.Each(ctx, q, func(rows *sql.Rows) error {
		var k PupilKey
		err := rows.Scan(&k.ID, &k.ExternalID, &k.CardUID, &k.PhoneToken)
		out[k.ExternalID] = k
		return err
	}, "SELECT id, external_id, COALESCE(card_uid, ''), COALESCE(phone_token, '') FROM pupils WHERE school_id = ?", schoolID)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ReleaseCards clears the card of the named pupils of a school in tx. A file
// that swaps cards between pupils can then be written in any order without
// tripping the one-card-one-pupil index on the way.
func ReleaseCards(ctx context.Context, tx *store.Tx, now time.Time, schoolID int64, externalIDs []string) error {
	return store.InBatches(externalIDs, store.InList, func(ph string, args []any) error {
		_, err := tx.ExecContext(ctx, "UPDATE pupils SET card_uid = NULL, updated_at = ? WHERE school_id = ? AND external_id IN ("+ph+")",
			append([]any{now.UnixMicro(), schoolID}, args...)...)
		return err
	})
}

// GuardiansElsewhere returns, among the stored guardians with these phones,
// those who are also guardians of a pupil at a school outside p's scope. A
// bulk write from inside the scope must not change their details.
func GuardiansElsewhere(ctx context.Context, q store.Querier, p auth.Principal, today time.Time, phones []string) (map[string]Guardian, error) {
	out := map[string]Guardian{}
	scope, sargs := SchoolScope(p, "s", today)
	err := store.InBatches(phones, store.InList, func(ph string, args []any) error {
		return store.Each(ctx, q, func(rows *sql.Rows) error {
			g, err := scanGuardian(rows)
			out[g.Phone] = g
			return err
		}, "SELECT "+guardianCols+" FROM guardians g WHERE g.phone IN ("+ph+`) AND EXISTS (
			SELECT 1 FROM pupil_guardians pg JOIN pupils p ON p.id = pg.pupil_id JOIN schools s ON s.id = p.school_id
			WHERE pg.guardian_id = g.id AND NOT (`+scope+"))", append(args, sargs...)...)
	})
	return out, err
}
