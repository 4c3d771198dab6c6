package alarm

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

// The live event's payload is the alarm as encoding/json writes it, byte
// for byte, whatever its fields and text hold.
func TestPayloadIsJSONMarshal(t *testing.T) {
	almaty := time.FixedZone("+05", 5*3600)
	at := time.Date(2026, 12, 7, 8, 15, 4, 123456789, time.UTC)
	whole := at.Truncate(time.Second).In(almaty)
	tricky := "Школа №1 «Қазақ» <b>&amp;</b> \"q\" \\ \x00\x01\b\f\n\r\t\x1f\x7f \xff\xfe bad \u2028\u2029 ok 🚨"
	cases := map[string]Alarm{
		"as raised": {ID: 17, SchoolID: 3, SchoolName: "Школа-гимназия № 12", SchoolNameKK: "№ 12 мектеп-гимназия", DeviceID: 9, Type: "panic",
			Code: "BA", Zone: "001", Priority: 1, State: Raised, ProviderID: 2, PoliceUnitID: 4, ReceivedAt: at, CommittedAt: at.Add(time.Millisecond),
			NextEscalation: &whole, Steps: []Step{}},
		"zero":   {},
		"no ids": {ID: 1, SchoolID: 1, Type: "fire", State: Acknowledged, ReceivedAt: whole, CommittedAt: whole, Steps: []Step{}},
		"everything": {ID: 1 << 40, SchoolID: 5, SchoolName: tricky, SchoolNameKK: tricky, DeviceID: -3, Type: tricky, Code: tricky, Description: tricky,
			Zone: tricky, Partition: tricky, Priority: 2, Silent: true, State: Resolved, Resolution: "false", Notes: tricky, ProviderID: 7, PoliceUnitID: 8,
			ReceivedAt: at.In(almaty), CommittedAt: at, FirstDeliveryAt: &at, EscalationLevel: 2, NextEscalation: &at, ResolvedAt: &whole,
			Steps: []Step{{At: at, Party: PartyPCN, Step: "acknowledged", UserID: 12, Detail: tricky}, {At: whole, Party: PartySystem, Step: "escalated"}}},
	}
	for name, a := range cases {
		check(t, name, a)
	}
	// Random text, every byte value included.
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		s := make([]byte, r.IntN(40))
		for j := range s {
			s[j] = byte(r.IntN(256))
		}
		check(t, "random", Alarm{SchoolName: string(s), Notes: string(s) + "\u2028", Steps: []Step{{Detail: string(s)}}})
	}
}

func check(t *testing.T, name string, a Alarm) {
	t.Helper()
	want, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if got := payload(&a); !bytes.Equal(got, want) {
		t.Fatalf("%s:\n got %s\nwant %s", name, got, want)
	}
}

func BenchmarkPayload(b *testing.B) {
	at := time.Date(2026, 12, 7, 8, 15, 4, 123456789, time.UTC)
	a := Alarm{ID: 17, SchoolID: 3, SchoolName: "Школа-гимназия № 12", SchoolNameKK: "№ 12 мектеп-гимназия", DeviceID: 9, Type: "panic",
		Code: "BA", Zone: "001", Priority: 1, State: Raised, ProviderID: 2, PoliceUnitID: 4, ReceivedAt: at, CommittedAt: at, NextEscalation: &at, Steps: []Step{}}
	b.Run("json.Marshal", func(b *testing.B) {
		for b.Loop() {
			json.Marshal(a)
		}
	})
	b.Run("payload", func(b *testing.B) {
		for b.Loop() {
			payload(&a)
		}
	})
}
