package alarm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"qorgan/internal/alarm"
	"qorgan/internal/auth"
	"qorgan/internal/demo"
	"qorgan/internal/errs"
	"qorgan/internal/protocol/alarmcode"
	"qorgan/internal/registry"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
	"qorgan/internal/testkit"
)

type fixture struct {
	db     *store.DB
	svc    *alarm.Service
	clk    *testkit.Clock
	people map[string]auth.Principal
	plain  registry.Device // the demo's plain DC-09 panel
}

func setup(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	a := auth.New(db)
	res := testkit.Demo(t, db, a, 0.002)
	f := &fixture{db: db, clk: testkit.NewClock(time.Now().UTC().Truncate(time.Second)), people: map[string]auth.Principal{}}
	users, _ := a.ListUsers(ctx)
	for _, u := range users {
		f.people[u.Login] = auth.Principal{UserID: u.ID, Login: u.Login, Role: u.Role, Scope: u.Scope}
	}
	if len(res.Logins) != len(f.people) {
		t.Fatalf("logins %d, users %d", len(res.Logins), len(f.people))
	}
	f.svc = f.service()
	f.plain = panelDevice(t, db, demo.PlainAccount)
	return f
}

// panelDevice is the device registered for a DC-09 account: the DC-09
// gateway resolves it and the signal carries it to Commit.
func panelDevice(t testing.TB, db *store.DB, account string) registry.Device {
	t.Helper()
	d, _, err := registry.New(db, auth.New(db)).DeviceByDC09Account(context.Background(), account)
	if err != nil {
		t.Fatalf("panel %s: %v", account, err)
	}
	return d
}

// service is a fresh Service on the fixture's store, as after a restart.
func (f *fixture) service() *alarm.Service {
	s := alarm.New(f.db, auth.New(f.db), nil)
	s.Now = f.clk.Now
	return s
}

func (f *fixture) panel(t *testing.T, account, seq string, typ alarmcode.Type) {
	t.Helper()
	d := panelDevice(t, f.db, account)
	err := f.svc.Commit(context.Background(), []alarm.Signal{{Source: "dc09", Account: account, DeviceID: d.ID, SchoolID: d.SchoolID, Sequence: seq, Content: []byte(seq + string(typ)),
		Events: []alarmcode.Event{{Type: typ, Code: "XX", Known: true}}, ReceivedAt: f.clk.Now()}})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) seen(t *testing.T, login string) map[string]int {
	t.Helper()
	evs, _, err := f.svc.Feed(context.Background(), f.people[login], 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range evs {
		out[e.Kind]++
	}
	return out
}

func TestRoutingAndRetransmission(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		db := f.db
		f.panel(t, demo.PlainAccount, "0001", alarmcode.Panic)
		f.panel(t, demo.PlainAccount, "0001", alarmcode.Panic) // retransmission
		for _, who := range []string{"guard", "director", "pcn", "cou", "admin", "region"} {
			if n := f.seen(t, who)["alarm.raised"]; n != 1 {
				t.Errorf("%s sees %d raised alarms, want 1", who, n)
			}
		}
		for _, who := range []string{"guard2", "parent"} {
			if n := f.seen(t, who)["alarm.raised"]; n != 0 {
				t.Errorf("%s sees %d alarms of another school", who, n)
			}
		}
		// The ministry reads statistics, not incidents: no live feed, no
		// list, no alarm (in its scope, so refused, not hidden); the
		// scorecards count the alarm.
		analyst := f.people["analyst"]
		if n := f.seen(t, "analyst")["alarm.raised"]; n != 0 {
			t.Errorf("the analyst's live feed carries %d alarms", n)
		}
		if _, err := f.svc.List(context.Background(), analyst, true, 10); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("the analyst lists alarms: %v", err)
		}
		if all, _ := f.svc.List(context.Background(), f.people["admin"], true, 10); len(all) != 1 {
			t.Errorf("%d alarms", len(all))
		} else if _, err := f.svc.Get(context.Background(), analyst, all[0].ID); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("the analyst reads an alarm: %v", err)
		}
		cards, err := f.svc.Stats(context.Background(), analyst, f.clk.Now().Add(-time.Hour), f.clk.Now().Add(time.Hour))
		if err != nil || len(cards) != 2 || cards[0].Alarms != 1 {
			t.Errorf("the analyst's scorecards: %+v %v", cards, err)
		}
		var signals int
		db.Reader().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM signals").Scan(&signals)
		if signals != 1 {
			t.Errorf("a retransmission was stored again: %d signals", signals)
		}
		// A silent panic is never announced inside the school.
		f.panel(t, demo.EncryptedAccount, "0002", alarmcode.SilentPanic)
		if n := f.seen(t, "guard")["alarm.raised"]; n != 1 {
			t.Errorf("the guard sees the silent alarm (%d raised)", n)
		}
		if n := f.seen(t, "pcn")["alarm.raised"]; n != 2 {
			t.Errorf("the ПЦН sees %d alarms, want 2", n)
		}
		list, _ := f.svc.List(context.Background(), f.people["director"], false, 10)
		if len(list) != 1 {
			t.Errorf("director's alarm list has %d alarms, want 1 (no silent)", len(list))
		}
	})
}

func TestLifecycle(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx, db := t.Context(), f.db
		f.panel(t, demo.PlainAccount, "0010", alarmcode.Panic)
		list, _ := f.svc.List(ctx, f.people["pcn"], false, 10)
		if len(list) != 1 {
			t.Fatalf("pcn list: %d", len(list))
		}
		id := list[0].ID
		if _, err := f.svc.Dispatch(ctx, f.people["pcn"], id, "МГР-2"); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("dispatch before acknowledging: %v", err)
		}
		f.clk.Add(12 * time.Second)
		for _, who := range []string{"guard", "pcn", "cou"} {
			if _, err := f.svc.Acknowledge(ctx, f.people[who], id); err != nil {
				t.Fatalf("%s ack: %v", who, err)
			}
		}
		if _, err := f.svc.Acknowledge(ctx, f.people["pcn"], id); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("second ПЦН ack: %v", err)
		}
		if _, err := f.svc.Acknowledge(ctx, f.people["guard2"], id); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("another school's guard: %v", err)
		}
		if _, err := f.svc.Dispatch(ctx, f.people["guard"], id, "x"); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("guard dispatching: %v", err)
		}
		if _, err := f.svc.Dispatch(ctx, f.people["pcn"], id, ""); errs.CodeOf(err) != errs.Invalid {
			t.Fatalf("dispatch without a responder: %v", err)
		}
		if _, err := f.svc.Dispatch(ctx, f.people["pcn"], id, "МГР-2"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Dispatch(ctx, f.people["cou"], id, "патруль 12"); err != nil {
			t.Fatal(err)
		}
		f.clk.Add(5 * time.Minute)
		if _, err := f.svc.ArriveOnSite(ctx, f.people["pcn"], id, "группа на месте"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Resolve(ctx, f.people["guard"], id, "false", ""); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("guard resolving: %v", err)
		}
		if _, err := f.svc.Resolve(ctx, f.people["pcn"], id, "maybe", ""); errs.CodeOf(err) != errs.Invalid {
			t.Fatalf("bad resolution: %v", err)
		}
		a, err := f.svc.Resolve(ctx, f.people["pcn"], id, "false", "кнопку нажал ученик")
		if err != nil {
			t.Fatal(err)
		}
		if a.State != alarm.Resolved || len(a.Steps) != 7 || a.NextEscalation != nil {
			t.Fatalf("resolved alarm: %+v", a)
		}
		// Every step is in the audit trail, and the chain holds.
		var n int
		db.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM audit WHERE object = ?", fmt.Sprintf("alarm/%d", id)).Scan(&n)
		if n < 7 {
			t.Fatalf("audit has %d entries for the alarm, want at least 7", n)
		}
		if rep, err := auth.New(db).VerifyAudit(ctx); err != nil || !rep.OK {
			t.Fatalf("audit: %+v %v", rep, err)
		}
		// The ПЦН acknowledged within 30 s: its scorecard says so.
		cards, err := f.svc.Stats(ctx, f.people["admin"], f.clk.Now().Add(-time.Hour), f.clk.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, c := range cards {
			if c.Party == alarm.PartyPCN {
				found = true
				if c.Alarms != 1 || c.Within30s != 1 || c.Share30s != 1 {
					t.Errorf("ПЦН scorecard: %+v", c)
				}
			}
		}
		if !found {
			t.Errorf("no ПЦН scorecard in %+v", cards)
		}
	})
}

func TestEscalation(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		f.panel(t, demo.PlainAccount, "0020", alarmcode.Panic) // nobody acknowledges
		f.panel(t, demo.PlainAccount, "0021", alarmcode.Fire)  // the ПЦН acknowledges in time
		list, _ := f.svc.List(ctx, f.people["pcn"], false, 10)
		var fire int64
		for _, a := range list {
			if a.Type == "fire" {
				fire = a.ID
			}
		}
		f.clk.Add(20 * time.Second)
		if _, err := f.svc.Acknowledge(ctx, f.people["pcn"], fire); err != nil {
			t.Fatal(err)
		}
		if n, _ := f.svc.Escalate(ctx); n != 0 {
			t.Fatalf("escalated %d before T1", n)
		}
		f.clk.Add(11 * time.Second) // 31 s
		if n, err := f.svc.Escalate(ctx); n != 1 || err != nil {
			t.Fatalf("at T1: escalated %d, %v", n, err)
		}
		if n, _ := f.svc.Escalate(ctx); n != 0 {
			t.Fatalf("escalated twice at T1")
		}
		// A restart between T1 and T2: the timer is in the store.
		f.svc = f.service()
		f.clk.Add(30 * time.Second) // 61 s
		if n, err := f.svc.Escalate(ctx); n != 1 || err != nil {
			t.Fatalf("at T2 after a restart: escalated %d, %v", n, err)
		}
		f.clk.Add(time.Hour)
		if n, _ := f.svc.Escalate(ctx); n != 0 {
			t.Fatalf("escalated past the last level")
		}
		for _, a := range list {
			got, _ := f.svc.Get(ctx, f.people["cou"], a.ID)
			want := 2
			if a.ID == fire {
				want = 0
			}
			if got.EscalationLevel != want {
				t.Errorf("%s alarm at level %d, want %d", a.Type, got.EscalationLevel, want)
			}
		}
		if n := f.seen(t, "cou")["alarm.escalated"]; n != 2 {
			t.Errorf("the ЦОУ saw %d escalations, want 2", n)
		}
	})
}

func TestSupervision(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx, db := t.Context(), f.db
		if _, err := db.W.ExecContext(ctx, db.Dialect.Rebind("UPDATE devices SET reporting_interval_s = 60, created_at = ? WHERE dc09_account = ?"),
			store.Micros(f.clk.Now()), demo.PlainAccount); err != nil {
			t.Fatal(err)
		}
		f.panel(t, demo.PlainAccount, "0030", alarmcode.PeriodicTest)
		f.clk.Add(50 * time.Second)
		if n, _ := f.svc.Supervise(ctx); n != 0 {
			t.Fatalf("lost within the interval")
		}
		f.clk.Add(20 * time.Second)
		if n, err := f.svc.Supervise(ctx); n != 1 || err != nil {
			t.Fatalf("supervision: %d %v", n, err)
		}
		if n, _ := f.svc.Supervise(ctx); n != 0 {
			t.Fatalf("lost raised twice")
		}
		list, _ := f.svc.List(ctx, f.people["pcn"], false, 10)
		if len(list) != 1 || list[0].Type != "comm_trouble" || list[0].Priority != 2 {
			t.Fatalf("ПЦН list: %+v", list)
		}
		f.panel(t, demo.PlainAccount, "0031", alarmcode.PeriodicTest)
		list, _ = f.svc.List(ctx, f.people["pcn"], false, 10)
		if len(list) != 0 {
			t.Fatalf("communication restored but the trouble is open: %+v", list)
		}
		if n := f.seen(t, "pcn")["alarm.restored"]; n != 1 {
			t.Errorf("restores seen: %d", n)
		}
	})
}

// The feed's cursor moves past what a person may not see, pages through
// long ranges, and never skips an event that commits while it is read.
func TestFeedCursor(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		f.panel(t, demo.PlainAccount, "0001", alarmcode.Panic)
		f.panel(t, demo.PlainAccount, "0002", alarmcode.Fire)
		other := f.people["guard2"]
		evs, cur, err := f.svc.Feed(ctx, other, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 0 || cur == 0 {
			t.Fatalf("another school's guard: %d events, cursor %d; want none and a cursor past both alarms", len(evs), cur)
		}
		// An alarm at the other school is the next thing that guard sees.
		err = f.svc.Commit(ctx, []alarm.Signal{{Source: "staff", Account: "guard2-test", Sequence: "1", Content: []byte("x"), SchoolID: other.Scope.ID(),
			Events: []alarmcode.Event{{Type: alarmcode.Panic, Code: "PA", Known: true}}, ReceivedAt: f.clk.Now()}})
		if err != nil {
			t.Fatal(err)
		}
		evs, cur2, err := f.svc.Feed(ctx, other, cur, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 || evs[0].Seq <= cur || cur2 != evs[0].Seq {
			t.Fatalf("after the cursor: %+v, cursor %d → %d", evs, cur, cur2)
		}
		// Paging: one at a time, the cursor stops at the last event shown.
		admin := f.people["admin"]
		var seqs []int64
		for after := int64(0); ; {
			evs, next, err := f.svc.Feed(ctx, admin, after, 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) == 0 {
				break
			}
			if next != evs[0].Seq {
				t.Fatalf("a full page moved the cursor to %d past its last event %d", next, evs[0].Seq)
			}
			seqs = append(seqs, evs[0].Seq)
			after = next
		}
		if len(seqs) != 3 {
			t.Fatalf("paged through %d events, want 3", len(seqs))
		}

		// Writers commit concurrently while a reader follows the feed.
		const writers, each = 4, 25
		start := cur2
		var wg sync.WaitGroup
		stop := make(chan struct{})
		got := map[int64]bool{}
		var readErr error
		go func() {
			after := start
			read := func() bool {
				evs, next, err := f.svc.Feed(ctx, admin, after, 7)
				if err != nil {
					readErr = err
					return false
				}
				for _, e := range evs {
					got[e.AlarmID] = true
				}
				after = next
				return len(evs) > 0
			}
			for {
				select {
				case <-stop:
					for read() {
					}
					close(stop)
					return
				default:
					read()
				}
			}
		}()
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					err := f.svc.Commit(ctx, []alarm.Signal{{Source: "staff", Account: fmt.Sprint("w", w), Sequence: fmt.Sprint(i), Content: []byte("x"),
						SchoolID: other.Scope.ID(), Events: []alarmcode.Event{{Type: alarmcode.Panic, Code: "PA", Known: true}}, ReceivedAt: f.clk.Now()}})
					if err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		stop <- struct{}{}
		<-stop
		if readErr != nil {
			t.Fatal(readErr)
		}
		if len(got) != writers*each {
			t.Fatalf("the reader saw %d of %d alarms committed while it read", len(got), writers*each)
		}
	})
}

// Panics raised while operators act on other alarms: on PostgreSQL both
// kinds of transaction take the same locks in the same order, so neither is
// ever chosen as a deadlock victim.
func TestIntakeAlongsideOperators(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		const n = 40
		var wg sync.WaitGroup
		errc := make(chan error, 2*n)
		ids := make(chan int64, n)
		wg.Go(func() {
			defer close(ids)
			for i := range n {
				seq := fmt.Sprintf("%04d", 100+i)
				err := f.svc.Commit(ctx, []alarm.Signal{{Source: "dc09", Account: demo.PlainAccount, DeviceID: f.plain.ID, SchoolID: f.plain.SchoolID, Sequence: seq, Content: []byte(seq),
					Events: []alarmcode.Event{{Type: alarmcode.Panic, Code: "PA", Known: true}}, ReceivedAt: f.clk.Now()}})
				if err != nil {
					errc <- fmt.Errorf("panic %d: %w", i, err)
					return
				}
				list, err := f.svc.List(ctx, f.people["pcn"], false, 1)
				if err != nil {
					errc <- err
					return
				}
				if len(list) > 0 {
					ids <- list[0].ID
				}
			}
		})
		wg.Go(func() {
			for id := range ids {
				if _, err := f.svc.Acknowledge(ctx, f.people["pcn"], id); err != nil && errs.CodeOf(err) != errs.Conflict {
					errc <- fmt.Errorf("acknowledge %d: %w", id, err)
				}
				if _, err := f.svc.Acknowledge(ctx, f.people["cou"], id); err != nil && errs.CodeOf(err) != errs.Conflict {
					errc <- fmt.Errorf("acknowledge %d: %w", id, err)
				}
			}
		})
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Error(err)
		}
	})
}

// TestDeviceEventControlCharactersRefused: a device event's id and zone are
// one line of text, whichever way the event came (HTTP or MQTT): a control
// character is Invalid naming the field, on both stores, not a failure of
// the store (which over MQTT leaves the message to be delivered again for
// ever).
func TestDeviceEventControlCharactersRefused(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx, db := t.Context(), f.db
		ds, err := registry.New(db, auth.New(db)).ListDevices(ctx, auth.System, 1)
		if err != nil || len(ds) == 0 {
			t.Fatalf("devices of school 1: %v", err)
		}
		for _, c := range []struct {
			ev    alarm.DeviceEvent
			field string
		}{
			{alarm.DeviceEvent{EventID: "e-1\x00", Type: "panic"}, "event_id"},
			{alarm.DeviceEvent{EventID: "e-2", Type: "panic", Zone: "hall\x00"}, "zone"},
			{alarm.DeviceEvent{EventID: "e-3", Type: "panic", Zone: "hall\n2"}, "zone"},
		} {
			err := f.svc.DeviceSignal(ctx, ds[0], c.ev, "test")
			var e *errs.Error
			if !errors.As(err, &e) || e.Code != errs.Invalid || e.Field != c.field {
				t.Errorf("%q: %v, want invalid %s", c.ev, err, c.field)
			}
		}
		var n int
		db.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM signals").Scan(&n)
		if n != 0 {
			t.Fatalf("%d signals stored", n)
		}
	})
}

// TestParseEscalation: an escalated step's detail, as the timer writes it,
// reads back as its level and recipients; other text does not.
func TestParseEscalation(t *testing.T) {
	for _, to := range []string{alarm.ToSupervisorAndDirector, alarm.ToSupervisor, alarm.ToRegion} {
		level, got, ok := alarm.ParseEscalation(alarm.EscalationDetail(2, to))
		if !ok || level != 2 || got != to {
			t.Errorf("%q read back as %d, %q, %v", alarm.EscalationDetail(2, to), level, got, ok)
		}
	}
	for _, d := range []string{"", "level two: no ПЦН acknowledgement; to ЦОУ supervisor", "level 1: no ПЦН acknowledgement; to the moon", "communication restored"} {
		if _, _, ok := alarm.ParseEscalation(d); ok {
			t.Errorf("%q read as an escalation", d)
		}
	}
}

// A raised alarm's live event is stored without its JSON and built from
// the alarm's row when a console reads the feed: it must be the alarm as
// it was raised, byte for byte what the alarm read then gives, and stay so
// after the alarm escalates, is acknowledged and resolved.
func TestRaisedEventIsTheAlarmAsRaised(t *testing.T) {
	storetest.With(t, setup, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		admin := f.people["admin"]
		d := panelDevice(t, f.db, demo.PlainAccount)
		// Text from the device that must come out escaped and the same.
		err := f.svc.Commit(ctx, []alarm.Signal{
			{Source: "dc09", Account: demo.PlainAccount, DeviceID: d.ID, SchoolID: d.SchoolID, Sequence: "0001", Content: []byte("a"), ReceivedAt: f.clk.Now().Add(-1234567 * time.Nanosecond),
				Events: []alarmcode.Event{{Type: alarmcode.SilentPanic, Code: "HA", Zone: "Кабинет \"7\"\x01", Partition: "2\t", Description: "<b>жедел</b>", Known: true}}},
			{Source: "dc09", Account: demo.PlainAccount, DeviceID: d.ID, SchoolID: d.SchoolID, Sequence: "0002", Content: []byte("b"), ReceivedAt: f.clk.Now(),
				Events: []alarmcode.Event{{Type: alarmcode.Tamper, Code: "TA", Known: true}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		raised := func() map[int64][]byte {
			t.Helper()
			evs, _, err := f.svc.Feed(ctx, admin, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			out := map[int64][]byte{}
			for _, e := range evs {
				if e.Kind == "alarm.raised" {
					out[e.AlarmID] = e.Alarm
				}
			}
			return out
		}
		first := raised()
		if len(first) != 2 {
			t.Fatalf("%d raised events, want 2", len(first))
		}
		var panicID int64
		for id, got := range first {
			a, err := f.svc.Get(ctx, admin, id)
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("alarm %d raised event\n got %s\nwant %s", id, got, want)
			}
			switch a.Type {
			case string(alarmcode.SilentPanic):
				panicID = id
				if a.NextEscalation == nil || !a.NextEscalation.Equal(a.CommittedAt.Add(f.svc.T1)) || a.Zone != `Кабинет "7"\x01` {
					t.Errorf("the panic as raised: next escalation %v, committed %v, zone %q", a.NextEscalation, a.CommittedAt, a.Zone)
				}
			case string(alarmcode.Tamper):
				if a.NextEscalation != nil {
					t.Errorf("a trouble alarm has an escalation timer: %v", a.NextEscalation)
				}
			}
		}
		if panicID == 0 {
			t.Fatal("no silent panic among the raised events")
		}
		f.clk.Add(f.svc.T1 + time.Second)
		if n, err := f.svc.Escalate(ctx); err != nil || n != 1 {
			t.Fatalf("escalate: %d, %v", n, err)
		}
		if _, err := f.svc.Acknowledge(ctx, f.people["pcn"], panicID); err != nil {
			t.Fatal(err)
		}
		now, err := f.svc.Resolve(ctx, f.people["pcn"], panicID, "false", "button pressed by mistake")
		if err != nil {
			t.Fatal(err)
		}
		if now.State != alarm.Resolved || now.EscalationLevel != 1 || len(now.Steps) == 0 {
			t.Fatalf("the alarm now: state %s, level %d, %d steps", now.State, now.EscalationLevel, len(now.Steps))
		}
		if later := raised(); !bytes.Equal(later[panicID], first[panicID]) {
			t.Errorf("the raised event changed with the alarm:\n was %s\n now %s", first[panicID], later[panicID])
		}
		// A node that kept nothing (a restart) reads the same from the row.
		evs, _, err := f.service().Feed(ctx, admin, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Kind == "alarm.raised" && !bytes.Equal(e.Alarm, first[e.AlarmID]) {
				t.Errorf("alarm %d read again after a restart:\n got %s\nwant %s", e.AlarmID, e.Alarm, first[e.AlarmID])
			}
		}
		// A raised event whose alarm is not stored is left out, and the
		// feed goes on past it.
		if err := f.db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO live_events (at, kind, alarm_id, school_id, silent, payload) VALUES (?, 'alarm.raised', 999999, ?, FALSE, '')",
				f.clk.Now().UnixMicro(), d.SchoolID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		newest, err := f.svc.LatestSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		evs, cur, err := f.svc.Feed(ctx, admin, 0, 1000)
		if err != nil || cur != newest {
			t.Fatalf("feed past a missing alarm: cursor %d of %d, %v", cur, newest, err)
		}
		if got := raised(); len(got) != 2 || got[999999] != nil {
			t.Errorf("raised events with an alarm not stored: %d, %s", len(got), got[999999])
		}
		if len(evs) == 0 || evs[len(evs)-1].Kind == "alarm.raised" && evs[len(evs)-1].AlarmID == 999999 {
			t.Errorf("the last event read is the missing alarm's")
		}
	})
}
