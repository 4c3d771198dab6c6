package main_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"qorgan/internal/kztime"
	"qorgan/internal/notify"
)

// TestMQTTPassToGuardiansEndToEnd: a turnstile publishes a pass over MQTT 5
// with QoS 1 to the real Mosquitto broker; the real binary takes it through
// its shared subscription into presence and into exactly one message on
// each of the four sinks — the messenger bot, e-mail and the webhook of a
// Russian-speaking guardian, the SMS of a Kazakh-speaking one who switched
// the webhook off — each in its guardian's language. The device publishing
// the same event again (same event_id) sends nobody anything more.
func TestMQTTPassToGuardiansEndToEnd(t *testing.T) {
	broker := mqttBroker(t)
	box, sinks := guardianSinks(t)
	s, run, prefix := mqttDemo(t, broker, "pm", sinks...)
	const pw = "qorgan-demo-2026"
	admin, _ := signIn(t, s.base, "admin", pw)
	director, _ := signIn(t, s.base, "director", pw)
	guard, _ := signIn(t, s.base, "guard", pw)

	child := addPupil(t, director, "MQTT-1", "E2E0C0DF",
		map[string]any{"phone": "+77019990011", "full_name": "Сәуле", "language": "ru", "email": "saule@example.kz", "messenger_id": "778", "consent_given_on": "2025-09-01"},
		map[string]any{"phone": "+77019990012", "full_name": "Ерлан", "language": "kk", "consent_given_on": "2025-09-01"})
	// The Kazakh-speaking guardian signs in and switches the webhook off,
	// so that each sink gets exactly one message.
	kkGuardian := child.Guardians[1].ID
	if st := admin.do("POST", "/api/v1/users", map[string]any{"login": "erlan", "full_name": "Ерлан", "password": "a-long-password-1",
		"role": "guardian", "scope": map[string]string{"kind": "guardian", "ref": fmt.Sprint(kkGuardian)}}, nil); st != 201 {
		t.Fatalf("create the guardian's login: %d", st)
	}
	erlan, st := signIn(t, s.base, "erlan", "a-long-password-1")
	if st != 200 {
		t.Fatalf("guardian sign-in: %d", st)
	}
	if st := erlan.do("PUT", "/api/v1/me/channels", map[string]any{"off": []string{"webhook"}}, nil); st != 200 {
		t.Fatalf("switch the webhook off: %d", st)
	}
	// A probe pupil without guardians: its passes show when the server has
	// taken a message, and notify nobody.
	var probe pupil
	if st := director.do("POST", "/api/v1/schools/1/pupils", map[string]any{"external_id": "MQTT-PROBE", "last_name": "Probe", "first_name": "Probe",
		"class": "5А", "card_uid": "E2E0FFFF", "guardians": []any{}}, &probe); st != 201 {
		t.Fatalf("create the probe pupil: %d", st)
	}

	gate := "gate-" + run
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cm := mqttDevice(t, ctx, director, broker, "turnstile", "MQTT gate", gate)
	defer cm.Disconnect(context.Background())
	topic := prefix + "/devices/" + gate + "/passes"
	publish := func(eventID, direction, card string, at time.Time) {
		t.Helper()
		body := fmt.Sprintf(`{"events":[{"event_id":%q,"at":%q,"direction":%q,"card_uid":%q}]}`, eventID, at.UTC().Format(time.RFC3339), direction, card)
		if _, err := cm.Publish(ctx, &paho.Publish{Topic: topic, QoS: 1, Payload: []byte(body)}); err != nil {
			t.Fatalf("publish %s: %v", eventID, err)
		}
	}
	waitPresence := func(id int64, want string, again func()) {
		t.Helper()
		for end, next := time.Now().Add(20*time.Second), time.Now(); ; time.Sleep(100 * time.Millisecond) {
			if presenceOf(guard, id) == want {
				return
			}
			if time.Now().After(end) {
				t.Fatalf("pupil %d is not %s on the roll-call", id, want)
			}
			if again != nil && time.Now().After(next) {
				again()
				next = time.Now().Add(time.Second)
			}
		}
	}

	// The server subscribes after it starts listening: publish the probe's
	// entry (the same event each time) until it is seen, so the pass that
	// matters is not published before anyone listens.
	probeIn := time.Now().Add(-2 * time.Minute)
	waitPresence(probe.ID, "inside", func() { publish(run+"-probe-in", "in", "E2E0FFFF", probeIn) })

	at := time.Now().Add(-time.Minute).Truncate(time.Second)
	eventID := run + "-1"
	publish(eventID, "in", "E2E0C0DF", at)
	waitPresence(child.ID, "inside", nil)
	box.waitFor(t, map[string]int{"bot": 1, "email": 1, "sms": 1, "webhook": 1})

	render := func(lang, key string) string {
		t.Helper()
		text, err := notify.Render(lang, key, notify.Vars{Name: "Айгерім", At: at})
		if err != nil {
			t.Fatal(err)
		}
		return text
	}
	hhmm := at.In(kztime.Almaty).Format("15:04")
	ru, kk := render("ru", "pupil.entered"), render("kk", "pupil.entered")
	if !strings.Contains(ru, "вход в школу в "+hhmm) || !strings.Contains(kk, "мектепке "+hhmm) || strings.Contains(ru, "Ахметова") {
		t.Fatalf("unexpected texts: %q, %q", ru, kk)
	}
	for ch, want := range map[string]string{"bot": ru, "webhook": ru, "email": render("ru", "subject.attendance") + "\n" + ru, "sms": kk} {
		if got := box.texts(ch); len(got) != 1 || got[0] != want {
			t.Errorf("%s: got %q, want %q", ch, got, want)
		}
	}

	// The device publishes the same event again; then the probe's exit, a
	// new event, whose arrival on the roll-call shows the server has been
	// through what was published before it.
	publish(eventID, "in", "E2E0C0DF", at)
	publish(run+"-probe-out", "out", "E2E0FFFF", time.Now())
	waitPresence(probe.ID, "left", nil)
	box.waitFor(t, map[string]int{"bot": 1, "email": 1, "sms": 1, "webhook": 1})
	time.Sleep(time.Second) // the delivery worker has had every chance to send a second copy
	for _, ch := range []string{"bot", "email", "sms", "webhook"} {
		if n := box.count(ch); n != 1 {
			t.Errorf("after the resend %s got %d messages, want 1: %q", ch, n, box.texts(ch))
		}
	}
	// And the outbox holds the four messages once each.
	var status struct {
		Counts []struct {
			Channel string `json:"channel"`
			Status  string `json:"status"`
			Count   int    `json:"count"`
		} `json:"counts"`
	}
	if st := director.do("GET", "/api/v1/schools/1/notifications", nil, &status); st != 200 {
		t.Fatalf("notifications: %d", st)
	}
	total := 0
	for _, c := range status.Counts {
		total += c.Count
		if c.Status != "sent" {
			t.Errorf("%d %s messages are %s", c.Count, c.Channel, c.Status)
		}
	}
	if total != 4 {
		t.Errorf("the outbox holds %d messages, want 4: %+v", total, status.Counts)
	}
}
