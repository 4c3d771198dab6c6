package emergency_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"qorgan/internal/cap"
	"qorgan/internal/emergency"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
)

// TestCAPAlerts: every step of an emergency — a lockdown declared from the
// school and confirmed, changed to an evacuation, ended all clear; a drill;
// a false alarm — is a CAP 1.2 alert that the official schema accepts
// (xmllint), each later one naming the earlier ones, with the right
// message type, status and response.
func TestCAPAlerts(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("QORGAN_TEST_REQUIRE_XMLLINT") == "1" {
			t.Fatal("QORGAN_TEST_REQUIRE_XMLLINT=1 but xmllint is missing (apt-get install -y libxml2-utils)")
		}
		t.Skip("xmllint is missing (Debian's libxml2-utils)")
	}
	schema, _ := filepath.Abs("../cap/testdata/CAP-v1.2.xsd")
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		e := f.live(t, "director", declaration(emergency.Lockdown))
		if _, err := f.svc.Update(ctx, f.p["director"], e.ID, emergency.Change{Mode: emergency.Evacuate, Place: "Стадион у школы"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.End(ctx, f.p["cou"], e.ID, emergency.AllClear); err != nil {
			t.Fatal(err)
		}
		alerts, err := f.svc.Alerts(ctx, f.p["cou"], e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(alerts) != 3 { // confirmed (the declaration waited for it), updated, all clear
			t.Fatalf("%d alerts, want 3", len(alerts))
		}
		wantType := []cap.MsgType{cap.AlertMsg, cap.Update, cap.Update}
		wantResp := []cap.ResponseType{cap.Shelter, cap.Evacuate, cap.AllClear}
		for i, a := range alerts {
			if a.MsgType != wantType[i] || a.Status != cap.Actual || a.Info[0].ResponseType[0] != wantResp[i] || len(a.References) != i {
				t.Errorf("alert %d: %s %s %v, %d references", i, a.MsgType, a.Status, a.Info[0].ResponseType, len(a.References))
			}
			validate(t, xmllint, schema, a)
		}
		if got := alerts[0].Info[1].Event; got != "Қарулы шабуыл" || alerts[0].Info[1].Language != "kk-KZ" {
			t.Errorf("the Kazakh info: %q %q", alerts[0].Info[1].Language, got)
		}

		// A drill, called off as a false alarm: Exercise, then a Cancel.
		d := declaration(emergency.Hold)
		d.Drill = true
		es, err := f.svc.Declare(ctx, f.p["cou"], d)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.End(ctx, f.p["cou"], es[0].ID, emergency.FalseAlarm); err != nil {
			t.Fatal(err)
		}
		drill, err := f.svc.Alerts(ctx, f.p["cou"], es[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		last := drill[len(drill)-1]
		if drill[0].Status != cap.Exercise || last.MsgType != cap.Cancel || !strings.HasPrefix(drill[0].Info[0].Headline, "УЧЕНИЯ.") {
			t.Errorf("the drill's alerts: %s, last %s, %q", drill[0].Status, last.MsgType, drill[0].Info[0].Headline)
		}
		for _, a := range drill {
			validate(t, xmllint, schema, a)
		}
	})
}

func validate(t *testing.T, xmllint, schema string, a cap.Alert) {
	t.Helper()
	data, err := cap.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "alert.xml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", schema, path).CombinedOutput(); err != nil {
		t.Errorf("alert %s does not validate: %v\n%s\n%s", a.Identifier, err, out, data)
	}
}

// TestPushCAP: the alerts reach the webhook in order, each once; a refusal
// is tried again from where it stopped; a silent emergency's never go.
func TestPushCAP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		var mu sync.Mutex
		var got []string
		refuse := true
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			if refuse {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			body, _ := io.ReadAll(r.Body)
			a, err := cap.Parse(body)
			if err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), cap.ContentType) {
				t.Errorf("the webhook got %q: %v", r.Header.Get("Content-Type"), err)
			}
			got = append(got, string(a.MsgType)+" "+string(a.Info[0].ResponseType[0]))
		}))
		defer srv.Close()
		wh, err := cap.NewWebhook(srv.URL, cap.ContentType, srv.Client(), nil)
		if err != nil {
			t.Fatal(err)
		}
		e := f.live(t, "cou", declaration(emergency.Lockdown))
		if n, err := f.svc.PushCAP(ctx, wh); err == nil || n != 0 {
			t.Fatalf("a refusing webhook: %d sent, %v", n, err)
		}
		refuse = false
		if n, err := f.svc.PushCAP(ctx, wh); err != nil || n != 1 {
			t.Fatalf("push: %d, %v", n, err)
		}
		if _, err := f.svc.End(ctx, f.p["cou"], e.ID, emergency.AllClear); err != nil {
			t.Fatal(err)
		}
		s := declaration(emergency.Lockdown)
		s.Silent = true
		if _, err := f.svc.Declare(ctx, f.p["cou"], s); err != nil {
			t.Fatal(err)
		}
		if n, err := f.svc.PushCAP(ctx, wh); err != nil || n != 1 {
			t.Fatalf("push after the all-clear and a silent emergency: %d, %v", n, err)
		}
		if n, _ := f.svc.PushCAP(ctx, wh); n != 0 {
			t.Errorf("a second push sent %d again", n)
		}
		if want := "Alert Shelter|Update AllClear"; strings.Join(got, "|") != want {
			t.Errorf("the webhook got %q, want %q", strings.Join(got, "|"), want)
		}
	})
}
