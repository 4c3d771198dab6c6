package ratelog

import (
	"strconv"
	"testing"
	"time"
)

func TestLogLimiter(t *testing.T) {
	l := New(10 * time.Second)
	t0 := time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)
	if ok, n := l.Allow(t0, "10.0.0.1", "crc"); !ok || n != 0 {
		t.Fatal("first line held back")
	}
	for i := range 5 {
		if ok, _ := l.Allow(t0.Add(time.Duration(i)*time.Second), "10.0.0.1", "crc"); ok {
			t.Fatal("second line within the interval let through")
		}
	}
	// Another reason, another source: each logged once.
	if ok, _ := l.Allow(t0, "10.0.0.1", "unknown-account"); !ok {
		t.Fatal("other reason held back")
	}
	if ok, _ := l.Allow(t0, "10.0.0.2", "crc"); !ok {
		t.Fatal("other source held back")
	}
	// After the interval the next line comes with the count held back.
	if ok, n := l.Allow(t0.Add(11*time.Second), "10.0.0.1", "crc"); !ok || n != 5 {
		t.Fatalf("after the interval: %v, %d held back", ok, n)
	}
	// A flood that stops is still counted by flush.
	l.Allow(t0.Add(12*time.Second), "10.0.0.1", "crc")
	l.Allow(t0.Add(13*time.Second), "10.0.0.1", "crc")
	held := l.Flush(t0.Add(30 * time.Second))
	if len(held) != 1 || held[0].Count != 2 || held[0].Reason != "crc" {
		t.Fatalf("flush %+v", held)
	}
	if len(l.entries) != 0 {
		t.Fatalf("%d entries left after flush", len(l.entries))
	}
}

func TestLogLimiterBounded(t *testing.T) {
	l := New(time.Second)
	t0 := time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)
	for i := range 3 * maxEntries {
		l.Allow(t0.Add(time.Duration(i)*time.Millisecond), strconv.Itoa(i), "garbage")
	}
	if len(l.entries) > maxEntries+1 {
		t.Fatalf("%d entries, bound %d", len(l.entries), maxEntries)
	}
	// Within one interval, past the bound, new sources share an entry.
	l = New(time.Hour)
	for i := range maxEntries {
		l.Allow(t0, strconv.Itoa(i), "garbage")
	}
	if ok, _ := l.Allow(t0, "new-1", "garbage"); !ok {
		t.Fatal("first overflow line held back")
	}
	if ok, _ := l.Allow(t0, "new-2", "garbage"); ok {
		t.Fatal("second overflow line let through")
	}
	if len(l.entries) != maxEntries+1 {
		t.Fatalf("%d entries", len(l.entries))
	}
}
