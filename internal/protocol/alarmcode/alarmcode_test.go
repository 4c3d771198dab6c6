package alarmcode

import "testing"

func TestTypes(t *testing.T) {
	seen := map[Type]bool{}
	for _, typ := range Types() {
		if typ == "" || seen[typ] {
			t.Errorf("type %q empty or repeated", typ)
		}
		seen[typ] = true
	}
	if len(seen) != 16 {
		t.Errorf("%d types", len(seen))
	}
	for _, typ := range []Type{Panic, Duress, SilentPanic, Holdup, Fire, Medical, Burglary} {
		if !typ.IsAlarm() {
			t.Errorf("%s is not an alarm", typ)
		}
	}
	for _, typ := range []Type{Restore, PeriodicTest, Opening, Unknown} {
		if typ.IsAlarm() {
			t.Errorf("%s is an alarm", typ)
		}
	}
	if !(Event{Type: Restore, Restores: Panic}).IsRestore() || (Event{Type: Panic}).IsRestore() {
		t.Errorf("IsRestore")
	}
}
