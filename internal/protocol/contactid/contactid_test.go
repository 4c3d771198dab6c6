package contactid

import (
	"errors"
	"testing"

	"qorgan/internal/protocol/alarmcode"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Report
	}{
		{"#1234|1120 01 005", Report{Account: "1234", Qualifier: NewEvent, Event: "120", Group: "01", ZoneOrUser: "005"}},
		{"#4F39|3401 01 057", Report{Account: "4F39", Qualifier: NewRestore, Event: "401", Group: "01", ZoneOrUser: "057"}},
		{"|1602 00 001", Report{Qualifier: NewEvent, Event: "602", Group: "00", ZoneOrUser: "001"}},
		{"6137 02 011", Report{Qualifier: StillPresent, Event: "137", Group: "02", ZoneOrUser: "011"}},
		{"112101003", Report{Qualifier: NewEvent, Event: "121", Group: "01", ZoneOrUser: "003"}},
	} {
		got, err := Parse(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "#1234", "#|1120 01 005", "#12 4|1120 01 005", "1120 01 05",
		"1120-01-005", "A120 01 005", "1120 01 005 ", "11200100", "#1234|1120 01 005|x"} {
		if _, err := Parse(in); !errors.Is(err, ErrFormat) {
			t.Errorf("Parse(%q) err %v, want ErrFormat", in, err)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		in       string
		typ      alarmcode.Type
		restores alarmcode.Type
		zone     string
		user     string
		status   bool
		known    bool
		sia      string
	}{
		{"1120 01 005", alarmcode.Panic, "", "005", "", false, true, "PA"},
		{"3120 01 005", alarmcode.Restore, alarmcode.Panic, "005", "", false, true, "PH"},
		{"1121 01 003", alarmcode.Duress, "", "", "003", false, true, "HA"},
		{"1122 01 004", alarmcode.SilentPanic, "", "004", "", false, true, "HA"},
		{"1123 01 004", alarmcode.Panic, "", "004", "", false, true, "PA"},
		{"1110 00 129", alarmcode.Fire, "", "129", "", false, true, "FA"},
		{"1100 00 001", alarmcode.Medical, "", "001", "", false, true, "MA"},
		{"1137 00 002", alarmcode.Tamper, "", "002", "", false, true, "TA"},
		{"1301 00 000", alarmcode.ACLoss, "", "000", "", false, true, "AT"},
		{"3301 00 000", alarmcode.Restore, alarmcode.ACLoss, "000", "", false, true, "AR"},
		{"1302 00 000", alarmcode.LowBattery, "", "000", "", false, true, "YT"},
		{"1384 00 012", alarmcode.LowBattery, "", "012", "", false, true, "XT"},
		{"1350 00 000", alarmcode.CommTrouble, "", "000", "", false, true, "YC"},
		{"3354 00 004", alarmcode.Restore, alarmcode.CommTrouble, "004", "", false, true, "YK"},
		{"1602 00 001", alarmcode.PeriodicTest, "", "001", "", false, true, "RP"},
		{"1401 01 057", alarmcode.Opening, "", "", "057", false, true, "OP"},
		{"3401 01 057", alarmcode.Closing, "", "", "057", false, true, "CL"},
		{"6120 01 005", alarmcode.Panic, "", "005", "", true, true, "PA"},
		{"1130 01 005", alarmcode.Burglary, "", "005", "", false, true, "BA"},
		{"3130 01 005", alarmcode.Restore, alarmcode.Burglary, "005", "", false, true, "BH"},
		{"1777 01 005", alarmcode.Unknown, "", "005", "", false, false, ""},
		{"2120 01 005", alarmcode.Unknown, "", "005", "", false, false, ""},
	} {
		r, err := Parse(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		ev := r.Classify()
		if ev.Type != tc.typ || ev.Restores != tc.restores || ev.Zone != tc.zone || ev.User != tc.user ||
			ev.Status != tc.status || ev.Known != tc.known || r.SIACode() != tc.sia {
			t.Errorf("%s: %+v (SIA %q)", tc.in, ev, r.SIACode())
		}
		if ev.Format != alarmcode.ContactID || ev.Code != tc.in[:4] || ev.Partition != tc.in[5:7] {
			t.Errorf("%s: format/code/partition %+v", tc.in, ev)
		}
		if ev.IsRestore() != (tc.typ == alarmcode.Restore) {
			t.Errorf("%s: IsRestore %v", tc.in, ev.IsRestore())
		}
	}
}

func TestStringRoundTrip(t *testing.T) {
	for _, in := range []string{"#1234|1120 01 005", "3401 01 057"} {
		r, err := Parse(in)
		if err != nil || r.String() != in {
			t.Errorf("%q: String() = %q, %v", in, r.String(), err)
		}
	}
}

func TestEveryKnownCodeHasAName(t *testing.T) {
	for i := 0; i < 1000; i++ {
		code := string([]byte{byte('0' + i/100), byte('0' + i/10%10), byte('0' + i%10)})
		name, known := Describe(code)
		if known && name == "" {
			t.Errorf("%s known without a name", code)
		}
		if !known && name != "" {
			t.Errorf("%s named %q but unknown", code, name)
		}
	}
	for _, code := range []string{"120", "121", "122", "123", "124", "125", "110", "100", "137", "301", "302", "350", "602", "401"} {
		if _, known := Describe(code); !known {
			t.Errorf("%s unknown", code)
		}
	}
}
