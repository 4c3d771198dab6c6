package alarm

import (
	"context"
	"database/sql"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/store"
)

// Scorecard is how fast one ПЦН or ЦОУ acknowledged the alarms routed to it:
// the EN 50518 measure is the share acknowledged within 30 s and within 60 s
// of the alarm being received.
type Scorecard struct {
	Party        Party   `json:"party"`
	ID           int64   `json:"id"`
	Name         string  `json:"name"`
	Alarms       int     `json:"alarms"`
	Acknowledged int     `json:"acknowledged"`
	Within30s    int     `json:"within_30s"`
	Within60s    int     `json:"within_60s"`
	Share30s     float64 `json:"share_30s"`
	Share60s     float64 `json:"share_60s"`
}

// Stats returns the scorecards of the providers and police units whose
// alarms (priority alarm, received in [from, to)) the person may see.
func (s *Service) Stats(ctx context.Context, p auth.Principal, from, to time.Time) ([]Scorecard, error) {
	if err := p.Require(auth.AlarmStats); err != nil {
		return nil, err
	}
	cond, args := inScope(p, "a", kztime.Today(s.Now()))
	out := []Scorecard{}
	for _, side := range []struct {
		party      Party
		col, table string
		name       string
	}{{PartyPCN, "provider_id", "providers", "x.name"}, {PartyCOU, "police_unit_id", "police_units", "x.name_ru"}} {
		inner, innerArgs := scoped("a.id, a."+side.col+" AS party_id, a.received_at",
			"a.priority = 1 AND a.received_at >= ? AND a.received_at < ? AND "+cond, append([]any{store.Micros(from), store.Micros(to)}, args...))
		q := `SELECT a.party_id, ` + side.name + `, COUNT(*),
			SUM(CASE WHEN k.at IS NOT NULL THEN 1 ELSE 0 END),
			SUM(CASE WHEN k.at IS NOT NULL AND k.at - a.received_at <= 30000000 THEN 1 ELSE 0 END),
			SUM(CASE WHEN k.at IS NOT NULL AND k.at - a.received_at <= 60000000 THEN 1 ELSE 0 END)
			FROM (` + inner + `) a JOIN ` + side.table + ` x ON x.id = a.party_id
			LEFT JOIN alarm_steps k ON k.alarm_id = a.id AND k.party = ? AND k.step = 'acknowledged'
			GROUP BY a.party_id, ` + side.name + ` ORDER BY a.party_id`
		cards, err := store.Collect(ctx, s.DB.Reader(), func(rows *sql.Rows) (Scorecard, error) {
			c := Scorecard{Party: side.party}
			err := rows.Scan(&c.ID, &c.Name, &c.Alarms, &c.Acknowledged, &c.Within30s, &c.Within60s)
			if c.Alarms > 0 {
				c.Share30s = float64(c.Within30s) / float64(c.Alarms)
				c.Share60s = float64(c.Within60s) / float64(c.Alarms)
			}
			return c, err
		}, q, append(innerArgs, string(side.party))...)
		if err != nil {
			return nil, errs.Wrap(err, "alarm statistics")
		}
		out = append(out, cards...)
	}
	return out, nil
}
