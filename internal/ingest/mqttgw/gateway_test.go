package mqttgw_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/ingest/mqttgw"
)

func TestGateway(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, *fixture)
	}{
		{"panic raises an alarm", panicRaisesAlarm},
		{"resent event stored once", resentEventStoredOnce},
		{"garbage dropped and acknowledged", garbageDroppedAndAcknowledged},
		{"unknown client id", unknownClientID},
		{"failed message redelivered", failedMessageRedelivered},
		{"unacknowledged message survives a restart", unacknowledgedMessageSurvivesRestart},
		{"share group splits messages", shareGroupSplitsMessages},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, e.fixture(t))
		})
	}
}

func panicRaisesAlarm(t *testing.T, f *fixture) {
	gw := f.start(t, mqttgw.Config{}, nil)
	if !strings.HasPrefix(gw.Filter(), "$share/qorgan/"+f.prefix+"/devices/+/alarm") {
		t.Fatalf("filter %q", gw.Filter())
	}
	f.connect(t, f.deviceID).event(t, "ev-1", "panic")
	waitFor(t, "the alarm", func() bool { return f.alarms(t) == 1 })

	list, err := f.svc.List(context.Background(), auth.System, true, 500)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range list {
		if a.DeviceID == f.device.ID {
			found = true
			if a.Type != "panic" || a.SchoolID != f.device.SchoolID || a.Zone != "1" {
				t.Fatalf("alarm %+v", a)
			}
		}
	}
	if !found {
		t.Fatal("alarm not listed for the system principal")
	}
	if n := f.count(t, "SELECT COUNT(*) FROM signals WHERE device_id = ? AND sequence = 'ev-1' AND remote = ?", f.device.ID, "mqtt:"+f.deviceID); n != 1 {
		t.Fatalf("%d signals, want 1", n)
	}
	waitFor(t, "the stats", func() bool { s := gw.Stats(); return s.Handled == 1 && s.Received == 1 && s.Connects == 1 })
}

func resentEventStoredOnce(t *testing.T, f *fixture) {
	gw := f.start(t, mqttgw.Config{}, nil)
	dev := f.connect(t, f.deviceID)
	dev.event(t, "ev-dup", "panic")
	dev.event(t, "ev-dup", "panic") // the device did not hear the PUBACK and sent it again
	waitFor(t, "both handled", func() bool { return gw.Stats().Handled == 2 })
	if n := f.alarms(t); n != 1 {
		t.Fatalf("%d alarms, want 1", n)
	}
	if n := f.count(t, "SELECT COUNT(*) FROM signals WHERE device_id = ?", f.device.ID); n != 1 {
		t.Fatalf("%d signals, want 1", n)
	}
}

// Garbage is acknowledged (so that it does not come back for ever), counted,
// logged once per device and reason, and does not stop the next message.
func garbageDroppedAndAcknowledged(t *testing.T, f *fixture) {
	logs := &logRecorder{}
	node := random("qorgan-test-node-")
	gw := f.start(t, mqttgw.Config{ClientID: node, Logger: slog.New(logs)}, nil)
	dev := f.connect(t, f.deviceID)
	dev.publish(t, []byte("not json"))
	dev.publish(t, []byte(`{"event_id": 7}`))
	dev.publish(t, []byte(`{"event_id":"x","type":"nonsense"}`)) // refused by the service as invalid
	dev.publish(t, []byte(`{"type":"panic"}`))                   // no event id: refused too
	dev.publish(t, []byte(`{"event_id":"big","type":"panic","zone":"`+strings.Repeat("z", 5000)+`"}`))
	dev.event(t, "ev-good", "fire")
	waitFor(t, "the good event", func() bool { return f.alarms(t) == 1 })
	waitFor(t, "the stats", func() bool { s := gw.Stats(); return s.Malformed == 5 && s.Handled == 1 })
	if s := gw.Stats(); s.Failed != 0 || s.UnknownDevices != 0 {
		t.Fatalf("stats %+v", s)
	}
	if n := logs.count("payload is not a device event") + logs.count("payload too large"); n != 1 {
		t.Fatalf("%d payload lines logged, want 1 (rate-limited per device and reason)", n)
	}
	if n := logs.count("device event refused"); n != 1 {
		t.Fatalf("%d refusal lines logged, want 1", n)
	}

	// Everything was acknowledged: the same session, resumed, has nothing
	// to deliver again.
	if n := f.resumed(t, gw, node); n != 0 {
		t.Fatalf("resumed session got %d messages again: some were not acknowledged", n)
	}
}

func unknownClientID(t *testing.T, f *fixture) {
	gw := f.start(t, mqttgw.Config{}, nil)
	stranger := random("stranger-")
	f.connect(t, stranger).event(t, "ev-1", "panic")
	waitFor(t, "the unknown device", func() bool { return gw.Stats().UnknownDevices == 1 })
	if s := gw.Stats(); s.Handled != 0 || s.Failed != 0 {
		t.Fatalf("stats %+v", s)
	}
	if n := f.count(t, "SELECT COUNT(*) FROM signals WHERE remote = ?", "mqtt:"+stranger); n != 0 {
		t.Fatalf("%d signals stored for an unknown device", n)
	}
	// Acknowledged, so it holds back no acknowledgement after it.
	f.connect(t, f.deviceID).event(t, "ev-1", "panic")
	waitFor(t, "the known device", func() bool { return f.alarms(t) == 1 })
}

// A handler failure leaves the message unacknowledged; the gateway drops
// the connection, the broker delivers it again on the resumed session, and
// it is stored once even though the first attempt had committed.
func failedMessageRedelivered(t *testing.T, f *fixture) {
	h := &flaky{next: f.svc, stored: true}
	h.fails.Store(1)
	node := random("qorgan-test-node-")
	gw := f.start(t, mqttgw.Config{ClientID: node}, h)
	f.connect(t, f.deviceID).event(t, "ev-1", "panic")
	waitFor(t, "the redelivery", func() bool { return gw.Stats().Handled == 1 })
	s := gw.Stats()
	if s.Failed != 1 || s.Redeliveries != 1 || s.Redelivered != 1 || s.Received != 2 || s.Connects != 2 {
		t.Fatalf("stats %+v", s)
	}
	if calls := h.seen(); len(calls) != 2 || calls[0] != "ev-1" || calls[1] != "ev-1" {
		t.Fatalf("handler calls %v", calls)
	}
	if n := f.alarms(t); n != 1 {
		t.Fatalf("%d alarms, want 1", n)
	}
	if n := f.resumed(t, gw, node); n != 0 {
		t.Fatalf("resumed session got %d messages again after the successful redelivery", n)
	}
}

// A message left unacknowledged when the node stops waits in its session
// at the broker and is handled when the node (same client id) comes back.
func unacknowledgedMessageSurvivesRestart(t *testing.T, f *fixture) {
	down := &flaky{next: f.svc}
	down.fails.Store(1 << 20)
	node := random("qorgan-test-node-")
	gw := f.start(t, mqttgw.Config{ClientID: node, RetryDelay: time.Hour}, down)
	f.connect(t, f.deviceID).event(t, "ev-1", "panic")
	waitFor(t, "the failure", func() bool { return gw.Stats().Failed == 1 })
	gw.stop()
	if n := f.alarms(t); n != 0 {
		t.Fatalf("%d alarms while the store was down", n)
	}
	again := f.start(t, mqttgw.Config{ClientID: node}, nil)
	// The alarm row is visible as soon as it commits; the gateway counts
	// the message handled just after, so wait for both.
	waitFor(t, "the alarm after the restart", func() bool { return f.alarms(t) == 1 })
	waitFor(t, "the message handled", func() bool { return again.Stats().Handled == 1 })
	time.Sleep(200 * time.Millisecond)
	if n, s := f.alarms(t), again.Stats(); n != 1 || s.Handled != 1 || s.Received != 1 {
		t.Fatalf("%d alarms, stats %+v", n, s)
	}
}

// Two nodes in one share group split the messages: each is handled by
// exactly one of them.
func shareGroupSplitsMessages(t *testing.T, f *fixture) {
	h1, h2 := &flaky{next: f.svc}, &flaky{next: f.svc}
	g1 := f.start(t, mqttgw.Config{}, h1)
	g2 := f.start(t, mqttgw.Config{}, h2)
	dev := f.connect(t, f.deviceID)
	const n = 20
	for i := range n {
		dev.event(t, fmt.Sprintf("ev-%02d", i), "panic")
	}
	waitFor(t, "all alarms", func() bool { return f.alarms(t) == n })
	waitFor(t, "all handled", func() bool { return g1.Stats().Handled+g2.Stats().Handled == n })
	seen := map[string]int{}
	for _, id := range append(h1.seen(), h2.seen()...) {
		seen[id]++
	}
	for i := range n {
		if id := fmt.Sprintf("ev-%02d", i); seen[id] != 1 {
			t.Fatalf("%s handled %d times, want once", id, seen[id])
		}
	}
	if len(h1.seen()) == 0 || len(h2.seen()) == 0 {
		t.Fatalf("one node took everything: %d and %d", len(h1.seen()), len(h2.seen()))
	}
	t.Logf("split %d / %d", len(h1.seen()), len(h2.seen()))
}

func TestNewChecksConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []mqttgw.Config{
		{Broker: "127.0.0.1:1883"},
		{Broker: "http://127.0.0.1:1883"},
		{TopicPrefix: "qorgan/v1/"},
		{TopicPrefix: "qorgan/+"},
		{ShareGroup: "a/b"},
	} {
		if _, err := mqttgw.New(cfg, &flaky{}, nil); err == nil {
			t.Errorf("no devices: want an error")
		}
		if _, err := mqttgw.New(cfg, &flaky{}, registryStub{}); err == nil {
			t.Errorf("%+v: want an error", cfg)
		}
	}
	g, err := mqttgw.New(mqttgw.Config{}, &flaky{}, registryStub{})
	if err != nil {
		t.Fatal(err)
	}
	if g.Filter() != "$share/qorgan/qorgan/v1/devices/+/alarm" || !strings.HasPrefix(g.ClientID(), "qorgan-") {
		t.Fatalf("defaults: filter %q, client id %q", g.Filter(), g.ClientID())
	}
}
