package cap

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"qorgan/internal/errs"
)

const sender = "qorgan@edu.example.kz"

// declared is 14:05:09 in Almaty, given in UTC with a fraction of a second
// that CAP has no room for.
var declared = time.Date(2026, 12, 6, 9, 5, 9, 731_000_000, time.UTC)

// school is the area of School No. 5 in Semey: a 500 m circle around it and
// its KATO code.
func school() []Area {
	return []Area{{
		AreaDesc: "Школа-гимназия № 5, г. Семей / № 5 мектеп-гимназия, Семей қ.",
		Circle:   []Circle{{Lat: 50.4111, Lon: 80.2275, RadiusKm: 0.5}},
		Geocode:  []Value{KATO("631010000")},
	}}
}

// lockdown is the alert for a lockdown declared at the school, in Russian,
// Kazakh and English.
func lockdown(status Status) Alert {
	return Alert{
		Identifier: "qorgan-emergency-41-1",
		Sender:     sender,
		Sent:       At(declared),
		Status:     status,
		MsgType:    AlertMsg,
		Scope:      Public,
		Info: []Info{
			{Language: "ru-KZ", Category: []Category{Security}, Event: "Вооружённое нападение", ResponseType: []ResponseType{Shelter},
				Urgency: Immediate, Severity: Extreme, Certainty: Observed,
				Headline:    "Локдаун в школе-гимназии № 5 (г. Семей)",
				Description: "Угроза внутри здания. Режим «локдаун» объявлен директором.",
				Instruction: "Не приезжайте в школу, ждите указаний.", Area: school()},
			{Language: "kk-KZ", Category: []Category{Security}, Event: "Қарулы шабуыл", ResponseType: []ResponseType{Shelter},
				Urgency: Immediate, Severity: Extreme, Certainty: Observed,
				Headline:    "№ 5 мектеп-гимназияда оқшаулау режимі (Семей қ.)",
				Description: "Қауіп ғимарат ішінде. Оқшаулау режимін директор жариялады. Әріптер: ә ғ қ ң ө ұ ү һ і.",
				Instruction: "Мектепке келмеңіз, нұсқауларды күтіңіз.", Area: school()},
			{Language: "en", Category: []Category{Security}, Event: "Armed attack", ResponseType: []ResponseType{Shelter},
				Urgency: Immediate, Severity: Extreme, Certainty: Observed,
				Headline: "Lockdown at School No. 5, Semey", Area: school()},
		},
	}
}

// validate checks data against the OASIS CAP 1.2 schema with xmllint. It
// skips without xmllint unless QORGAN_TEST_REQUIRE_XMLLINT is set.
func validate(t *testing.T, data []byte) error {
	t.Helper()
	tool, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("QORGAN_TEST_REQUIRE_XMLLINT") != "" {
			t.Fatalf("xmllint is required (QORGAN_TEST_REQUIRE_XMLLINT is set) but not found: %v", err)
		}
		t.Skip("xmllint not found; install it (Debian: libxml2-utils) or set QORGAN_TEST_REQUIRE_XMLLINT to make this a failure")
	}
	path := filepath.Join(t.TempDir(), "alert.xml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "--noout", "--nonet", "--schema", filepath.Join("testdata", "CAP-v1.2.xsd"), path).CombinedOutput()
	if err != nil {
		return &xmllintError{err: err, out: string(out)}
	}
	return nil
}

type xmllintError struct {
	err error
	out string
}

func (e *xmllintError) Error() string { return e.err.Error() + ": " + e.out }

// marshalValid writes the alert, checks it against the schema and reads it
// back unchanged.
func marshalValid(t *testing.T, a Alert) []byte {
	t.Helper()
	data, err := Marshal(a)
	if err != nil {
		t.Fatalf("Marshal(%s): %v", a.Identifier, err)
	}
	if err := validate(t, data); err != nil {
		t.Fatalf("alert %s does not validate against CAP 1.2: %v\n%s", a.Identifier, err, data)
	}
	back, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if !sameAlert(a, back) {
		t.Errorf("read back differs:\n%+v\nwant\n%+v", back, a)
	}
	return data
}

// sameAlert compares two alerts with their times to the second.
func sameAlert(a, b Alert) bool {
	norm := func(x Alert) Alert {
		x.XMLName.Local, x.XMLName.Space = "", ""
		x.Sent = At(x.Sent.Truncate(time.Second).UTC())
		refs := References{}
		for _, r := range x.References {
			r.Sent = At(r.Sent.Truncate(time.Second).UTC())
			refs = append(refs, r)
		}
		x.References = refs
		sec := func(t *Time) *Time {
			if t == nil {
				return nil
			}
			return AtPtr(t.Truncate(time.Second).UTC())
		}
		infos := []Info{}
		for _, in := range x.Info {
			in.Effective, in.Onset, in.Expires = sec(in.Effective), sec(in.Onset), sec(in.Expires)
			infos = append(infos, in)
		}
		x.Info = infos
		return x
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func TestAlertUpdateCancelAllClear(t *testing.T) {
	first := lockdown(Actual)
	data := marshalValid(t, first)
	for _, s := range []string{
		`<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">`,
		`<sent>2026-12-06T14:05:09+05:00</sent>`,
		`<status>Actual</status>`, `<msgType>Alert</msgType>`, `<scope>Public</scope>`,
		`<language>kk-KZ</language>`,
		`<circle>50.4111,80.2275 0.5</circle>`,
		"<valueName>KATO</valueName>", "<value>631010000</value>",
		`Әріптер: ә ғ қ ң ө ұ ү һ і.`,
	} {
		if !bytes.Contains(data, []byte(s)) {
			t.Errorf("the alert lacks %q:\n%s", s, data)
		}
	}

	// Lockdown becomes evacuation: an Update that names the first alert.
	evacuate := lockdown(Actual)
	evacuate.Identifier = "qorgan-emergency-41-2"
	evacuate.Sent = At(declared.Add(7 * time.Minute))
	evacuate.MsgType = Update
	evacuate.References = References{first.Ref()}
	for i := range evacuate.Info {
		evacuate.Info[i].ResponseType = []ResponseType{Evacuate}
	}
	evacuate.Info[0].Instruction = "Эвакуация к пункту сбора: стадион «Спартак»."
	data = marshalValid(t, evacuate)
	if want := "<references>" + sender + ",qorgan-emergency-41-1,2026-12-06T14:05:09+05:00</references>"; !bytes.Contains(data, []byte(want)) {
		t.Errorf("the update lacks %q:\n%s", want, data)
	}

	// A false alarm: a Cancel of both.
	cancel := Alert{Identifier: "qorgan-emergency-41-3", Sender: sender, Sent: At(declared.Add(9 * time.Minute)),
		Status: Actual, MsgType: Cancel, Scope: Public, Note: "Ложная тревога / Жалған дабыл",
		References: References{first.Ref(), evacuate.Ref()}}
	data = marshalValid(t, cancel)
	want := "<references>" + sender + ",qorgan-emergency-41-1,2026-12-06T14:05:09+05:00 " +
		sender + ",qorgan-emergency-41-2,2026-12-06T14:12:09+05:00</references>"
	if !bytes.Contains(data, []byte(want)) {
		t.Errorf("the cancel lacks %q:\n%s", want, data)
	}

	// All clear: an Update with responseType AllClear.
	clear := Alert{Identifier: "qorgan-emergency-41-4", Sender: sender, Sent: At(declared.Add(40 * time.Minute)),
		Status: Actual, MsgType: Update, Scope: Public, References: References{evacuate.Ref()},
		Info: []Info{{Language: "kk-KZ", Category: []Category{Security}, Event: "Қауіп жойылды", ResponseType: []ResponseType{AllClear},
			Urgency: Past, Severity: Minor, Certainty: Observed, Headline: "Қауіп жоқ", Area: school()}}}
	marshalValid(t, clear)
}

func TestExerciseAlert(t *testing.T) {
	drill := lockdown(Exercise)
	drill.Identifier = "qorgan-drill-7-1"
	drill.Note = "УЧЕБНАЯ ТРЕВОГА / ОҚУ-ЖАТТЫҒУ"
	drill.Info[0].Headline = "УЧЕНИЯ: " + drill.Info[0].Headline
	data := marshalValid(t, drill)
	if !bytes.Contains(data, []byte("<status>Exercise</status>")) {
		t.Errorf("a drill's alert is not an Exercise:\n%s", data)
	}
}

func TestTimesAndEscaping(t *testing.T) {
	a := lockdown(Actual)
	a.Info[0].Description = `Подозрительный предмет <сумка> у входа & "во дворе"; 5 < 7`
	a.Info[0].Expires = AtPtr(time.Date(2026, 12, 6, 23, 59, 59, 999, kzFixed()))
	data := marshalValid(t, a)
	if !bytes.Contains(data, []byte("&lt;сумка&gt; у входа &amp; &#34;во дворе&#34;; 5 &lt; 7")) {
		t.Errorf("the description is not escaped:\n%s", data)
	}
	if !bytes.Contains(data, []byte("<expires>2026-12-06T23:59:59+05:00</expires>")) {
		t.Errorf("expires is not CAP's form in Almaty:\n%s", data)
	}
	var tm Time
	if err := tm.UnmarshalText([]byte("2026-12-06T09:05:09-00:00")); err != nil || !tm.Equal(declared.Truncate(time.Second)) {
		t.Errorf("UTC written -00:00 reads as %v, %v", tm, err)
	}
	for _, bad := range []string{"2026-12-06T09:05:09Z", "2026-12-06T09:05:09.5+05:00", "2026-12-06 09:05:09+05:00"} {
		if err := tm.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("%q read as a CAP time", bad)
		}
	}
}

func kzFixed() *time.Location { return time.FixedZone("+05", 5*3600) }

// The schema check is real: xmllint refuses what CAP 1.2 refuses.
func TestSchemaRefusesWhatCAPRefuses(t *testing.T) {
	data, err := Marshal(lockdown(Actual))
	if err != nil {
		t.Fatal(err)
	}
	for name, broken := range map[string][]byte{
		"a UTC Z":        bytes.Replace(data, []byte("2026-12-06T14:05:09+05:00"), []byte("2026-12-06T09:05:09Z"), 1),
		"unknown status": bytes.Replace(data, []byte("<status>Actual</status>"), []byte("<status>Drill</status>"), 1),
		"no areaDesc":    bytes.Replace(data, []byte("<areaDesc>"), []byte("<areaName>"), 1),
	} {
		if name == "no areaDesc" {
			broken = bytes.Replace(broken, []byte("</areaDesc>"), []byte("</areaName>"), 1)
		}
		if err := validate(t, broken); err == nil {
			t.Errorf("%s: xmllint accepted it", name)
		}
		if _, err := Parse(broken); err == nil {
			t.Errorf("%s: Parse accepted it", name)
		}
	}
}

func TestRefusedAlerts(t *testing.T) {
	cases := []struct {
		field  string
		change func(*Alert)
	}{
		{"identifier", func(a *Alert) { a.Identifier = "" }},
		{"identifier", func(a *Alert) { a.Identifier = "emergency 41" }},
		{"sender", func(a *Alert) { a.Sender = "qorgan,kz" }},
		{"sent", func(a *Alert) { a.Sent = Time{} }},
		{"status", func(a *Alert) { a.Status = "" }},
		{"status", func(a *Alert) { a.Status = "Drill" }},
		{"msgType", func(a *Alert) { a.MsgType = "" }},
		{"scope", func(a *Alert) { a.Scope = "" }},
		{"restriction", func(a *Alert) { a.Scope = Restricted }},
		{"addresses", func(a *Alert) { a.Scope = Private }},
		{"references", func(a *Alert) { a.MsgType = Update }},
		{"references", func(a *Alert) { a.MsgType = Cancel }},
		{"references/0/sent", func(a *Alert) { a.MsgType = Cancel; a.References = References{{Sender: sender, Identifier: "x"}} }},
		{"info/0/category", func(a *Alert) { a.Info[0].Category = nil }},
		{"info/1/category/0", func(a *Alert) { a.Info[1].Category = []Category{"Terror"} }},
		{"info/0/event", func(a *Alert) { a.Info[0].Event = " " }},
		{"info/2/urgency", func(a *Alert) { a.Info[2].Urgency = "" }},
		{"info/0/severity", func(a *Alert) { a.Info[0].Severity = "High" }},
		{"info/0/certainty", func(a *Alert) { a.Info[0].Certainty = "" }},
		{"info/0/responseType/0", func(a *Alert) { a.Info[0].ResponseType = []ResponseType{"Lockdown"} }},
		{"info/0/language", func(a *Alert) { a.Info[0].Language = "ru KZ" }},
		{"info/0/area/0/areaDesc", func(a *Alert) { a.Info[0].Area[0].AreaDesc = "" }},
		{"info/0/area/0/circle/0", func(a *Alert) { a.Info[0].Area[0].Circle[0].Lat = 91 }},
		{"info/0/area/0/geocode/0/value", func(a *Alert) { a.Info[0].Area[0].Geocode[0].Value = "" }},
		{"info/0/web", func(a *Alert) { a.Info[0].Web = "школа 5" }},
		{"info/0/description", func(a *Alert) { a.Info[0].Description = "bad\x00text" }},
	}
	for _, c := range cases {
		a := lockdown(Actual)
		a.Info[0].Area = school() // each case its own area slice
		c.change(&a)
		data, err := Marshal(a)
		e := errs.As(err)
		if err == nil || e.Code != errs.Invalid || e.Field != c.field {
			t.Errorf("%s: err = %v, want invalid naming %s", c.field, err, c.field)
			continue
		}
		if data != nil {
			t.Errorf("%s: Marshal wrote %d bytes of a refused alert", c.field, len(data))
		}
		if !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: the message %q does not name the field", c.field, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, a := range []Alert{lockdown(Actual), lockdown(Exercise)} {
		data, err := Marshal(a)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><references>a,b,c</references></alert>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Parse(data)
		if err != nil {
			return
		}
		again, err := Marshal(a)
		if err != nil {
			t.Fatalf("a parsed alert does not marshal: %v", err)
		}
		b, err := Parse(again)
		if err != nil || !sameAlert(a, b) {
			t.Fatalf("marshal and parse again differ: %v", err)
		}
	})
}
