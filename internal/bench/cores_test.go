package bench

import (
	"runtime"
	"testing"
	"time"
)

// TestCoresSince: of 200 ticks over the cores, 100 this process's, 50
// other processes', 10 stolen and 40 idle, in shares; and on Linux a real
// reading of /proc/stat is taken.
func TestCoresSince(t *testing.T) {
	before := cores{busy: 1000, idle: 1000, steal: 7, self: 5 * time.Second, ok: true}
	after := cores{busy: 1150, idle: 1040, steal: 17, self: 6 * time.Second, ok: true}
	want := "where the cores' time went: this process 50%, other processes 25%, taken by the hypervisor (steal) 5.0%, idle 20%"
	if got := after.since(before); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if got := after.since(cores{}); got != "where the cores' time went: unknown (no /proc/stat)" {
		t.Fatalf("without a reading: %s", got)
	}
	if runtime.GOOS != "linux" {
		return
	}
	c := coresNow()
	if !c.ok || c.busy+c.idle == 0 {
		t.Fatalf("/proc/stat read as %+v", c)
	}
}
