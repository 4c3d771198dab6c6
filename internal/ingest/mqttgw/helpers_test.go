package mqttgw_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"qorgan/internal/alarm"
	"qorgan/internal/auth"
	"qorgan/internal/ingest/mqttgw"
	"qorgan/internal/registry"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
	"qorgan/internal/testkit"
)

// EnvBroker names the broker the tests use; EnvRequire=1 turns a missing
// broker into a failure instead of a skip.
const (
	EnvBroker  = "QORGAN_TEST_MQTT_URL"
	EnvRequire = "QORGAN_TEST_REQUIRE_MQTT"
)

// brokerURL returns the test broker, a real Mosquitto, skipping the test
// when none listens.
func brokerURL(t *testing.T) string {
	t.Helper()
	b := os.Getenv(EnvBroker)
	if b == "" {
		b = "mqtt://127.0.0.1:1883"
	}
	u, err := url.Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", EnvBroker, err)
	}
	c, err := net.DialTimeout("tcp", u.Host, time.Second)
	if err != nil {
		msg := "no MQTT broker at " + b + " (start one: mosquitto -d -c /etc/mosquitto/mosquitto.conf, or set " + EnvBroker + ")"
		if os.Getenv(EnvRequire) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	c.Close()
	return b
}

func random(prefix string) string {
	var b [5]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// env is a real alarm service on a SQLite store with the demo schools,
// shared by the tests of one run (loading the demo under the race detector
// takes seconds).
type env struct {
	db     *store.DB
	svc    *alarm.Service
	reg    *registry.Registry
	broker string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	broker := brokerURL(t)
	db := storetest.SQLite(t)
	a := auth.New(db)
	testkit.Demo(t, db, a, 0.002)
	return &env{db: db, svc: alarm.New(db, a, slog.New(slog.DiscardHandler)), reg: registry.New(db, a), broker: broker}
}

// fixture is one test's view of the env: a panic button of school 1 of its
// own, reachable over MQTT, and a topic prefix of its own, so that tests
// run in parallel against one broker and one store.
type fixture struct {
	*env
	prefix   string
	device   registry.Device
	deviceID string // its MQTT client id
}

func (e *env) fixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{env: e, prefix: random("qorgan-test-") + "/v1", deviceID: random("button-")}
	d, err := e.reg.CreateDevice(context.Background(), auth.System, 1,
		registry.DeviceInput{Kind: registry.PanicButton, Name: "Тревожная кнопка, вахта", MQTTClientID: f.deviceID})
	if err != nil {
		t.Fatal(err)
	}
	f.device = d
	return f
}

func (f *fixture) topic(clientID string) string { return f.prefix + "/devices/" + clientID + "/alarm" }

// alarms counts the alarms of the fixture's device.
func (f *fixture) alarms(t *testing.T) int {
	t.Helper()
	return f.count(t, "SELECT COUNT(*) FROM alarms WHERE device_id = ?", f.device.ID)
}

func (f *fixture) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.Reader().QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// gateway runs a gateway until the test ends (or stop is called) and waits
// until it is subscribed.
type gateway struct {
	*mqttgw.Gateway
	cancel context.CancelFunc
	done   chan error
}

func (f *fixture) start(t *testing.T, cfg mqttgw.Config, alarms mqttgw.Alarms) *gateway {
	t.Helper()
	cfg.Broker = f.broker
	if cfg.TopicPrefix == "" {
		cfg.TopicPrefix = f.prefix
	}
	if cfg.ClientID == "" {
		cfg.ClientID = random("qorgan-test-node-")
	}
	if cfg.SessionExpiry == 0 {
		cfg.SessionExpiry = time.Minute // leftovers at the broker go soon
	}
	if cfg.RetryDelay == 0 {
		cfg.RetryDelay = 100 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if alarms == nil {
		alarms = f.svc
	}
	g, err := mqttgw.New(cfg, alarms, f.reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	gw := &gateway{Gateway: g, cancel: cancel, done: make(chan error, 1)}
	go func() { gw.done <- g.Run(ctx) }()
	t.Cleanup(gw.stop)
	select {
	case <-g.Ready():
	case err := <-gw.done:
		t.Fatalf("gateway stopped before it subscribed: %v", err)
	case <-time.After(15 * time.Second):
		t.Fatal("gateway did not subscribe")
	}
	return gw
}

// stop ends Run and waits for it; it may be called more than once.
// resumed stops gw and starts a gateway on node's session again, and
// returns how many messages the broker delivers to it in half a second:
// none, when gw acknowledged all it took.
func (f *fixture) resumed(t *testing.T, gw *gateway, node string) int {
	t.Helper()
	gw.stop()
	again := f.start(t, mqttgw.Config{ClientID: node}, nil)
	time.Sleep(500 * time.Millisecond)
	return int(again.Stats().Received)
}

func (g *gateway) stop() {
	g.cancel()
	if err, ok := <-g.done; ok {
		if err != nil {
			panic(err)
		}
		close(g.done)
	}
}

// device connects to the broker as an MQTT device with the given client id.
type device struct {
	cm    *autopaho.ConnectionManager
	topic string
}

func (f *fixture) connect(t *testing.T, clientID string) *device {
	t.Helper()
	u, _ := url.Parse(f.broker)
	ctx, cancel := context.WithCancel(context.Background())
	cm, err := autopaho.NewConnection(ctx, autopaho.ClientConfig{
		ServerUrls: []*url.URL{u}, KeepAlive: 30, CleanStartOnInitialConnection: true,
		ClientConfig: paho.ClientConfig{ClientID: clientID},
	})
	if err != nil {
		t.Fatal(err)
	}
	actx, acancel := context.WithTimeout(ctx, 10*time.Second)
	defer acancel()
	if err := cm.AwaitConnection(actx); err != nil {
		t.Fatalf("device %s cannot connect: %v", clientID, err)
	}
	t.Cleanup(func() {
		dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer dcancel()
		cm.Disconnect(dctx)
		cancel()
	})
	return &device{cm: cm, topic: f.topic(clientID)}
}

// publish sends payload with QoS 1 and waits for the broker's PUBACK.
func (d *device) publish(t *testing.T, payload []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := d.cm.Publish(ctx, &paho.Publish{Topic: d.topic, QoS: 1, Payload: payload}); err != nil {
		t.Fatalf("publish: %v", err)
	}
}

func (d *device) event(t *testing.T, id, typ string) {
	t.Helper()
	b, _ := json.Marshal(alarm.DeviceEvent{EventID: id, Type: typ, Zone: "1", At: time.Now().UTC()})
	d.publish(t, b)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// flaky is a handler that fails its first calls (after passing the event to
// the real service when stored is set, as when a commit succeeds and the
// answer is lost) and records every event it sees.
type flaky struct {
	next   mqttgw.Alarms
	fails  atomic.Int32
	stored bool

	mu    sync.Mutex
	calls []string // event ids, in call order
}

var errStoreDown = errors.New("test: store down")

func (h *flaky) DeviceSignal(ctx context.Context, d registry.Device, ev alarm.DeviceEvent, remote string) error {
	h.mu.Lock()
	h.calls = append(h.calls, ev.EventID)
	h.mu.Unlock()
	if h.fails.Add(-1) >= 0 {
		if h.stored {
			if err := h.next.DeviceSignal(ctx, d, ev, remote); err != nil {
				return err
			}
		}
		return errStoreDown
	}
	return h.next.DeviceSignal(ctx, d, ev, remote)
}

func (h *flaky) seen() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.calls...)
}

// logRecorder keeps log records for the test to count.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecorder) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelInfo }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler            { return l }
func (l *logRecorder) WithGroup(string) slog.Handler                 { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.msgs = append(l.msgs, r.Message)
	l.mu.Unlock()
	return nil
}

func (l *logRecorder) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if strings.Contains(m, substr) {
			n++
		}
	}
	return n
}

type registryStub struct{}

func (registryStub) DeviceByMQTTClientID(context.Context, string) (registry.Device, error) {
	return registry.Device{}, errors.New("test: not used")
}
