package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"qorgan/internal/notify"
	"qorgan/internal/store"
)

// notifyFlags configure the channels messages to guardians go out on. A
// channel left unconfigured dead-letters its messages at once, so the
// school sees them as undelivered instead of waiting forever.
type notifyFlags struct {
	smtpAddr, smtpFrom, smtpUser, smtpPassword, smtpSecurity string
	smsURL, smsAuth                                          string
	botURL, botToken                                         string
	webhookURL, webhookSecret                                string
	quietHours                                               string
	keep                                                     time.Duration
	notArrivedEvery                                          time.Duration
	lease                                                    time.Duration
	concurrency                                              int
	channelConcurrency                                       int
}

func (n *notifyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&n.smtpAddr, "smtp-addr", "", "SMTP server for e-mail to guardians (host:port)")
	fs.StringVar(&n.smtpFrom, "smtp-from", "Qorgan <noreply@qorgan.kz>", "From address of e-mail to guardians")
	fs.StringVar(&n.smtpUser, "smtp-username", "", "SMTP user name")
	fs.StringVar(&n.smtpPassword, "smtp-password", "", "SMTP password")
	fs.StringVar(&n.smtpSecurity, "smtp-security", notify.SMTPStartTLS, "starttls, tls or none")
	fs.StringVar(&n.smsURL, "sms-url", "", "HTTP SMS gateway URL (POST phone, text, idempotency_key)")
	fs.StringVar(&n.smsAuth, "sms-authorization", "", "Authorization header value for the SMS gateway")
	fs.StringVar(&n.botURL, "bot-url", "", "messenger bot API base URL (Telegram Bot API compatible)")
	fs.StringVar(&n.botToken, "bot-token", "", "messenger bot token")
	fs.StringVar(&n.webhookURL, "webhook-url", "", "URL that receives every attendance message as signed JSON")
	fs.StringVar(&n.webhookSecret, "webhook-secret", "", "HMAC-SHA256 secret signing the webhook (X-Qorgan-Signature)")
	fs.DurationVar(&n.keep, "keep-messages", 30*24*time.Hour, "how long the record of sent and dead messages to parents is kept")
	fs.StringVar(&n.quietHours, "quiet-hours", "22-6", "hours (Asia/Almaty) in which no attendance messages are sent, FROM-TO, or off")
	fs.IntVar(&n.concurrency, "message-concurrency", defaultMessageConcurrency, "messages to parents this node delivers at once (over all channels); at the morning peak, with providers answering in a few ms, 64 let a queue build up and 256 did not")
	fs.IntVar(&n.channelConcurrency, "message-channel-concurrency", 0, "most of those on one channel, so that a slow or failing provider leaves the others room; 0: three quarters of --message-concurrency")
	fs.DurationVar(&n.lease, "message-lease", 30*time.Second, "how long a node holds a message it is sending before another may take it over: after a crash, messages in flight are sent again this long after they were taken (each send is limited to the lesser of 10s and half of it)")
	fs.DurationVar(&n.notArrivedEvery, "not-arrived-every", time.Minute, "how often this node runs the schools' not-arrived checks (each school is checked once a day, by whichever node comes first); 0: never on this node")
}

// quiet parses --quiet-hours.
func (n *notifyFlags) quiet() (from, to int, err error) {
	if n.quietHours == "off" || n.quietHours == "" {
		return 0, 0, nil
	}
	if _, err := fmt.Sscanf(n.quietHours, "%d-%d", &from, &to); err != nil || from < 0 || from > 23 || to < 0 || to > 23 {
		return 0, 0, fmt.Errorf("--quiet-hours must be FROM-TO in hours 0–23 (e.g. 22-6) or off, not %q", n.quietHours)
	}
	return from, to, nil
}

func unconfigured(name string) notify.Channel {
	return notify.ChannelFunc(func(ctx context.Context, m notify.Message) error {
		return notify.Permanent(fmt.Errorf("the %s channel is not configured on this installation", name))
	})
}

func (n *notifyFlags) channels() (map[notify.ChannelName]notify.Channel, error) {
	ch := map[notify.ChannelName]notify.Channel{
		notify.ChannelEmail: unconfigured("e-mail"), notify.ChannelSMS: unconfigured("SMS"),
		notify.ChannelBot: unconfigured("messenger bot"), notify.ChannelWebhook: unconfigured("webhook"),
	}
	if n.smtpAddr != "" {
		switch n.smtpSecurity {
		case notify.SMTPStartTLS, notify.SMTPTLS, notify.SMTPPlain:
		default:
			return nil, fmt.Errorf("--smtp-security must be starttls, tls or none, not %q", n.smtpSecurity)
		}
		ch[notify.ChannelEmail] = &notify.EmailChannel{Addr: n.smtpAddr, From: n.smtpFrom, Username: n.smtpUser, Password: n.smtpPassword, Security: n.smtpSecurity}
	}
	if n.smsURL != "" {
		c := &notify.SMSChannel{URL: n.smsURL}
		if n.smsAuth != "" {
			c.Header = http.Header{"Authorization": []string{n.smsAuth}}
		}
		ch[notify.ChannelSMS] = c
	}
	if n.botURL != "" {
		if n.botToken == "" {
			return nil, fmt.Errorf("--bot-url needs --bot-token")
		}
		ch[notify.ChannelBot] = &notify.BotChannel{BaseURL: strings.TrimRight(n.botURL, "/"), Token: n.botToken}
	}
	if n.webhookURL != "" {
		if len(n.webhookSecret) < 16 {
			return nil, fmt.Errorf("--webhook-url needs a --webhook-secret of at least 16 characters")
		}
		ch[notify.ChannelWebhook] = &notify.WebhookChannel{Secret: []byte(n.webhookSecret)}
	}
	return ch, nil
}

// defaultMessageConcurrency is how many messages a node delivers at once
// unless told otherwise (bench passes measures with it too).
const defaultMessageConcurrency = 256

func newNotifyWorker(db *store.DB, n *notifyFlags, log *slog.Logger) (*notify.Worker, error) {
	ch, err := n.channels()
	if err != nil {
		return nil, err
	}
	w := &notify.Worker{Outbox: notify.New(db), Channels: ch, Log: log, Lease: n.lease, Concurrency: n.concurrency, ChannelConcurrency: n.channelConcurrency, Batch: max(200, 2*n.concurrency)}
	return w, nil
}
