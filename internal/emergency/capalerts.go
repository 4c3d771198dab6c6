package emergency

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/cap"
	"qorgan/internal/chore"
	"qorgan/internal/errs"
	"qorgan/internal/store"
)

// CAP 1.2 out: each step of an emergency's log is one alert — the
// declaration an Alert, every later step an Update naming all the earlier
// alerts in references, a false alarm a Cancel, the all-clear an Update
// with responseType AllClear; a drill's are status Exercise. The school is
// the area: its coordinates as a circle of 0.5 km and its KATO code as a
// geocode. A silent emergency's alerts are Restricted: they are for the
// responders, never for a public-address system.

// CAPSender names Qorgan as the sender of its alerts.
const CAPSender = "qorgan@edu.gov.kz"

var scenarioWords = map[Scenario][2]string{ // ru, kk
	ArmedAttack: {"Вооружённое нападение", "Қарулы шабуыл"}, Explosion: {"Взрыв", "Жарылыс"}, HostageTaking: {"Захват заложников", "Кепілге алу"},
	BombThreat: {"Угроза взрыва", "Жарылыс қаупі"}, SuspiciousItem: {"Подозрительный предмет", "Күдікті зат"}, Fire: {"Пожар", "Өрт"},
	Other: {"Чрезвычайная ситуация", "Төтенше жағдай"},
}

var modeWords = map[Mode][2]string{
	Hold:     {"Оставаться в классах, коридоры свободны", "Сыныптарда қалу, дәліздер бос болсын"},
	Secure:   {"Угроза снаружи: всем внутрь, наружные двери заперты", "Қауіп сыртта: бәрі ішке, сыртқы есіктер құлыпталсын"},
	Lockdown: {"Угроза внутри: запереть двери, выключить свет, укрыться", "Қауіп ішінде: есіктерді құлыптау, жарықты сөндіру, тығылу"},
	Evacuate: {"Эвакуация к месту сбора", "Жиналу орнына эвакуация"},
	Shelter:  {"Укрыться от опасности", "Қауіптен паналау"},
}

func capResponse(m Mode) cap.ResponseType {
	if m == Evacuate {
		return cap.Evacuate
	}
	return cap.Shelter
}

func capCategory(sc Scenario) cap.Category {
	switch sc {
	case Fire:
		return cap.Fire
	case Explosion, BombThreat, SuspiciousItem:
		return cap.CBRNE
	}
	return cap.Security
}

func capSeverity(sc Scenario) cap.Severity {
	switch sc {
	case ArmedAttack, Explosion, HostageTaking:
		return cap.Extreme
	}
	return cap.Severe
}

func capCertainty(sc Scenario) cap.Certainty {
	switch sc {
	case BombThreat, SuspiciousItem:
		return cap.Likely
	}
	return cap.Observed
}

// CAPAlerts turns an emergency's log into its CAP alerts, oldest first. A
// declaration from the school waits for its confirmation: the confirmation
// is the first alert, not the declaration before it.
func CAPAlerts(steps []Step) ([]cap.Alert, error) {
	var out []cap.Alert
	for i, st := range steps {
		if st.Kind == "declared" && i+1 < len(steps) && steps[i+1].Kind == "confirmed" {
			continue
		}
		a := cap.Alert{
			Identifier: fmt.Sprintf("qorgan-emergency-%d-%d", st.EmergencyID, st.ID),
			Sender:     CAPSender, Sent: cap.At(st.At), Status: cap.Actual, MsgType: cap.Update, Scope: cap.Public,
			Incidents: st.Incident,
		}
		if st.Drill {
			a.Status = cap.Exercise
		}
		if st.Silent {
			a.Scope, a.Restriction = cap.Restricted, "silent alarm: for the responders only, not to be announced"
		}
		for _, prev := range out {
			a.References = append(a.References, prev.Ref())
		}
		response := capResponse(st.Mode)
		if len(out) == 0 {
			a.MsgType = cap.AlertMsg
		}
		switch st.Kind {
		case "cancelled":
			a.MsgType = cap.Cancel
		case "all_clear":
			response = cap.AllClear
		}
		area := cap.Area{AreaDesc: st.School.NameRU, Geocode: []cap.Value{cap.KATO(st.School.KATO)}}
		if st.School.Lat != nil && st.School.Lon != nil {
			area.Circle = []cap.Circle{{Lat: *st.School.Lat, Lon: *st.School.Lon, RadiusKm: 0.5}}
		}
		for i, lang := range []string{"ru-KZ", "kk-KZ"} {
			event := scenarioWords[st.Scenario][i]
			instruction := modeWords[st.Mode][i]
			if st.Place != "" {
				instruction += ": " + st.Place
			}
			headline := event + " — " + [2]string{st.School.NameRU, st.School.NameKK}[i]
			switch st.Kind {
			case "cancelled":
				headline = [2]string{"Ложная тревога, отбой — ", "Жалған дабыл, тоқтату — "}[i] + [2]string{st.School.NameRU, st.School.NameKK}[i]
				instruction = [2]string{"Отбой: вернуться к обычному режиму", "Тоқтату: әдеттегі тәртіпке оралу"}[i]
			case "all_clear":
				headline = [2]string{"Отбой угрозы — ", "Қауіп жойылды — "}[i] + [2]string{st.School.NameRU, st.School.NameKK}[i]
				instruction = [2]string{"Опасность миновала: действовать по указаниям директора", "Қауіп өтті: директордың нұсқауымен әрекет ету"}[i]
			}
			if st.Drill {
				headline = [2]string{"УЧЕНИЯ. ", "ОҚУ-ЖАТТЫҒУ. "}[i] + headline
			}
			area := area
			if i == 1 && st.School.NameKK != "" {
				area.AreaDesc = st.School.NameKK
			}
			a.Info = append(a.Info, cap.Info{Language: lang, Category: []cap.Category{capCategory(st.Scenario)}, Event: event,
				ResponseType: []cap.ResponseType{response}, Urgency: cap.Immediate, Severity: capSeverity(st.Scenario), Certainty: capCertainty(st.Scenario),
				SenderName: "Qorgan", Headline: headline, Instruction: instruction, Area: []cap.Area{area},
				EventCode: []cap.Value{{ValueName: "qorgan-mode", Value: string(st.Mode)}, {ValueName: "qorgan-scenario", Value: string(st.Scenario)}}})
		}
		if _, err := cap.Marshal(a); err != nil {
			return nil, fmt.Errorf("CAP alert of step %d: %w", st.ID, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// Alerts returns the CAP alerts of emergency id, for whoever may read it.
func (s *Service) Alerts(ctx context.Context, p auth.Principal, id int64) ([]cap.Alert, error) {
	st, err := s.Steps(ctx, p, id)
	if err != nil {
		return nil, err
	}
	return CAPAlerts(st)
}

// PushCAP sends the alerts of the steps logged since the last push to wh,
// in order, and remembers each one wh took; it stops at the first failure,
// to try again from there. A silent emergency's steps are passed over: its
// alerts are for the responders, never for a public-address gateway. It
// returns how many alerts were sent.
func (s *Service) PushCAP(ctx context.Context, wh *cap.Webhook) (int64, error) {
	var last int64
	err := s.DB.Reader().QueryRowContext(ctx, "SELECT COALESCE(MAX(last_step_id), 0) FROM cap_push").Scan(&last)
	if err != nil {
		return 0, errs.Wrap(err, "CAP push")
	}
	type pending struct{ step, emergency int64 }
	todo, err := store.Collect(ctx, s.DB.Reader(), func(rows *sql.Rows) (pending, error) {
		var x pending
		return x, rows.Scan(&x.step, &x.emergency)
	}, "SELECT id, emergency_id FROM emergency_steps WHERE id > ? ORDER BY id LIMIT 100", last)
	if err != nil {
		return 0, errs.Wrap(err, "CAP push")
	}
	alerts := map[int64]map[int64]cap.Alert{} // emergency → step → alert
	var sent int64
	for _, x := range todo {
		byStep, ok := alerts[x.emergency]
		if !ok {
			e, found, err := getEmergency(ctx, s.DB.Reader(), x.emergency)
			if err != nil {
				return sent, err
			}
			byStep = map[int64]cap.Alert{}
			if found && !e.Silent {
				st, err := steps(ctx, s.DB.Reader(), e)
				if err != nil {
					return sent, err
				}
				as, err := CAPAlerts(st)
				if err != nil {
					return sent, err
				}
				for _, a := range as {
					var id int64
					fmt.Sscanf(a.Identifier[strings.LastIndexByte(a.Identifier, '-')+1:], "%d", &id)
					byStep[id] = a
				}
			}
			alerts[x.emergency] = byStep
		}
		if a, ok := byStep[x.step]; ok {
			if err := wh.Send(ctx, a); err != nil {
				return sent, err
			}
			sent++
		}
		err := s.DB.InTx(ctx, func(tx *store.Tx) error {
			res, err := tx.ExecContext(ctx, "UPDATE cap_push SET last_step_id = ? WHERE id = 1", x.step)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				_, err = tx.ExecContext(ctx, "INSERT INTO cap_push (id, last_step_id) VALUES (1, ?)", x.step)
			}
			return err
		})
		if err != nil {
			return sent, errs.Wrap(err, "CAP push")
		}
	}
	return sent, nil
}

// RunCAP pushes the alerts to wh every two seconds until ctx ends.
func (s *Service) RunCAP(ctx context.Context, wh *cap.Webhook, log *slog.Logger) {
	chore.Every(ctx, 2*time.Second, log, "CAP alerts pushed", "alerts", func(ctx context.Context) (int64, error) {
		return s.PushCAP(ctx, wh)
	})
}
