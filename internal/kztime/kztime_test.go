package kztime_test

import (
	"testing"
	"time"

	"qorgan/internal/kztime"
)

func TestToday(t *testing.T) {
	// 19:30 UTC on 31 December is already New Year's Day in Kazakhstan.
	at := time.Date(2025, 12, 31, 19, 30, 0, 0, time.UTC)
	if got := kztime.Today(at).Format("2006-01-02 15:04"); got != "2026-01-01 00:30" {
		t.Errorf("Today(%v) = %s, want 2026-01-01 00:30", at, got)
	}
	if _, off := at.In(kztime.Almaty).Zone(); off != 5*3600 {
		t.Errorf("Almaty offset = %d s, want UTC+5", off)
	}
}
