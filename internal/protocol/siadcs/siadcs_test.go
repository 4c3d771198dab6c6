package siadcs

import (
	"errors"
	"reflect"
	"testing"

	"qorgan/internal/protocol/alarmcode"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Block
	}{
		{"#78919|Nri1/BA012", Block{Account: "78919", Events: []Event{{Code: "BA", Address: "012", Area: "1"}}}},
		{"#1234|Nri1/BA01/BA02", Block{Account: "1234", Events: []Event{
			{Code: "BA", Address: "01", Area: "1"}, {Code: "BA", Address: "02", Area: "1"}}}},
		{"Nri1/BA01/ri2/BA02", Block{Events: []Event{
			{Code: "BA", Address: "01", Area: "1"}, {Code: "BA", Address: "02", Area: "2"}}}},
		// dc09_spt writes no slash between modifier and code.
		{"#1234|Nri1PA001", Block{Account: "1234", Events: []Event{{Code: "PA", Address: "001", Area: "1"}}}},
		{"NFA129", Block{Events: []Event{{Code: "FA", Address: "129"}}}},
		// Without the function code "N", NP is the code itself.
		{"NP501", Block{Events: []Event{{Code: "NP", Address: "501"}}}},
		{"#0000|Nri1/NP501", Block{Account: "0000", Events: []Event{{Code: "NP", Address: "501", Area: "1"}}}},
		{"|Nri2/JC12", Block{Events: []Event{{Code: "JC", Address: "12", Area: "2"}}}},
		{"#3080|Nti19:44/id1/ri4/RP", Block{Account: "3080", Events: []Event{{Code: "RP", Area: "4", User: "1", Time: "19:44"}}}},
		{"#123456|Nri1CL0^VX FRONTE ^", Block{Account: "123456", Events: []Event{{Code: "CL", Address: "0", Area: "1", Text: "VX FRONTE "}}}},
		{"#1234|NRR|Atest", Block{Account: "1234", Events: []Event{{Code: "RR"}}, Text: "test"}},
		{"#006969|Nri04/OP001NM", Block{Account: "006969", Events: []Event{{Code: "OP", Address: "001", Area: "04", Extra: "NM"}}}},
		{"Nid3/ri2/OP3^J\xe9r\xf4me^", Block{Events: []Event{{Code: "OP", Address: "3", Area: "2", User: "3", Text: "J\xe9r\xf4me"}}}},
		{"#1234|Nri1/PA501^unterminated", Block{Account: "1234", Events: []Event{{Code: "PA", Address: "501", Area: "1", Text: "unterminated"}}}},
		{"#1234|Nri1/BA01|Nri2/FA02", Block{Account: "1234", Events: []Event{
			{Code: "BA", Address: "01", Area: "1"}, {Code: "FA", Address: "02", Area: "2"}}}},
		{"#1234|Npi5/ri1/TA003", Block{Account: "1234", Events: []Event{{Code: "TA", Address: "003", Area: "1"}}}},
	} {
		got, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse(%q) =\n %+v, want\n %+v", tc.in, got, tc.want)
		}
	}
	for _, in := range []string{"", "#1234", "#1234|", "#12 4|NPA1", "N", "Nri1", "Nr1/PA1", "Nri1/P", "N PA1", "|Aonly text"} {
		if _, err := Parse(in); !errors.Is(err, ErrFormat) {
			t.Errorf("Parse(%q) err %v, want ErrFormat", in, err)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		in        string
		typ       alarmcode.Type
		restores  alarmcode.Type
		zone      string
		user      string
		partition string
		known     bool
	}{
		{"Nri1/PA501", alarmcode.Panic, "", "501", "", "1", true},
		{"Nri1/PH501", alarmcode.Restore, alarmcode.Panic, "501", "", "1", true},
		{"Nri1/HA002", alarmcode.Holdup, "", "002", "", "1", true},
		{"Nri1/FA003", alarmcode.Fire, "", "003", "", "1", true},
		{"Nri1/MA004", alarmcode.Medical, "", "004", "", "1", true},
		{"Nri1/BA006", alarmcode.Burglary, "", "006", "", "1", true},
		{"Nri1/BH006", alarmcode.Restore, alarmcode.Burglary, "006", "", "1", true},
		{"Nri1/TA005", alarmcode.Tamper, "", "005", "", "1", true},
		{"Nri1/TR005", alarmcode.Restore, alarmcode.Tamper, "005", "", "1", true},
		{"NAT", alarmcode.ACLoss, "", "", "", "", true},
		{"NYT", alarmcode.LowBattery, "", "", "", "", true},
		{"NXT012", alarmcode.LowBattery, "", "012", "", "", true},
		{"NYC", alarmcode.CommTrouble, "", "", "", "", true},
		{"Nri1/RP0000", alarmcode.PeriodicTest, "", "", "", "1", true},
		{"Nri1/OP501", alarmcode.Opening, "", "", "501", "1", true},
		{"Nri1/CL501", alarmcode.Closing, "", "", "501", "1", true},
		{"Nid7/ri1/CL501", alarmcode.Closing, "", "501", "7", "1", true},
		{"NCG2", alarmcode.Closing, "", "", "", "2", true},
		{"Nri1/WA000", alarmcode.Unknown, "", "000", "", "1", true},
		{"Nri1/QQ017", alarmcode.Unknown, "", "017", "", "1", false},
	} {
		b, err := Parse(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		ev := b.Events[0].Classify()
		if ev.Type != tc.typ || ev.Restores != tc.restores || ev.Zone != tc.zone || ev.User != tc.user ||
			ev.Partition != tc.partition || ev.Known != tc.known || ev.Format != alarmcode.SIADCS {
			t.Errorf("%s: %+v", tc.in, ev)
		}
		if tc.known && ev.Description == "" {
			t.Errorf("%s: no description", tc.in)
		}
	}
}

func TestStringRoundTrip(t *testing.T) {
	for _, in := range []string{"#78919|Nri1/BA012", "#1234|NRR|Atest", "Nti19:44/id1/ri4/RP", "#1|Nri1/BA01/ri1/BA02^x^"} {
		b, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse(b.String())
		if err != nil || !reflect.DeepEqual(again, b) {
			t.Errorf("%q: String() = %q parses to %+v, %v", in, b.String(), again, err)
		}
	}
}

func TestEveryCodeIsTwoLettersWithAName(t *testing.T) {
	n := 0
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			code := string([]rune{a, b})
			info, known := lookup(code)
			if !known {
				continue
			}
			n++
			if info.name == "" {
				t.Errorf("%s has no name", code)
			}
			if (info.typ == alarmcode.Restore) != (info.restores != "") {
				t.Errorf("%s: type %s restores %q", code, info.typ, info.restores)
			}
		}
	}
	if n < 300 {
		t.Errorf("only %d codes known", n)
	}
}
