package registry

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/store"
)

// MessageChannels are the ways a guardian can be told things.
var MessageChannels = []string{"bot", "sms", "email", "webhook", "webpush"}

// GuardianChannels says which channels a guardian has switched off.
type GuardianChannels struct {
	Off []string `json:"off"`
}

// MyChannels returns the signed-in guardian's switched-off channels.
func (r *Registry) MyChannels(ctx context.Context, p auth.Principal) (GuardianChannels, error) {
	if err := p.Require(auth.OwnSettings); err != nil {
		return GuardianChannels{}, err
	}
	var off string
	if err := r.DB.Reader().QueryRowContext(ctx, "SELECT channels_off FROM guardians WHERE id = ?", p.Scope.ID()).Scan(&off); err != nil {
		return GuardianChannels{}, errs.Wrap(err, "channels")
	}
	return GuardianChannels{Off: splitChannels(off)}, nil
}

func splitChannels(s string) []string {
	out := []string{}
	for _, c := range strings.Split(s, ",") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

// SetMyChannels switches channels off (and the others on) for the signed-in
// guardian; audited.
func (r *Registry) SetMyChannels(ctx context.Context, p auth.Principal, in GuardianChannels) (GuardianChannels, error) {
	if err := p.Require(auth.OwnSettings); err != nil {
		return GuardianChannels{}, err
	}
	off := []string{}
	for i, c := range in.Off {
		c = strings.ToLower(strings.TrimSpace(c))
		if !slices.Contains(MessageChannels, c) {
			return GuardianChannels{}, errs.Invalidf(fmt.Sprintf("off/%d", i), "unknown channel %q (one of %v)", c, MessageChannels)
		}
		if !slices.Contains(off, c) {
			off = append(off, c)
		}
	}
	slices.Sort(off)
	err := r.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE guardians SET channels_off = ?, updated_at = ? WHERE id = ?", strings.Join(off, ","), store.Micros(r.Now()), p.Scope.ID()); err != nil {
			return err
		}
		return auth.Append(ctx, tx, r.Now(), p, "guardian.channels", fmt.Sprintf("guardian/%d", p.Scope.ID()), map[string]any{"off": off})
	})
	if err != nil {
		return GuardianChannels{}, errs.Wrap(err, "channels")
	}
	return GuardianChannels{Off: off}, nil
}

// GuardianConsent is a guardian's consent to the processing of their and
// their children's data, as the school recorded it.
type GuardianConsent struct {
	GivenOn     string `json:"consent_given_on,omitempty"`
	WithdrawnOn string `json:"consent_withdrawn_on,omitempty"`
}

// WithdrawMyConsent records that the signed-in guardian withdraws consent,
// from today (Almaty): no message about their children is queued for them
// from then on. Withdrawing again keeps the first date. Giving consent anew
// is the school's to record, on the prescribed form.
func (r *Registry) WithdrawMyConsent(ctx context.Context, p auth.Principal) (GuardianConsent, error) {
	if err := p.Require(auth.OwnSettings); err != nil {
		return GuardianConsent{}, err
	}
	var c GuardianConsent
	err := r.DB.InTx(ctx, func(tx *store.Tx) error {
		var given, withdrawn sql.NullString
		if err := tx.QueryRowContext(ctx, "SELECT consent_given_on, consent_withdrawn_on FROM guardians WHERE id = ?", p.Scope.ID()).Scan(&given, &withdrawn); err != nil {
			return err
		}
		c = GuardianConsent{GivenOn: given.String, WithdrawnOn: withdrawn.String}
		if c.GivenOn == "" || c.WithdrawnOn != "" {
			return nil // never given, or withdrawn already
		}
		// Consent recorded for a later day is withdrawn on that day: it
		// never takes effect.
		c.WithdrawnOn = max(r.today().Format(time.DateOnly), c.GivenOn)
		if _, err := tx.ExecContext(ctx, "UPDATE guardians SET consent_withdrawn_on = ?, updated_at = ? WHERE id = ?",
			c.WithdrawnOn, store.Micros(r.Now()), p.Scope.ID()); err != nil {
			return err
		}
		return auth.Append(ctx, tx, r.Now(), p, "guardian.consent_withdrawn", fmt.Sprintf("guardian/%d", p.Scope.ID()), map[string]any{"on": c.WithdrawnOn})
	})
	if err != nil {
		return GuardianConsent{}, errs.Wrap(err, "consent")
	}
	return c, nil
}

// MyConsent returns the signed-in guardian's consent as the school recorded
// it.
func (r *Registry) MyConsent(ctx context.Context, p auth.Principal) (GuardianConsent, error) {
	if err := p.Require(auth.OwnSettings); err != nil {
		return GuardianConsent{}, err
	}
	var given, withdrawn sql.NullString
	if err := r.DB.Reader().QueryRowContext(ctx, "SELECT consent_given_on, consent_withdrawn_on FROM guardians WHERE id = ?", p.Scope.ID()).Scan(&given, &withdrawn); err != nil {
		return GuardianConsent{}, errs.Wrap(err, "consent")
	}
	return GuardianConsent{GivenOn: given.String, WithdrawnOn: withdrawn.String}, nil
}
