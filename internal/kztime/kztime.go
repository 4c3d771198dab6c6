// Package kztime holds the one zone people in Kazakhstan read times in.
// Qorgan keeps instants in UTC inside and shows them in this zone; the
// package imports nothing of Qorgan's so that any package, codecs aside, may
// use it.
package kztime

import "time"

// Almaty is the zone people in Kazakhstan read times in: the country keeps
// one zone, UTC+5, since 1 March 2024.
var Almaty = time.FixedZone("Asia/Almaty", 5*60*60)

// Today is instant t in Almaty: its calendar date is the day in Kazakhstan.
func Today(t time.Time) time.Time { return t.In(Almaty) }
