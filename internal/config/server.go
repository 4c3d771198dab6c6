package config

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"runtime"
	"strings"
	"time"
)

// DB chooses the database, for every command that needs one.
type DB struct {
	URL         string // PostgreSQL; empty: the SQLite file at Path
	Path        string
	Synchronous string // SQLite: FULL or NORMAL
}

// Options are the database's options; defaultPath is the command's SQLite file.
func (d *DB) Options(defaultPath string) []*Option {
	return []*Option{
		String(&d.URL, "database-url", "", "PostgreSQL URL (postgres://…); empty means the embedded SQLite file").Secret(),
		String(&d.Path, "db", defaultPath, "SQLite database file"),
		String(&d.Synchronous, "sqlite-sync", "FULL", "SQLite synchronous mode: FULL (survives power loss) or NORMAL"),
	}
}

// Describe names the database without its password.
func (d DB) Describe() string {
	if d.URL == "" {
		return "sqlite:" + d.Path
	}
	u, err := url.Parse(d.URL)
	if err != nil {
		return "postgres (unparsable URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "***")
	}
	return u.Redacted()
}

// Log is how the server logs.
type Log struct {
	Level  slog.Level
	Format string // text or json
}

// HTTP is the server's HTTP listener and what it trusts of its clients.
type HTTP struct {
	Addr          string
	SecureCookies bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client.
	TrustedProxies Prefixes
	// MapTilesURL is the tile server the alarm page's map draws from, a
	// template such as https://tiles.example/{z}/{x}/{y}.png; empty: no map.
	MapTilesURL string
	// PublicURL is the address people reach the console at, named in
	// messages that send them to a page (a staff member's /staff).
	PublicURL string
	// MetricsToken is the bearer token /metrics asks for; empty: /metrics
	// answers this machine's own requests only.
	MetricsToken string
}

// CheckMetricsToken says what is wrong with a metrics token: it must be at
// least 16 characters, none of them a space or a control character (it
// travels in an Authorization header).
func CheckMetricsToken(v string) error {
	if len(v) < 16 {
		return fmt.Errorf("must be at least 16 characters, not %d", len(v))
	}
	for _, r := range v {
		if r <= ' ' || r == 0x7f {
			return fmt.Errorf("must have no spaces or control characters")
		}
	}
	return nil
}

// CheckPublicURL says what is wrong with a public base URL: an http(s) URL
// with a host and no query or fragment.
func CheckPublicURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("must be the console's http:// or https:// address, e.g. https://qorgan.example.kz, not %q", v)
	}
	return nil
}

// CheckTilesURL says what is wrong with a map tile URL template: it must be
// an http(s) URL with a host and name {z}, {x} and {y}.
func CheckTilesURL(u string) error {
	rest, ok := strings.CutPrefix(u, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(u, "http://"); !ok {
			return fmt.Errorf("must be an http:// or https:// URL, not %q", u)
		}
	}
	if host, _, _ := strings.Cut(rest, "/"); host == "" || strings.ContainsAny(host, " \t\n\r\"'<>;,\\@") {
		return fmt.Errorf("must name the tile server's host, not %q", u)
	}
	for _, p := range []string{"{z}", "{x}", "{y}"} {
		if !strings.Contains(rest, p) {
			return fmt.Errorf("must contain %s (and {z}, {x}, {y}), e.g. https://tiles.example/{z}/{x}/{y}.png; got %q", p, u)
		}
	}
	return nil
}

// Alarm is the alarm lane's escalation timers.
type Alarm struct {
	EscalateAfter      time.Duration // T1
	EscalateAgainAfter time.Duration // T2
}

// DC09 is the SIA DC-09 receiver.
type DC09 struct {
	Addr              string // empty: no receiver
	WindowPast        time.Duration
	WindowFuture      time.Duration
	MaxConnsPerSource int
	FirstFrameTimeout time.Duration
}

// MQTT is the broker the devices reach the server through.
type MQTT struct {
	URL         string // empty: none
	ClientID    string
	Username    string
	Password    string
	TopicPrefix string
}

// Notify is the channels messages to guardians go out on, and their
// delivery. A channel left unconfigured dead-letters its messages at once.
type Notify struct {
	SMTPAddr, SMTPFrom, SMTPUsername, SMTPPassword, SMTPSecurity string
	SMSURL, SMSAuthorization                                     string
	BotURL, BotToken                                             string
	WebhookURL, WebhookSecret                                    string
	VAPIDPrivateKey, VAPIDSubject                                string // Web Push
	CAPWebhookURL                                                string // emergencies' CAP 1.2 alerts
	QuietHours                                                   QuietHours
	Lease                                                        time.Duration
	Concurrency                                                  int
	ChannelConcurrency                                           int // 0: three quarters of Concurrency
	NotArrivedEvery                                              time.Duration
}

// Keep is how long each kind of personal data and record is kept.
type Keep struct {
	Passes, Messages, Imports, Unlinked time.Duration
}

// DefaultMessageConcurrency is how many messages a node delivers at once
// unless told otherwise (bench passes measures with it too).
const DefaultMessageConcurrency = 256

// Server is the server's configuration (serve and demo).
type Server struct {
	DB              DB
	Log             Log
	HTTP            HTTP
	PasswordWorkers int
	PasswordRate    float64
	SessionIdle     time.Duration
	Alarm           Alarm
	DC09            DC09
	MQTT            MQTT
	Notify          Notify
	Keep            Keep
}

// Options are the server's options, bound to s; defaultDB is the command's
// SQLite file.
func (s *Server) Options(defaultDB string) []*Option {
	var level string
	n := &s.Notify
	opts := s.DB.Options(defaultDB)
	return append(opts,
		String(&s.HTTP.Addr, "addr", "127.0.0.1:8080", "HTTP listen address (host:port; port 0 picks a free one)"),
		String(&level, "log-level", "info", "log level: debug, info, warn, error").Check(func() error {
			if err := s.Log.Level.UnmarshalText([]byte(level)); err != nil {
				return fmt.Errorf("must be debug, info, warn or error, not %q", level)
			}
			return nil
		}),
		String(&s.Log.Format, "log-format", "text", "log format: text or json").Check(OneOf(&s.Log.Format, "text", "json")),
		Bool(&s.HTTP.SecureCookies, "secure-cookies", false, "mark cookies Secure (set behind a TLS-terminating proxy)"),
		Int(&s.PasswordWorkers, "password-workers", max(1, runtime.NumCPU()/2), "password checks (argon2id, 64 MiB each) run at once, each in a child process at a lower CPU priority; more sign-ins wait or are answered 503").
			Computed("one per two cores, at least 1").Check(Between(&s.PasswordWorkers, 1, 64)),
		Float(&s.PasswordRate, "password-checks-per-second", 2, "password checks started per second over the whole server (bursts of 10 allowed); more sign-ins are answered 503: a worker hashing without pause still slows the alarms through the memory bus").
			Check(Between(&s.PasswordRate, 0.1, 1000)),
		Duration(&s.SessionIdle, "session-idle", 30*time.Minute, "end a console session unused for this long (0: never); a console with its live feed open is in use").
			Check(Between(&s.SessionIdle, 0, 12*time.Hour)),
		String(&s.HTTP.MapTilesURL, "map-tiles-url", "", "map tile server for the school's map on the alarm page, a URL template such as https://tiles.example/{z}/{x}/{y}.png ({s} for a subdomain); empty: no map, the coordinates only").Check(func() error {
			if s.HTTP.MapTilesURL == "" {
				return nil
			}
			return CheckTilesURL(s.HTTP.MapTilesURL)
		}),
		String(&s.HTTP.PublicURL, "public-url", "", "the console's address as people reach it (https://qorgan.example.kz); emergency messages to staff then name the page their code opens, <public-url>/staff; empty: the code only").Check(func() error {
			if s.HTTP.PublicURL == "" {
				return nil
			}
			return CheckPublicURL(s.HTTP.PublicURL)
		}),
		String(&s.HTTP.MetricsToken, "metrics-token", "", "bearer token that /metrics asks for (Authorization: Bearer <token>), at least 16 characters; empty: /metrics answers requests from this machine (loopback) only, and 404 to any other").Secret().Check(func() error {
			if s.HTTP.MetricsToken == "" {
				return nil
			}
			return CheckMetricsToken(s.HTTP.MetricsToken)
		}),
		Value(&s.HTTP.TrustedProxies, "trusted-proxies", "comma-separated addresses or CIDR prefixes of the reverse proxies in front of Qorgan, whose X-Forwarded-For names the client (for the sign-in limits per address); empty: the connection's peer is the client"),
		Duration(&s.Alarm.EscalateAfter, "escalate-after", 30*time.Second, "escalate an alarm the ПЦН has not acknowledged after this long (T1)").Check(func() error {
			if a := s.Alarm; a.EscalateAfter <= 0 || a.EscalateAgainAfter <= a.EscalateAfter {
				return fmt.Errorf("(%s) must be positive and less than --escalate-again-after (%s)", a.EscalateAfter, a.EscalateAgainAfter)
			}
			return nil
		}),
		Duration(&s.Alarm.EscalateAgainAfter, "escalate-again-after", 60*time.Second, "escalate to the next level after this long (T2)"),
		String(&s.DC09.Addr, "dc09-addr", "127.0.0.1:10001", "SIA DC-09 receiver address, TCP and UDP (empty: no receiver)"),
		Duration(&s.DC09.WindowPast, "dc09-window-past", 40*time.Second, "how old an encrypted DC-09 frame's timestamp may be"),
		Duration(&s.DC09.WindowFuture, "dc09-window-future", 20*time.Second, "how far ahead an encrypted DC-09 frame's timestamp may be"),
		Int(&s.DC09.MaxConnsPerSource, "dc09-max-conns-per-source", 512, "open DC-09 TCP connections allowed from one IP address (panels behind one NAT share it); when full, the oldest connection that has sent no frame from a registered account makes room"),
		Duration(&s.DC09.FirstFrameTimeout, "dc09-first-frame-timeout", 10*time.Second, "close a DC-09 TCP connection that has sent no frame from a registered account this long after it opened").
			Check(Between(&s.DC09.FirstFrameTimeout, time.Second, 2*time.Minute)),
		String(&n.SMTPAddr, "smtp-addr", "", "SMTP server for e-mail to guardians (host:port)"),
		String(&n.SMTPFrom, "smtp-from", "Qorgan <noreply@qorgan.kz>", "From address of e-mail to guardians"),
		String(&n.SMTPUsername, "smtp-username", "", "SMTP user name"),
		String(&n.SMTPPassword, "smtp-password", "", "SMTP password").Secret(),
		String(&n.SMTPSecurity, "smtp-security", "starttls", "starttls, tls or none").Check(OneOf(&n.SMTPSecurity, "starttls", "tls", "none")),
		String(&n.SMSURL, "sms-url", "", "HTTP SMS gateway URL (POST phone, text, idempotency_key)"),
		String(&n.SMSAuthorization, "sms-authorization", "", "Authorization header value for the SMS gateway").Secret(),
		String(&n.BotURL, "bot-url", "", "messenger bot API base URL (Telegram Bot API compatible)").Check(func() error {
			if n.BotURL != "" && n.BotToken == "" {
				return fmt.Errorf("needs --bot-token")
			}
			return nil
		}),
		String(&n.BotToken, "bot-token", "", "messenger bot token").Secret(),
		String(&n.WebhookURL, "webhook-url", "", "URL that receives every attendance message as signed JSON").Check(func() error {
			if n.WebhookURL != "" && len(n.WebhookSecret) < 16 {
				return fmt.Errorf("needs a --webhook-secret of at least 16 characters")
			}
			return nil
		}),
		String(&n.WebhookSecret, "webhook-secret", "", "HMAC-SHA256 secret signing the webhook (X-Qorgan-Signature)").Secret(),
		String(&n.VAPIDPrivateKey, "vapid-private-key", "", "Web Push VAPID private key (the P-256 scalar, base64url); empty: one generated at the first start and kept in the store").Secret().Check(func() error {
			if n.VAPIDPrivateKey == "" {
				return nil
			}
			if b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(n.VAPIDPrivateKey, "=")); err != nil || len(b) != 32 {
				return fmt.Errorf("must be a P-256 private key: 32 bytes in base64url")
			}
			return nil
		}),
		String(&n.VAPIDSubject, "vapid-subject", "mailto:noreply@qorgan.kz", "contact the push services' operators reach about this installation's Web Push (mailto: or https: URL)").Check(func() error {
			if !strings.HasPrefix(n.VAPIDSubject, "mailto:") && !strings.HasPrefix(n.VAPIDSubject, "https://") {
				return fmt.Errorf("must be a mailto: or https:// URL, not %q", n.VAPIDSubject)
			}
			return nil
		}),
		String(&n.CAPWebhookURL, "cap-webhook-url", "", "URL that receives each emergency's CAP 1.2 alerts (declared, changed, ended; drills as Exercise), POSTed as application/cap+xml; empty: none").Check(func() error {
			if n.CAPWebhookURL != "" && !strings.HasPrefix(n.CAPWebhookURL, "https://") && !strings.HasPrefix(n.CAPWebhookURL, "http://") {
				return fmt.Errorf("must be an http:// or https:// URL, not %q", n.CAPWebhookURL)
			}
			return nil
		}),
		Duration(&s.Keep.Messages, "keep-messages", 30*24*time.Hour, "how long the record of sent and dead messages to parents is kept"),
		Value(n.QuietHours.init(22, 6), "quiet-hours", "hours (Asia/Almaty) in which no attendance messages are sent, FROM-TO, or off"),
		Int(&n.Concurrency, "message-concurrency", DefaultMessageConcurrency, "messages to parents this node delivers at once (over all channels); at the morning peak, with providers answering in a few ms, 64 let a queue build up and 256 did not").
			Check(Between(&n.Concurrency, 1, 10000)),
		Int(&n.ChannelConcurrency, "message-channel-concurrency", 0, "most of those on one channel, so that a slow or failing provider leaves the others room; 0: three quarters of --message-concurrency").
			Computed("three quarters of --message-concurrency").Check(func() error {
			if c := n.ChannelConcurrency; c < 0 || c > n.Concurrency {
				return fmt.Errorf("must be between 0 (three quarters of --message-concurrency) and --message-concurrency (%d), not %d", n.Concurrency, c)
			}
			return nil
		}),
		Duration(&n.Lease, "message-lease", 30*time.Second, "how long a node holds a message it is sending before another may take it over: after a crash, messages in flight are sent again this long after they were taken (each send is limited to the lesser of 10s and half of it)").
			Check(AtLeast(&n.Lease, time.Second, "")),
		Duration(&n.NotArrivedEvery, "not-arrived-every", time.Minute, "how often this node runs the schools' not-arrived checks (each school is checked once a day, by whichever node comes first); 0: never on this node").Check(func() error {
			if n.NotArrivedEvery < 0 {
				return fmt.Errorf("must be a positive duration or 0 (never on this node), not %s", n.NotArrivedEvery)
			}
			return nil
		}),
		String(&s.MQTT.URL, "mqtt-url", "", "MQTT broker for device alarms (mqtt://host:1883, mqtts://…); empty: none"),
		String(&s.MQTT.ClientID, "mqtt-client-id", "", "this node's MQTT client id; keep it stable across restarts").Computed("qorgan-<hostname>"),
		String(&s.MQTT.Username, "mqtt-username", "", "MQTT user name"),
		String(&s.MQTT.TopicPrefix, "mqtt-topic-prefix", "qorgan/v1", "MQTT topic prefix: devices publish to <prefix>/devices/<client id>/alarm"),
		String(&s.MQTT.Password, "mqtt-password", "", "MQTT password").Secret(),
		Duration(&s.Keep.Unlinked, "keep-unlinked", 30*24*time.Hour, "how long a guardian taken off the list of their last child is kept (with consent dates, settings and sign-in) before being deleted, so that a mistaken import can be put right").
			Check(AtLeast(&s.Keep.Unlinked, time.Hour, "")),
		Duration(&s.Keep.Imports, "keep-imports", 30*24*time.Hour, "how long the record of finished imports is kept (a refused file's report quotes its bad cells: phone numbers, e-mail addresses)").
			Check(AtLeast(&s.Keep.Imports, time.Hour, "a running import's status is read from it")),
		Duration(&s.Keep.Passes, "keep-passes", 400*24*time.Hour, "how long turnstile passes and daily presence are kept before they are deleted (children's personal data; default a school year and the summer after it)").
			Check(AtLeast(&s.Keep.Passes, 24*time.Hour, "today's presence is needed")),
	)
}

// Prefixes are addresses and CIDR prefixes, given comma-separated (an
// address is its own /32 or /128).
type Prefixes []netip.Prefix

func (p *Prefixes) String() string {
	var s []string
	for _, x := range *p {
		s = append(s, x.String())
	}
	return strings.Join(s, ",")
}

func (p *Prefixes) Set(v string) error {
	var out Prefixes
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		pfx, err := netip.ParsePrefix(part)
		if err != nil {
			a, aerr := netip.ParseAddr(part)
			if aerr != nil {
				return fmt.Errorf("%q is neither an address nor a CIDR prefix", part)
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, pfx.Masked())
	}
	*p = out
	return nil
}

// QuietHours are the hours (Asia/Almaty) in which no attendance messages
// are sent: From up to To, e.g. 22-6; From == To is none.
type QuietHours struct{ From, To int }

func (q *QuietHours) init(from, to int) *QuietHours { q.From, q.To = from, to; return q }

func (q *QuietHours) String() string {
	if q.From == q.To {
		return "off"
	}
	return fmt.Sprintf("%d-%d", q.From, q.To)
}

func (q *QuietHours) Set(v string) error {
	if v == "off" || v == "" {
		q.From, q.To = 0, 0
		return nil
	}
	var from, to int
	if _, err := fmt.Sscanf(v, "%d-%d", &from, &to); err != nil || from < 0 || from > 23 || to < 0 || to > 23 {
		return fmt.Errorf("must be FROM-TO in hours 0–23 (e.g. 22-6) or off, not %q", v)
	}
	q.From, q.To = from, to
	return nil
}
