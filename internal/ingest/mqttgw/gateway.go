// Package mqttgw is the MQTT way in for alarms: an MQTT 5 client that
// subscribes to the devices' alarm topic through a shared subscription, so
// that several Qorgan nodes split the load, and turns each message into a
// DeviceSignal call on the alarm service.
//
// Topic and payload. A device publishes, with QoS 1 (or 2), to
//
//	qorgan/v1/devices/{mqtt_client_id}/alarm
//
// ("qorgan/v1" is Config.TopicPrefix) the alarm.DeviceEvent JSON
//
//	{"event_id":"b-17-000412","type":"panic","zone":"2","at":"2025-09-01T03:12:09Z"}
//
// event_id (1–64 characters) is the device's own id of the event: a resend
// with the same event_id is stored once. type is one of the alarm types
// (panic, silent_panic, duress, fire, medical, tamper, test…); zone and at
// are optional. The gateway subscribes to
// $share/{ShareGroup}/qorgan/v1/devices/+/alarm.
//
// Trust. The gateway takes the client id in the topic as the device's
// identity, and the device registered with that mqtt_client_id decides the
// school. That is sound only because the broker authenticates every device
// (its own password or client certificate) and its ACL lets client X
// publish under its own id only, and lets devices subscribe to nothing of
// the others. With Mosquitto:
//
//	pattern write qorgan/v1/devices/%c/alarm
//	user qorgan
//	topic read qorgan/v1/devices/+/alarm
//
// Without such an ACL any client of the broker can raise alarms in any school.
//
// Acknowledgement. The gateway sends PUBACK only after the handler returned
// nil, that is after the signal is durable, so a message the broker holds
// is never lost on the way in. When the device lookup or the handler fails
// (the store is down), the message is not acknowledged; as MQTT forbids
// sending it again on the same connection, the gateway drops the connection
// after RetryDelay (doubling while failures go on) and the broker delivers
// every unacknowledged message again on the resumed session. A payload that
// is not a valid DeviceEvent, or a client id no device has, can never
// succeed: it is acknowledged, counted and logged at most once per device
// and interval.
//
// Sessions. The gateway resumes its session (Clean Start off, Session
// Expiry Config.SessionExpiry), which is what lets the broker redeliver.
// Mosquitto (2.0) keeps dealing a share group's messages to a member whose
// session is offline and hands them over only when that client id comes
// back; when the session expires they are dropped, not given to the other
// members. So every node needs a client id of its own that stays the same
// across restarts (the default is "qorgan-" and the host name): a random
// id would leave, at every restart, a ghost session that swallows its
// share of alarms until it expires.
package mqttgw

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"qorgan/internal/alarm"
	"qorgan/internal/attendance"
	"qorgan/internal/config"
	"qorgan/internal/ingest/ratelog"
	"qorgan/internal/registry"
)

// Alarms takes the events devices send; *alarm.Service is one. DeviceSignal
// must return nil only when the event is durable, and must store a resent
// event (same device and event_id) once. An error with code errs.Invalid
// says the event can never be stored: the message is dropped.
type Alarms interface {
	DeviceSignal(ctx context.Context, d registry.Device, ev alarm.DeviceEvent, remote string) error
}

// Devices finds the device behind a topic; *registry.Registry is one. An
// unknown id is an error with code errs.NotFound; any other error is taken
// as the store failing, and the message waits for redelivery.
type Devices interface {
	DeviceByMQTTClientID(ctx context.Context, id string) (registry.Device, error)
}

// Config tunes the gateway. The zero value of every field means its
// default.
type Config struct {
	// Passes, when set, also takes turnstile passes published to
	// <prefix>/devices/{client id}/passes as {"events":[…]} (the batch the
	// HTTP endpoint takes).
	Passes Passes
	// Broker is the broker URL: mqtt://host:1883, mqtts://host:8883 (TLS),
	// ws:// or wss://. Default "mqtt://127.0.0.1:1883".
	Broker string
	// TLS configures mqtts:// and wss:// connections.
	TLS *tls.Config
	// ClientID must be unique among the broker's clients and stay the
	// same across restarts of this node (see the package doc). Default
	// "qorgan-" followed by the host name.
	ClientID string
	// Username and Password authenticate the gateway at the broker.
	Username string
	Password string
	// TopicPrefix is what precedes /devices/{id}/alarm. Default "qorgan/v1".
	TopicPrefix string
	// ShareGroup names the shared subscription that the nodes of one
	// installation join. Default "qorgan".
	ShareGroup string
	// KeepAlive is the MQTT keepalive. Default 30 s.
	KeepAlive time.Duration
	// SessionExpiry is how long the broker keeps this node's session, and
	// the messages dealt to it, while the node is away. Longer survives a
	// longer restart; shorter bounds how long a node that never comes back
	// holds its share. Default 5 min.
	SessionExpiry time.Duration
	// MaxInFlight bounds the messages received and not yet acknowledged
	// (the MQTT Receive Maximum). Default 64.
	MaxInFlight int
	// Workers is how many messages are handled at once. Default 8.
	Workers int
	// HandleTimeout bounds one device lookup and handler call. Default 10 s.
	HandleTimeout time.Duration
	// RetryDelay is how long the gateway waits after a failed message before
	// it drops the connection to get the message again, and between failed
	// connection attempts; it doubles while failures go on, up to 30 times
	// itself. Default 1 s.
	RetryDelay time.Duration
	// ShutdownTimeout is how long Run lets the messages being handled finish
	// after ctx ends. Default 5 s.
	ShutdownTimeout time.Duration
	// LogEvery is the interval in which each device and reason of rejection
	// is logged at most once. Default 10 s.
	LogEvery time.Duration
	// Logger receives rejections (Warn), failures (Error) and connection
	// changes. Default slog.Default().
	Logger *slog.Logger
}

const (
	// maxPayload bounds a DeviceEvent; a larger message is not one.
	maxPayload = 4 << 10
	// maxPassPayload bounds a batch of passes (a controller's backlog).
	maxPassPayload = 4 << 20
	// maxPacket asks the broker not to send larger packets at all.
	maxPacket = 64 << 10
	// ackInterval is how often paho sends the acknowledgements released in
	// order (MQTT wants PUBACKs in the order the messages came).
	ackInterval = 20 * time.Millisecond
)

func (c Config) withDefaults() Config {
	if c.Broker == "" {
		c.Broker = "mqtt://127.0.0.1:1883"
	}
	if c.ClientID == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "localhost"
		}
		c.ClientID = "qorgan-" + host
	}
	if c.TopicPrefix == "" {
		c.TopicPrefix = "qorgan/v1"
	}
	if c.ShareGroup == "" {
		c.ShareGroup = "qorgan"
	}
	config.OrDefault(&c.KeepAlive, 30*time.Second)
	config.OrDefault(&c.SessionExpiry, 5*time.Minute)
	config.OrDefault(&c.MaxInFlight, 64)
	config.OrDefault(&c.Workers, 8)
	config.OrDefault(&c.HandleTimeout, 10*time.Second)
	config.OrDefault(&c.RetryDelay, time.Second)
	config.OrDefault(&c.ShutdownTimeout, 5*time.Second)
	config.OrDefault(&c.LogEvery, 10*time.Second)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Stats counts what the gateway did since it started.
type Stats struct {
	// Connects counts connections made to the broker, the first included.
	Connects uint64
	// Received counts messages the broker delivered, redeliveries included;
	// Redelivered of them carried the DUP flag.
	Received    uint64
	Redelivered uint64
	// Handled messages were taken by the handler and acknowledged.
	Handled uint64
	// Malformed messages were not a valid DeviceEvent (or the handler
	// refused them as invalid); UnknownDevices came under a client id no
	// device has. Both are acknowledged and dropped.
	Malformed      uint64
	UnknownDevices uint64
	// Failed messages were left unacknowledged because the device lookup or
	// the handler failed; they come again after a reconnect.
	Failed uint64
	// Redeliveries counts connections the gateway dropped on purpose to get
	// failed messages again.
	Redeliveries uint64
}

type counters struct {
	connects, received, redelivered, handled atomic.Uint64
	malformed, unknown, failed, redeliveries atomic.Uint64
}

// Gateway is the MQTT alarm intake of one node.
type Gateway struct {
	cfg     Config
	alarms  Alarms
	devices Devices
	log     *slog.Logger
	limiter *ratelog.Limiter
	stats   counters
	broker  *url.URL
	filter  string

	ready     chan struct{}
	readyOnce sync.Once
	runCalls  atomic.Int32
	conns     atomic.Uint64 // connection generation, for the subscriber

	jobs     chan job
	stopping chan struct{} // closed when Run's ctx ends
	// retry tells the retry loop that messages failed on failedOn; the
	// loop drops that connection so that the broker sends them again.
	retry     chan struct{}
	failedMu  sync.Mutex
	failedOn  *paho.Client
	succeeded atomic.Bool // a message was handled since the last drop
}

// job is one received message.
type job struct {
	cli *paho.Client // the connection it came on, which must acknowledge it
	pub *paho.Publish
}

// New checks the configuration and returns a gateway; Run connects it.
// Passes takes a device's batch of turnstile passes (attendance.Service fits).
type Passes interface {
	Record(ctx context.Context, d registry.Device, events []attendance.PassEvent) (attendance.Result, error)
}

func New(cfg Config, alarms Alarms, devices Devices) (*Gateway, error) {
	if alarms == nil || devices == nil {
		return nil, errors.New("mqttgw: an Alarms and a Devices are required")
	}
	cfg = cfg.withDefaults()
	u, err := url.Parse(cfg.Broker)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("mqttgw: broker URL %q: want e.g. mqtt://127.0.0.1:1883", cfg.Broker)
	}
	switch strings.ToLower(u.Scheme) {
	case "mqtt", "tcp", "mqtts", "tls", "ssl", "ws", "wss":
	default:
		return nil, fmt.Errorf("mqttgw: broker URL %q: unsupported scheme %q", cfg.Broker, u.Scheme)
	}
	if cfg.TopicPrefix != strings.Trim(cfg.TopicPrefix, "/") || strings.ContainsAny(cfg.TopicPrefix, "+#") {
		return nil, fmt.Errorf("mqttgw: topic prefix %q: no wildcards, no leading or trailing /", cfg.TopicPrefix)
	}
	if strings.ContainsAny(cfg.ShareGroup, "/+#") {
		return nil, fmt.Errorf("mqttgw: share group %q must not contain / + #", cfg.ShareGroup)
	}
	if cfg.MaxInFlight > 65535 {
		cfg.MaxInFlight = 65535
	}
	return &Gateway{
		cfg:      cfg,
		alarms:   alarms,
		devices:  devices,
		log:      cfg.Logger,
		limiter:  ratelog.New(cfg.LogEvery),
		broker:   u,
		filter:   "$share/" + cfg.ShareGroup + "/" + cfg.TopicPrefix + "/devices/+/" + map[bool]string{true: "+", false: "alarm"}[cfg.Passes != nil],
		ready:    make(chan struct{}),
		jobs:     make(chan job, cfg.MaxInFlight),
		stopping: make(chan struct{}),
		retry:    make(chan struct{}, 1),
	}, nil
}

// Ready is closed once the broker has granted the subscription for the
// first time.
func (g *Gateway) Ready() <-chan struct{} { return g.ready }

// Filter is the subscription the gateway makes, shared subscription prefix
// included.
func (g *Gateway) Filter() string { return g.filter }

// ClientID is the gateway's MQTT client id.
func (g *Gateway) ClientID() string { return g.cfg.ClientID }

// Stats returns a snapshot of the counters.
func (g *Gateway) Stats() Stats {
	c := &g.stats
	return Stats{
		Connects: c.connects.Load(), Received: c.received.Load(), Redelivered: c.redelivered.Load(), Handled: c.handled.Load(),
		Malformed: c.malformed.Load(), UnknownDevices: c.unknown.Load(), Failed: c.failed.Load(), Redeliveries: c.redeliveries.Load(),
	}
}

// Run connects, subscribes and handles messages until ctx ends; then it
// lets the messages being handled finish (for up to ShutdownTimeout), sends
// their acknowledgements and disconnects, leaving the session at the broker
// so that what arrives meanwhile waits for the next start. A broker that is
// down is retried, not an error: Run returns an error only for a second call.
func (g *Gateway) Run(ctx context.Context) error {
	if g.runCalls.Add(1) != 1 {
		return errors.New("mqttgw: Run called twice")
	}
	// Connection and handlers outlive ctx until the drain is over.
	connCtx, cancelConn := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelConn()
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()

	cm, err := autopaho.NewConnection(connCtx, g.clientConfig(connCtx))
	if err != nil {
		return fmt.Errorf("mqttgw: %w", err)
	}
	var workers sync.WaitGroup
	for range g.cfg.Workers {
		workers.Go(func() { g.work(work) })
	}
	retried := make(chan struct{})
	go func() {
		defer close(retried)
		g.retryLoop(ctx)
	}()
	g.log.Info("mqtt gateway started", "broker", g.broker.Redacted(), "client_id", g.cfg.ClientID, "filter", g.filter)

	tick := time.NewTicker(g.cfg.LogEvery)
	defer tick.Stop()
	for waiting := true; waiting; {
		select {
		case <-ctx.Done():
			waiting = false
		case now := <-tick.C:
			g.flushLog(now)
		}
	}
	close(g.stopping)
	<-retried
	done := make(chan struct{})
	go func() {
		workers.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(g.cfg.ShutdownTimeout):
		g.log.Error("mqtt gateway: messages still being handled at shutdown; cancelling them (the broker will deliver them again)",
			"timeout", g.cfg.ShutdownTimeout)
		cancelWork()
		<-done
	}
	// paho sends the released acknowledgements on its own ticker.
	time.Sleep(3 * ackInterval)
	dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cm.Disconnect(dctx); err != nil {
		g.log.Warn("mqtt gateway: disconnect did not finish", "err", err)
	}
	g.flushLog(time.Now().Add(g.cfg.LogEvery))
	g.log.Info("mqtt gateway stopped", "client_id", g.cfg.ClientID)
	return nil
}

func (g *Gateway) clientConfig(ctx context.Context) autopaho.ClientConfig {
	keepAlive := uint16(min(g.cfg.KeepAlive/time.Second, 65535))
	if keepAlive == 0 {
		keepAlive = 1
	}
	receiveMax := uint16(g.cfg.MaxInFlight)
	packetMax := uint32(maxPacket)
	d := g.cfg.RetryDelay
	cfg := autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{g.broker},
		TlsCfg:                        g.cfg.TLS,
		KeepAlive:                     keepAlive,
		CleanStartOnInitialConnection: false,
		SessionExpiryInterval:         uint32(min(g.cfg.SessionExpiry/time.Second, 1<<32-1)),
		ReconnectBackoff:              autopaho.NewExponentialBackoff(d, 30*d, 2*d, 2),
		ConnectUsername:               g.cfg.Username,
		ConnectPassword:               []byte(g.cfg.Password),
		ConnectPacketBuilder: func(cp *paho.Connect, _ *url.URL) (*paho.Connect, error) {
			if cp.Properties == nil {
				cp.Properties = &paho.ConnectProperties{}
			}
			cp.Properties.ReceiveMaximum = &receiveMax
			cp.Properties.MaximumPacketSize = &packetMax
			return cp, nil
		},
		OnConnectionUp: func(cm *autopaho.ConnectionManager, ack *paho.Connack) {
			gen := g.conns.Add(1)
			g.stats.connects.Add(1)
			g.log.Info("mqtt gateway connected", "broker", g.broker.Redacted(), "client_id", g.cfg.ClientID, "session_present", ack.SessionPresent)
			if gen > 1 && !ack.SessionPresent {
				g.log.Error("mqtt broker had lost this node's session: messages it held for the node are gone", "client_id", g.cfg.ClientID)
			}
			go g.subscribe(ctx, cm, gen)
		},
		OnConnectionDown: func() bool {
			g.log.Warn("mqtt gateway: connection lost; reconnecting", "broker", g.broker.Redacted())
			return true
		},
		OnConnectError: func(err error) {
			g.logLimited(slog.LevelWarn, "broker", "connect", "mqtt gateway cannot connect; retrying", "broker", g.broker.Redacted(), "err", err)
		},
		Errors:     pahoLog{g.log},
		PahoErrors: pahoLog{g.log},
		ClientConfig: paho.ClientConfig{
			ClientID:                   g.cfg.ClientID,
			EnableManualAcknowledgment: true,
			SendAcksInterval:           ackInterval,
			OnPublishReceived:          []func(paho.PublishReceived) (bool, error){g.received},
			OnServerDisconnect: func(d *paho.Disconnect) {
				if d.ReasonCode == 0x8E { // Session taken over
					g.log.Error("mqtt gateway: another client connected with this node's client id; give every node its own",
						"client_id", g.cfg.ClientID)
					return
				}
				g.log.Warn("mqtt broker closed the connection", "reason_code", d.ReasonCode)
			},
		},
	}
	return cfg
}

// subscribe (re)makes the shared subscription on connection gen, retrying
// until the broker grants it or the connection is replaced.
func (g *Gateway) subscribe(ctx context.Context, cm *autopaho.ConnectionManager, gen uint64) {
	delay := g.cfg.RetryDelay
	for g.conns.Load() == gen {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		ack, err := cm.Subscribe(sctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: g.filter, QoS: 1}}})
		cancel()
		if err == nil && len(ack.Reasons) == 1 && ack.Reasons[0] == 1 {
			g.readyOnce.Do(func() { close(g.ready) })
			return
		}
		args := []any{"filter", g.filter, "retry_in", delay}
		if err != nil {
			args = append(args, "err", err)
		}
		if ack != nil && len(ack.Reasons) > 0 {
			// 0x00: granted QoS 0 only (messages would not be acknowledged);
			// 0x87: not authorised; 0x9E: shared subscriptions not supported.
			args = append(args, "reason_code", fmt.Sprintf("0x%02X", ack.Reasons[0]))
		}
		g.log.Error("mqtt gateway: subscription refused", args...)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, 30*g.cfg.RetryDelay)
	}
}

// received runs on paho's delivery goroutine: it hands the message to the
// workers and returns, so that a slow store does not stall the connection.
func (g *Gateway) received(pr paho.PublishReceived) (bool, error) {
	g.stats.received.Add(1)
	if pr.Packet.Duplicate() {
		g.stats.redelivered.Add(1)
	}
	select {
	case <-g.stopping:
		// Not acknowledged: it waits in the session for the next start.
		return true, nil
	default:
	}
	select {
	case g.jobs <- job{cli: pr.Client, pub: pr.Packet}:
	case <-g.stopping:
	}
	return true, nil
}

func (g *Gateway) work(ctx context.Context) {
	for {
		select {
		case j := <-g.jobs:
			g.handle(ctx, j)
		case <-g.stopping:
			for {
				select {
				case j := <-g.jobs:
					g.handle(ctx, j)
				default:
					return
				}
			}
		}
	}
}

// retryLoop drops a connection whose messages failed, after a delay that
// doubles while failures go on, so that the broker delivers them again.
func (g *Gateway) retryLoop(ctx context.Context) {
	delay := g.cfg.RetryDelay
	for {
		select {
		case <-ctx.Done():
			return
		case <-g.retry:
		}
		if g.succeeded.Swap(false) {
			delay = g.cfg.RetryDelay
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		g.failedMu.Lock()
		cli := g.failedOn
		g.failedMu.Unlock()
		g.stats.redeliveries.Add(1)
		g.log.Warn("mqtt gateway: reconnecting so that the broker delivers the failed messages again", "after", delay)
		// A DISCONNECT with reason 0 keeps the session, and with it the
		// unacknowledged messages; autopaho then connects again.
		_ = cli.Disconnect(&paho.Disconnect{ReasonCode: 0})
		delay = min(2*delay, 30*g.cfg.RetryDelay)
	}
}

func (g *Gateway) flushLog(now time.Time) {
	for _, h := range g.limiter.Flush(now) {
		g.log.Warn("mqtt messages refused, not logged one by one", "reason", h.Reason, "client_id", h.Source, "suppressed", h.Count)
	}
}

// logLimited logs at most one line per device and reason per LogEvery.
func (g *Gateway) logLimited(level slog.Level, device, reason, msg string, args ...any) {
	ok, held := g.limiter.Allow(time.Now(), device, reason)
	if !ok {
		return
	}
	if held > 0 {
		args = append(args, "suppressed", held)
	}
	g.log.Log(context.Background(), level, msg, args...)
}

// pahoLog passes the client library's own complaints to slog at Debug: the
// ones that matter reach the gateway as errors and are logged there.
type pahoLog struct{ l *slog.Logger }

func (p pahoLog) Println(v ...any) {
	p.l.Debug("mqtt client: " + strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
}

func (p pahoLog) Printf(format string, v ...any) {
	p.l.Debug("mqtt client: " + fmt.Sprintf(format, v...))
}
