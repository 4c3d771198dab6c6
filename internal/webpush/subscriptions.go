package webpush

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/locale"
	"qorgan/internal/store"
)

// MaxPerGuardian is how many browsers one guardian may have subscribed; a
// new one past it replaces the oldest (a phone changed for another).
const MaxPerGuardian = 10

// maxEndpoint bounds an endpoint's length: real ones are a few hundred
// characters, and the column is indexed.
const maxEndpoint = 2000

// Service keeps guardians' push subscriptions and the VAPID key they are
// made for. Make one with New.
type Service struct {
	DB  *store.DB
	Key *VAPIDKey
	Now func() time.Time
}

// New returns the service over db signing with key.
func New(db *store.DB, key *VAPIDKey) *Service {
	return &Service{DB: db, Key: key, Now: time.Now}
}

// LoadKey returns the VAPID key: configured (a private key in base64url),
// else the one in the store, else a new one that it stores. Nodes starting
// together agree on one: the first to store its key wins and the others
// read it back.
func LoadKey(ctx context.Context, db *store.DB, configured string) (*VAPIDKey, error) {
	if configured != "" {
		k, err := ParseVAPIDKey(configured)
		if err != nil {
			return nil, fmt.Errorf("--vapid-private-key: %w", err)
		}
		return k, nil
	}
	var stored string
	err := db.Reader().QueryRowContext(ctx, "SELECT private_key FROM vapid_keys WHERE id = 1").Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		var k *VAPIDKey
		if k, err = GenerateVAPIDKey(); err != nil {
			return nil, err
		}
		err = db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, "INSERT INTO vapid_keys (id, private_key, created_at) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING",
				k.PrivateKey(), store.Micros(time.Now())); err != nil {
				return err
			}
			return tx.QueryRowContext(ctx, "SELECT private_key FROM vapid_keys WHERE id = 1").Scan(&stored)
		})
	}
	if err != nil {
		return nil, fmt.Errorf("VAPID key: %w", err)
	}
	return ParseVAPIDKey(stored)
}

// PublicKey is what GET /api/v1/push/vapid-public-key answers: the
// applicationServerKey for pushManager.subscribe.
type PublicKey struct {
	Key string `json:"key"`
}

// VAPIDPublicKey returns the application server's public key; anyone may
// read it.
func (s *Service) VAPIDPublicKey(context.Context) (PublicKey, error) {
	return PublicKey{Key: s.Key.PublicKey()}, nil
}

// SubscriptionKeys are keys of the browser's PushSubscription JSON.
type SubscriptionKeys struct {
	P256dh string `json:"p256dh"`
	Auth   string `json:"auth"`
}

// NewSubscription is the browser's PushSubscription JSON (what
// subscription.toJSON() gives), with the language its messages are to be
// in (empty: the guardian's).
type NewSubscription struct {
	Endpoint       string           `json:"endpoint"`
	ExpirationTime *int64           `json:"expirationTime,omitempty"` // browsers send it; not used
	Keys           SubscriptionKeys `json:"keys"`
	Language       string           `json:"language,omitempty"`
}

// Subscription is a stored subscription as its guardian sees it. The keys
// are not given back.
type Subscription struct {
	ID        int64     `json:"id"`
	Endpoint  string    `json:"endpoint"`
	Language  string    `json:"language"`
	CreatedAt time.Time `json:"created_at"`
}

// checkEndpoint accepts an https URL, or http to this machine only (a
// local push service in tests and development).
func checkEndpoint(s string) (*url.URL, error) {
	if s == "" {
		return nil, errs.Invalidf("endpoint", "required")
	}
	if len(s) > maxEndpoint {
		return nil, errs.Invalidf("endpoint", "longer than %d characters", maxEndpoint)
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return nil, errs.Invalidf("endpoint", "not an absolute URL of a push service")
	}
	switch u.Scheme {
	case "https":
	case "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); h != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, errs.Invalidf("endpoint", "must be https (http only to localhost)")
		}
	default:
		return nil, errs.Invalidf("endpoint", "must be https")
	}
	return u, nil
}

func checkKey(field, s string, size int) ([]byte, error) {
	if s == "" {
		return nil, errs.Invalidf(field, "required")
	}
	b, err := decode64(s)
	if err != nil {
		return nil, errs.Invalidf(field, "not base64url")
	}
	if len(b) != size {
		return nil, errs.Invalidf(field, "%d bytes, must be %d", len(b), size)
	}
	return b, nil
}

// validate checks a new subscription, every field, and returns its keys in
// their canonical text.
func validate(in NewSubscription) (p256dh, auth string, err error) {
	var problems []*errs.Error
	add := func(err error) {
		if err != nil {
			problems = append(problems, errs.As(err))
		}
	}
	_, err = checkEndpoint(in.Endpoint)
	add(err)
	pk, err := checkKey("keys.p256dh", in.Keys.P256dh, KeySize)
	add(err)
	if err == nil {
		// The user agent's key must be a point on the curve, or every
		// message to it fails.
		if _, err := Encrypt(nil, pk, make([]byte, AuthSize)); err != nil {
			add(errs.Invalidf("keys.p256dh", "not a P-256 public key"))
		}
	}
	ak, err := checkKey("keys.auth", in.Keys.Auth, AuthSize)
	add(err)
	if in.Language != "" && !slices.Contains(locale.Languages, in.Language) {
		add(errs.Invalidf("language", "%q is not one of %s", in.Language, strings.Join(locale.Languages, ", ")))
	}
	if len(problems) > 0 {
		return "", "", errs.Of(problems)
	}
	return b64.EncodeToString(pk), b64.EncodeToString(ak), nil
}

// Subscribe stores the signed-in guardian's browser subscription; audited.
// Subscribing again with the same endpoint and keys keeps the subscription;
// an endpoint that comes with other keys, or from another guardian (the
// phone changed hands), replaces the old subscription, so that nothing
// queued for the old one reaches the new. Past MaxPerGuardian the oldest is
// dropped.
func (s *Service) Subscribe(ctx context.Context, p auth.Principal, in NewSubscription) (Subscription, error) {
	if err := p.Require(auth.OwnSettings); err != nil {
		return Subscription{}, err
	}
	p256dh, authKey, err := validate(in)
	if err != nil {
		return Subscription{}, err
	}
	g := p.Scope.ID()
	now := s.Now()
	var out Subscription
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		lang := in.Language
		if lang == "" {
			if err := tx.QueryRowContext(ctx, "SELECT language FROM guardians WHERE id = ?", g).Scan(&lang); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM push_subscriptions WHERE endpoint = ? AND (guardian_id <> ? OR p256dh <> ? OR auth <> ?)",
			in.Endpoint, g, p256dh, authKey); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO push_subscriptions (guardian_id, endpoint, p256dh, auth, language, created_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (endpoint) DO UPDATE SET language = excluded.language`,
			g, in.Endpoint, p256dh, authKey, lang, store.Micros(now)); err != nil {
			return err
		}
		var created int64
		if err := tx.QueryRowContext(ctx, "SELECT id, language, created_at FROM push_subscriptions WHERE endpoint = ?", in.Endpoint).
			Scan(&out.ID, &out.Language, &created); err != nil {
			return err
		}
		out.Endpoint, out.CreatedAt = in.Endpoint, time.UnixMicro(created).UTC()
		if _, err := tx.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE guardian_id = ? AND id NOT IN
			(SELECT id FROM push_subscriptions WHERE guardian_id = ? ORDER BY id DESC LIMIT ?)`, g, g, MaxPerGuardian); err != nil {
			return err
		}
		return auth.Append(ctx, tx, now, p, "guardian.push_subscribed", fmt.Sprintf("guardian/%d", g),
			map[string]any{"subscription": out.ID, "push_service": hostOf(in.Endpoint), "language": out.Language})
	})
	if err != nil {
		return Subscription{}, errs.Wrap(err, "push subscription")
	}
	return out, nil
}

// hostOf is the push service of an endpoint, for the audit trail: the rest
// of the URL is the subscription's secret.
func hostOf(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return ""
	}
	return u.Host
}

// Unsubscription names the subscription to remove by its endpoint.
type Unsubscription struct {
	Endpoint string `json:"endpoint"`
}

// Removed says how many subscriptions went.
type Removed struct {
	Removed int `json:"removed"`
}

// Unsubscribe removes the signed-in guardian's subscription with the
// endpoint; audited. An endpoint that is not theirs is not found.
func (s *Service) Unsubscribe(ctx context.Context, p auth.Principal, in Unsubscription) (Removed, error) {
	if err := p.Require(auth.OwnSettings); err != nil {
		return Removed{}, err
	}
	if in.Endpoint == "" {
		return Removed{}, errs.Invalidf("endpoint", "required")
	}
	g := p.Scope.ID()
	var out Removed
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, "SELECT id FROM push_subscriptions WHERE endpoint = ? AND guardian_id = ?", in.Endpoint, g).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.NotFoundf("no push subscription of yours with this endpoint")
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM push_subscriptions WHERE id = ?", id); err != nil {
			return err
		}
		out.Removed = 1
		return auth.Append(ctx, tx, s.Now(), p, "guardian.push_unsubscribed", fmt.Sprintf("guardian/%d", g),
			map[string]any{"subscription": id, "push_service": hostOf(in.Endpoint)})
	})
	if err != nil {
		return Removed{}, errs.Wrap(err, "push subscription")
	}
	return out, nil
}

// MySubscriptions lists the signed-in guardian's subscriptions, oldest
// first.
func (s *Service) MySubscriptions(ctx context.Context, p auth.Principal) ([]Subscription, error) {
	if err := p.Require(auth.OwnSettings); err != nil {
		return nil, err
	}
	out := []Subscription{}
	err := store.Each(ctx, s.DB.Reader(), func(rows *sql.Rows) error {
		var x Subscription
		var created int64
		if err := rows.Scan(&x.ID, &x.Endpoint, &x.Language, &created); err != nil {
			return err
		}
		x.CreatedAt = time.UnixMicro(created).UTC()
		out = append(out, x)
		return nil
	}, "SELECT id, endpoint, language, created_at FROM push_subscriptions WHERE guardian_id = ? ORDER BY id", p.Scope.ID())
	return out, errs.Wrap(err, "push subscriptions")
}

// target reads a subscription for sending; ok is false when it is gone.
func (s *Service) target(ctx context.Context, id int64) (t Target, ok bool, err error) {
	var p256dh, authKey string
	err = s.DB.Reader().QueryRowContext(ctx, "SELECT endpoint, p256dh, auth FROM push_subscriptions WHERE id = ?", id).Scan(&t.Endpoint, &p256dh, &authKey)
	if errors.Is(err, sql.ErrNoRows) {
		return t, false, nil
	}
	if err != nil {
		return t, false, err
	}
	if t.P256dh, err = decode64(p256dh); err != nil {
		return t, false, err
	}
	if t.Auth, err = decode64(authKey); err != nil {
		return t, false, err
	}
	return t, true, nil
}

// remove forgets a subscription the push service says is gone. Not
// audited: no person acted.
func (s *Service) remove(ctx context.Context, id int64, endpoint string) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM push_subscriptions WHERE id = ? AND endpoint = ?", id, endpoint)
		return err
	})
}
