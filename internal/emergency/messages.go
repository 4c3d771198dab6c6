package emergency

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"qorgan/internal/alarm"
	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/notify"
	"qorgan/internal/registry"
	"qorgan/internal/store"
)

// The texts of emergency messages, by language. The steps come from the
// action algorithm; these are the words around them.
var (
	modeTitle = map[Mode]Text{
		Hold:     {KK: "ОРЫНДА ҚАЛУ: дәлізді босатыңыз", RU: "ОСТАВАТЬСЯ НА МЕСТАХ: освободить коридоры", EN: "HOLD: in your room, clear the halls"},
		Secure:   {KK: "ҚОРҒАУ: қауіп сыртта, сыртқы есіктерді құлыптаңыз", RU: "ОХРАНА: угроза снаружи, заприте наружные двери", EN: "SECURE: threat outside, lock the outside doors"},
		Lockdown: {KK: "ҚҰЛЫПТАУ: қауіп ішінде, құлып, жарық, көзге түспеу", RU: "БЛОКИРОВКА: угроза внутри, замки, свет, вне видимости", EN: "LOCKDOWN: threat inside, locks, lights, out of sight"},
		Evacuate: {KK: "ЭВАКУАЦИЯ, жиналу орны: %s", RU: "ЭВАКУАЦИЯ, место сбора: %s", EN: "EVACUATE to %s"},
		Shelter:  {KK: "ПАНАЛАУ: %s", RU: "УКРЫТИЕ: %s", EN: "SHELTER: %s"},
	}
	drillMark   = Text{KK: "[ОҚУ-ЖАТТЫҒУ] ", RU: "[УЧЕНИЯ] ", EN: "[DRILL] "}
	changedMark = Text{KK: "Режим өзгерді. ", RU: "Режим изменён. ", EN: "Mode changed. "}
	markLine    = Text{KK: "%s сыныбын белгілеу коды: %s", RU: "Код для отметки класса %s: %s", EN: "Code to mark class %s: %s"}
	codeLine    = Text{KK: "Чек-парақ коды: %s", RU: "Код чек-листа: %s", EN: "Checklist code: %s"}
	codeWhere   = Text{KK: ", мұнда енгізіңіз: %s/staff", RU: ", ввести здесь: %s/staff", EN: ", enter it at %s/staff"}
	// What each mode lets guardians be told; hold tells them nothing.
	guardianText = map[Mode]Text{
		Secure:   {KK: "«%s» мектебінде қорғау режимі: қауіп сыртта, балалар ішінде. Мектепке келмеңіз, нұсқауды күтіңіз.", RU: "В школе «%s» режим охраны: угроза снаружи, дети внутри. Не приезжайте в школу, ждите указаний.", EN: "%s is secured: the threat is outside, the children are inside. Do not come to the school, wait for instructions."},
		Lockdown: {KK: "«%s» мектебінде құлыптау режимі. Мектепке келмеңіз, нұсқауды күтіңіз. Балаға қоңырау шалмаңыз.", RU: "В школе «%s» объявлена блокировка. Не приезжайте в школу, ждите указаний. Не звоните ребёнку.", EN: "%s is in lockdown. Do not come to the school, wait for instructions. Do not call your child."},
		Evacuate: {KK: "«%s» мектебі эвакуацияланды, балалар жиналу орнында. Шақырылмайынша келмеңіз, нұсқауды күтіңіз.", RU: "Школа «%s» эвакуирована, дети на месте сбора. Не приезжайте, пока вас не пригласят, ждите указаний.", EN: "%s has been evacuated; the children are at the assembly point. Do not come until asked, wait for instructions."},
		Shelter:  {KK: "«%s» мектебінде балалар паналауда. Мектепке келмеңіз, нұсқауды күтіңіз.", RU: "В школе «%s» дети в укрытии. Не приезжайте в школу, ждите указаний.", EN: "The children of %s are sheltering. Do not come to the school, wait for instructions."},
	}
	closingText = map[string]Text{
		"cancelled": {KK: "«%s» мектебіндегі дабыл жалған болды: қауіп жоқ, бәрі тыныш.", RU: "Ложная тревога в школе «%s»: угрозы нет, всё в порядке.", EN: "False alarm at %s: there is no threat, all clear."},
		AllClear:    {KK: "«%s» мектебінде қауіп өтті: бәрі тыныш.", RU: "Отбой в школе «%s»: опасность миновала.", EN: "All clear at %s: the danger is over."},
	}
)

// header is a message's first line: drill, change, mode, school.
func header(e Emergency, lang, kind, school string) string {
	var b strings.Builder
	if e.Drill {
		b.WriteString(drillMark.In(lang))
	}
	if kind == "updated" {
		b.WriteString(changedMark.In(lang))
	}
	t := modeTitle[e.Mode].In(lang)
	if strings.Contains(t, "%s") {
		t = fmt.Sprintf(t, e.Place)
	}
	b.WriteString(t)
	b.WriteString(" — ")
	b.WriteString(school)
	return b.String()
}

type schoolNames struct{ kk, ru string }

func (n schoolNames) in(lang string) string {
	if lang == "kk" {
		return n.kk
	}
	return n.ru
}

func namesOf(ctx context.Context, q store.Querier, school int64) (schoolNames, error) {
	var n schoolNames
	err := q.QueryRowContext(ctx, "SELECT name_kk, name_ru FROM schools WHERE id = ?", school).Scan(&n.kk, &n.ru)
	return n, errs.Wrap(err, "school")
}

// feed puts the emergency on the live feed of the school's consoles, the
// ПЦН and the ЦОУ (a silent one not on the school's own).
func (s *Service) feed(ctx context.Context, tx *store.Tx, e Emergency, kind string, now time.Time) error {
	var b alarm.Bulletin
	if v, ok, err := registry.ProviderOnDuty(ctx, tx, e.SchoolID, kztime.Today(now)); err != nil {
		return errs.Wrap(err, "emergency feed")
	} else if ok {
		b.ProviderID = v.ID
	}
	if u, ok, err := registry.PoliceUnitFor(ctx, tx, e.SchoolID); err != nil {
		return errs.Wrap(err, "emergency feed")
	} else if ok {
		b.PoliceUnit = u.ID
	}
	b.Kind, b.AlarmID, b.SchoolID, b.Silent, b.At = kind, e.AlarmID, e.SchoolID, e.Silent, now
	b.Payload, _ = json.Marshal(e)
	return errs.Wrap(alarm.Publish(ctx, tx, b), "emergency feed")
}

func lastStep(ctx context.Context, tx *store.Tx, id int64) (int64, error) {
	var step int64
	err := tx.QueryRowContext(ctx, "SELECT MAX(id) FROM emergency_steps WHERE emergency_id = ?", id).Scan(&step)
	return step, errs.Wrap(err, "emergency step")
}

// stepAndNames is what every message about e's latest step names: the step
// (its messages' keys) and the school's names.
func stepAndNames(ctx context.Context, tx *store.Tx, e Emergency) (int64, schoolNames, error) {
	step, err := lastStep(ctx, tx, e.ID)
	if err != nil {
		return 0, schoolNames{}, err
	}
	names, err := namesOf(ctx, tx, e.SchoolID)
	return step, names, err
}

// announce tells everyone what a live emergency's mode asks of them: the
// feed always; unless silent, every staff member their role's first steps
// (and, the first time, the code for their checklist and class), the
// guardians what the mode allows (never for a drill), and the public-address devices. kind is
// declared or updated.
func (s *Service) announce(ctx context.Context, tx *store.Tx, e Emergency, kind string, now time.Time) error {
	if err := s.feed(ctx, tx, e, "emergency."+kind, now); err != nil {
		return err
	}
	if e.Silent {
		return nil
	}
	step, names, err := stepAndNames(ctx, tx, e)
	if err != nil {
		return err
	}
	_, algo, err := algorithmVersion(ctx, tx, e.AlgorithmVersion)
	if err != nil {
		return err
	}
	// The first announcement gives each staff member their code.
	var first bool
	if err := tx.QueryRowContext(ctx, "SELECT announced_step IS NULL FROM emergencies WHERE id = ?", e.ID).Scan(&first); err != nil {
		return errs.Wrap(err, "announce")
	}
	prefix := fmt.Sprintf("emergency/%d/step/%d/", e.ID, step)
	base := notify.Message{SchoolID: e.SchoolID, CreatedAt: now}
	var msgs []notify.Message
	type member struct {
		id                    int64
		position, phone, lang string
		homeroom              string
	}
	staff, err := store.Collect(ctx, tx, func(rows *sql.Rows) (member, error) {
		var m member
		err := rows.Scan(&m.id, &m.position, &m.phone, &m.lang, &m.homeroom)
		return m, err
	}, "SELECT id, position, phone, language, homeroom FROM staff WHERE school_id = ? ORDER BY id", e.SchoolID)
	if err != nil {
		return errs.Wrap(err, "announce")
	}
	var codes *store.Bulk
	if first {
		codes = tx.NewBulk("emergency_staff", "emergency_id", "staff_id", "role", "homeroom", "token_hash")
	}
	told := 0
	for _, m := range staff {
		r := staffRole(m.position)
		var b strings.Builder
		b.WriteString(header(e, m.lang, kind, names.in(m.lang)))
		for i, st := range algo[e.Scenario][r] {
			if i == 2 {
				break
			}
			fmt.Fprintf(&b, "\n%d. %s", i+1, st.In(m.lang))
		}
		if first {
			tok, hash := markToken()
			if err := codes.Add(ctx, e.ID, m.id, string(r), m.homeroom, hash); err != nil {
				return errs.Wrap(err, "announce")
			}
			b.WriteString("\n")
			if r == Teacher && m.homeroom != "" {
				fmt.Fprintf(&b, markLine.In(m.lang), m.homeroom, tok)
			} else {
				fmt.Fprintf(&b, codeLine.In(m.lang), tok)
			}
			if s.PublicURL != "" {
				fmt.Fprintf(&b, codeWhere.In(m.lang), strings.TrimRight(s.PublicURL, "/"))
			}
		}
		if m.phone == "" {
			continue
		}
		msg := base
		msg.Key = fmt.Sprintf("%sstaff/%d/sms", prefix, m.id)
		msg.Channel, msg.Recipient, msg.Kind, msg.Language, msg.Body = notify.ChannelSMS, m.phone, "emergency.staff", m.lang, b.String()
		msgs = append(msgs, msg)
		told++
	}
	if first {
		if err := codes.Flush(ctx); err != nil {
			return errs.Wrap(err, "announce")
		}
		if _, err := tx.ExecContext(ctx, "UPDATE emergencies SET announced_step = ?, staff_total = ? WHERE id = ?", step, told, e.ID); err != nil {
			return errs.Wrap(err, "announce")
		}
	}
	// A drill is the school's own exercise: its guardians are not told
	// (thousands of messages at once, and a parent reading "do not come to
	// the school" would come).
	if gt, ok := guardianText[e.Mode]; ok && !e.Drill {
		gm, err := s.guardianMessages(ctx, tx, e, kind, names, gt, base, prefix, now)
		if err != nil {
			return err
		}
		msgs = append(msgs, gm...)
	}
	if s.WebhookURL != "" {
		pa, err := s.paMessages(ctx, tx, e, kind, names, base, prefix)
		if err != nil {
			return err
		}
		msgs = append(msgs, pa...)
	}
	_, err = notify.Enqueue(ctx, tx, msgs)
	return errs.Wrap(err, "announce")
}

// guardianMessages tells each consenting guardian of the school's pupils,
// once however many children they have there, on the channels they have
// not switched off.
func (s *Service) guardianMessages(ctx context.Context, tx *store.Tx, e Emergency, kind string, names schoolNames, gt Text, base notify.Message, prefix string, now time.Time) ([]notify.Message, error) {
	day := kztime.Today(now).Format(time.DateOnly)
	var msgs []notify.Message
	err := store.Each(ctx, tx, func(rows *sql.Rows) error {
		var id int64
		var phone, email, chat, lang, off string
		if err := rows.Scan(&id, &phone, &email, &chat, &lang, &off); err != nil {
			return err
		}
		body := header(e, lang, kind, names.in(lang)) + "\n" + fmt.Sprintf(gt.In(lang), names.in(lang))
		wants := func(ch notify.ChannelName) bool { return !strings.Contains(","+off+",", ","+string(ch)+",") }
		add := func(ch notify.ChannelName, to string) {
			m := base
			m.Key = fmt.Sprintf("%sguardian/%d/%s", prefix, id, ch)
			m.Channel, m.Recipient, m.Kind, m.Language, m.Body = ch, to, "emergency.guardian", lang, body
			if ch == notify.ChannelEmail {
				m.Subject = header(e, lang, kind, names.in(lang))
			}
			msgs = append(msgs, m)
		}
		switch {
		case chat != "" && wants(notify.ChannelBot):
			add(notify.ChannelBot, chat)
		case wants(notify.ChannelSMS):
			add(notify.ChannelSMS, phone)
		}
		if email != "" && wants(notify.ChannelEmail) {
			add(notify.ChannelEmail, email)
		}
		return nil
	}, `SELECT DISTINCT g.id, g.phone, g.email, g.messenger_id, g.language, g.channels_off
		FROM pupils p JOIN pupil_guardians pg ON pg.pupil_id = p.id JOIN guardians g ON g.id = pg.guardian_id
		WHERE p.school_id = ? AND g.consent_given_on IS NOT NULL AND g.consent_given_on <= ? AND (g.consent_withdrawn_on IS NULL OR g.consent_withdrawn_on > ?)
		ORDER BY g.id`, e.SchoolID, day, day)
	return msgs, errs.Wrap(err, "guardian messages")
}

// PACommand is what a public-address device is told (the body of its
// webhook message); its gateway plays the announcement.
type PACommand struct {
	Command      string `json:"command"` // announce, stop
	DeviceID     int64  `json:"device_id"`
	MQTTClientID string `json:"mqtt_client_id,omitempty"`
	EmergencyID  int64  `json:"emergency_id"`
	Mode         Mode   `json:"mode,omitempty"`
	Drill        bool   `json:"drill"`
	TextKK       string `json:"text_kk"`
	TextRU       string `json:"text_ru"`
}

func (s *Service) paMessages(ctx context.Context, tx *store.Tx, e Emergency, kind string, names schoolNames, base notify.Message, prefix string) ([]notify.Message, error) {
	var msgs []notify.Message
	err := store.Each(ctx, tx, func(rows *sql.Rows) error {
		var c PACommand
		var client sql.NullString
		if err := rows.Scan(&c.DeviceID, &client); err != nil {
			return err
		}
		c.Command, c.MQTTClientID, c.EmergencyID, c.Mode, c.Drill = "announce", client.String, e.ID, e.Mode, e.Drill
		if kind == "cancelled" || kind == AllClear {
			c.Command, c.Mode = "stop", ""
			c.TextKK, c.TextRU = fmt.Sprintf(closingText[kind].KK, names.kk), fmt.Sprintf(closingText[kind].RU, names.ru)
		} else {
			c.TextKK, c.TextRU = header(e, "kk", kind, names.kk), header(e, "ru", kind, names.ru)
		}
		body, _ := json.Marshal(c)
		m := base
		m.Key = fmt.Sprintf("%sdevice/%d/webhook", prefix, c.DeviceID)
		m.Channel, m.Recipient, m.Kind, m.Language, m.Body = notify.ChannelWebhook, s.WebhookURL, "emergency.public_address", "kk", string(body)
		msgs = append(msgs, m)
		return nil
	}, "SELECT id, mqtt_client_id FROM devices WHERE school_id = ? AND kind = ? ORDER BY id", e.SchoolID, string(registry.PublicAddress))
	return msgs, errs.Wrap(err, "public address")
}

// closing tells everyone who got a message of this emergency that it is
// over: a false alarm (kind cancelled) or all clear, in the language of the
// message they got, on the same channel; and the public-address devices
// to stop.
func (s *Service) closing(ctx context.Context, tx *store.Tx, e Emergency, kind string, now time.Time) error {
	if err := s.feed(ctx, tx, e, "emergency."+kind, now); err != nil {
		return err
	}
	step, names, err := stepAndNames(ctx, tx, e)
	if err != nil {
		return err
	}
	prefix := fmt.Sprintf("emergency/%d/", e.ID)
	base := notify.Message{SchoolID: e.SchoolID, CreatedAt: now}
	var msgs []notify.Message
	// Keys of this emergency sort between "emergency/{id}/" and
	// "emergency/{id}0" ('0' follows '/'): a range on the key's index.
	err = store.Each(ctx, tx, func(rows *sql.Rows) error {
		var ch, to, lang string
		if err := rows.Scan(&ch, &to, &lang); err != nil {
			return err
		}
		body := fmt.Sprintf(closingText[kind].In(lang), names.in(lang))
		if e.Drill {
			body = drillMark.In(lang) + body
		}
		sum := sha256.Sum256([]byte(ch + "\x00" + to))
		m := base
		m.Key = fmt.Sprintf("%sstep/%d/to/%s/%s", prefix, step, hex.EncodeToString(sum[:12]), ch)
		m.Channel, m.Recipient, m.Kind, m.Language, m.Body = notify.ChannelName(ch), to, "emergency."+kind, lang, body
		if m.Channel == notify.ChannelEmail {
			m.Subject = body
		}
		msgs = append(msgs, m)
		return nil
	}, `SELECT channel, recipient, MIN(language) FROM outbox WHERE idempotency_key >= ? AND idempotency_key < ? AND kind <> 'emergency.public_address'
		GROUP BY channel, recipient ORDER BY channel, recipient`, prefix, fmt.Sprintf("emergency/%d0", e.ID))
	if err != nil {
		return errs.Wrap(err, "closing messages")
	}
	if s.WebhookURL != "" && !e.Silent {
		pa, err := s.paMessages(ctx, tx, e, kind, names, base, fmt.Sprintf("%sstep/%d/", prefix, step))
		if err != nil {
			return err
		}
		msgs = append(msgs, pa...)
	}
	_, err = notify.Enqueue(ctx, tx, msgs)
	return errs.Wrap(err, "closing messages")
}
