package alarm_test

import (
	"bytes"
	"testing"

	"qorgan/internal/alarm"
	"qorgan/internal/demo"
	"qorgan/internal/protocol/alarmcode"
	"qorgan/internal/store/storetest"
)

// TestOddBytesStored commits, in one batch, a signal whose raw copy is
// ordinary text and one whose raw copy and event hold a NUL, a 0xFF byte
// and Windows-1251 text, as a panel may send. Both stores take the batch
// alike: the raw copies read back exactly, the odd one is readable text in
// raw with its bytes in raw_bytes, and the alarm's code and zone are text.
func TestOddBytesStored(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx, db := t.Context(), f.db
		plain := []byte("\n5F3E0030\"SIA-DCS\"0001L0#1234[#1234|Nri1/PA501]\r")
		odd := []byte("\n1A2B0031\"SIA-DCS\"0002L0#1234[#1234|Nri1/PA501^\x00\xff\xc0\xcb\xcc^]\r")
		at := f.clk.Now()
		err := f.svc.Commit(ctx, []alarm.Signal{
			{Source: "dc09", Account: demo.PlainAccount, DeviceID: f.plain.ID, SchoolID: f.plain.SchoolID, Sequence: "0001", Content: []byte("1"), Raw: plain, ReceivedAt: at,
				Events: []alarmcode.Event{{Type: alarmcode.Panic, Code: "PA", Zone: "501", Known: true}}},
			{Source: "dc09", Account: demo.PlainAccount, DeviceID: f.plain.ID, SchoolID: f.plain.SchoolID, Sequence: "0002", Content: []byte("2"), Raw: odd, ReceivedAt: at,
				Events: []alarmcode.Event{{Type: alarmcode.Unknown, Code: "P\x00", Zone: "5\xff1", Text: "\x00\xff"}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		for seq, want := range map[string][]byte{"0001": plain, "0002": odd} {
			var id int64
			var raw string
			var exact []byte
			if err := db.Reader().QueryRowContext(ctx, "SELECT id, raw, raw_bytes FROM signals WHERE sequence = ?", seq).Scan(&id, &raw, &exact); err != nil {
				t.Fatal(err)
			}
			got, err := alarm.RawOf(ctx, db.Reader(), id)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("signal %s: RawOf gives %q, want %q", seq, got, want)
			}
			switch seq {
			case "0001":
				if raw != string(plain) || exact != nil {
					t.Errorf("a frame that is text: raw %q and raw_bytes %q, want the frame and NULL", raw, exact)
				}
			case "0002":
				if want := "\n1A2B0031\"SIA-DCS\"0002L0#1234[#1234|Nri1/PA501^\\x00\\xff\\xc0\\xcb\\xcc^]\r"; raw != want {
					t.Errorf("an odd frame: raw %q, want %q", raw, want)
				}
			}
		}
		var code, zone string
		if err := db.Reader().QueryRowContext(ctx, "SELECT a.code, a.zone FROM alarms a JOIN signals s ON s.id = a.signal_id WHERE s.sequence = '0002'").Scan(&code, &zone); err != nil {
			t.Fatal(err)
		}
		if code != `P\x00` || zone != `5\xff1` {
			t.Errorf("the odd event's alarm: code %q and zone %q, want %q and %q", code, zone, `P\x00`, `5\xff1`)
		}
		// A retransmission of the odd frame is recognised as one.
		if err := f.svc.Commit(ctx, []alarm.Signal{{Source: "dc09", Account: demo.PlainAccount, DeviceID: f.plain.ID, SchoolID: f.plain.SchoolID, Sequence: "0002", Content: []byte("2"), Raw: odd, ReceivedAt: at,
			Events: []alarmcode.Event{{Type: alarmcode.Unknown, Code: "P\x00", Zone: "5\xff1"}}}}); err != nil {
			t.Fatal(err)
		}
		var n int
		db.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM signals WHERE sequence = '0002'").Scan(&n)
		if n != 1 {
			t.Errorf("the odd frame sent twice is %d signals, want 1", n)
		}
	})
}
