package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTP connection security.
const (
	SMTPStartTLS = "starttls" // plain connection upgraded with STARTTLS (port 587); the default
	SMTPTLS      = "tls"      // TLS from the first byte (port 465)
	SMTPPlain    = "none"     // no TLS: only for a relay on the same machine or network
)

// EmailChannel sends plain-text mail over SMTP, one connection per message.
type EmailChannel struct {
	Addr      string // host:port of the submission server or relay
	From      string // "Qorgan <noreply@example.kz>"
	Security  string // SMTPStartTLS (default), SMTPTLS or SMTPPlain
	TLSConfig *tls.Config
	Username  string // PLAIN authentication when set
	Password  string
	HelloName string // the EHLO name; default localhost
	Now       func() time.Time
}

// MessageID is the Message-ID of the mail for an idempotency key: the same
// on every attempt, so that a mail system or client that has the first copy
// can drop the second.
func MessageID(key, domain string) string {
	h := sha256.Sum256([]byte(key))
	return "<" + hex.EncodeToString(h[:20]) + "@" + domain + ">"
}

func (c *EmailChannel) Send(ctx context.Context, m Message) error {
	to, err := mail.ParseAddress(m.Recipient)
	if err != nil {
		return Permanent(fmt.Errorf("e-mail recipient: %w", err))
	}
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return Temporary(fmt.Errorf("e-mail sender is not configured: %w", err), 0)
	}
	msg := c.compose(from, to, m)

	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.Addr)
	if err != nil {
		return Temporary(err, 0)
	}
	// The SMTP client knows no context: closing the connection ends a
	// conversation that outlives it.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	host, _, _ := net.SplitHostPort(c.Addr)
	cfg := c.TLSConfig
	if cfg == nil {
		cfg = &tls.Config{ServerName: host}
	}
	var cl *smtp.Client
	switch c.Security {
	case SMTPPlain:
		cl = smtp.NewClient(conn)
	case SMTPTLS:
		cl = smtp.NewClient(tls.Client(conn, cfg))
	case "", SMTPStartTLS:
		cl, err = smtp.NewClientStartTLS(conn, cfg)
		if err != nil {
			conn.Close()
			return smtpErr(err)
		}
	default:
		conn.Close()
		return Temporary(fmt.Errorf("unknown SMTP security %q", c.Security), 0)
	}
	defer cl.Close()
	if c.HelloName != "" {
		if err := cl.Hello(c.HelloName); err != nil {
			return smtpErr(err)
		}
	}
	if c.Username != "" {
		if err := cl.Auth(sasl.NewPlainClient("", c.Username, c.Password)); err != nil {
			return smtpErr(err)
		}
	}
	if err := cl.SendMail(from.Address, []string{to.Address}, bytes.NewReader(msg)); err != nil {
		return smtpErr(err)
	}
	// The mail is accepted once DATA is; a failed QUIT changes nothing.
	cl.Quit()
	return nil
}

// compose writes the mail: UTF-8 text in base64, the subject encoded, no
// line of a header taken from input unescaped.
func (c *EmailChannel) compose(from, to *mail.Address, m Message) []byte {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	domain := "qorgan.local"
	if at := strings.LastIndexByte(from.Address, '@'); at >= 0 {
		domain = from.Address[at+1:]
	}
	subject := strings.Join(strings.Fields(m.Subject), " ")
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", subject))
	header("Date", now().UTC().Format(time.RFC1123Z))
	header("Message-ID", MessageID(m.Key, domain))
	if lang := strings.Join(strings.Fields(m.Language), ""); lang != "" {
		header("Content-Language", lang)
	}
	header("Auto-Submitted", "auto-generated")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "base64")
	b.WriteString("\r\n")
	enc := base64.StdEncoding.EncodeToString([]byte(m.Body))
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return b.Bytes()
}

// smtpErr classifies an SMTP answer: 5xx about the message or recipient is
// permanent; 4xx, network failures and our own authentication problems
// (which a configuration change fixes) are retried.
func smtpErr(err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		if se.Code/100 == 5 && se.Code != 530 && se.Code != 535 && se.Code != 538 {
			return Permanent(err)
		}
	}
	return Temporary(err, 0)
}
