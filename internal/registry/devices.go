package registry

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/store"
)

// DeviceKind is what a device is.
type DeviceKind string

const (
	Turnstile     DeviceKind = "turnstile"
	PanicButton   DeviceKind = "panic_button"
	AlarmPanel    DeviceKind = "alarm_panel"
	Camera        DeviceKind = "camera"
	MetalDetector DeviceKind = "metal_detector"
	PublicAddress DeviceKind = "public_address"
)

// DeviceKinds lists every kind.
var DeviceKinds = []DeviceKind{Turnstile, PanicButton, AlarmPanel, Camera, MetalDetector, PublicAddress}

func validKind(k DeviceKind) bool {
	return slices.Contains(DeviceKinds, k)
}

// SupervisionPresets are reporting intervals, in seconds, after the EN 50136-1
// supervision categories (the longest silence before a path fault must be
// reported): SP1 32 days … SP6 20 s, DP1 25 h … DP4 90 s. Which category a
// school needs is a configuration choice.
var SupervisionPresets = map[string]int{
	"SP1": 32 * 24 * 3600, "SP2": 25 * 3600, "SP3": 30 * 60, "SP4": 180, "SP5": 90, "SP6": 20,
	"DP1": 25 * 3600, "DP2": 30 * 60, "DP3": 180, "DP4": 90,
}

// Device is a piece of safety equipment at a school.
type Device struct {
	ID                int64      `json:"id"`
	SchoolID          int64      `json:"school_id"`
	Kind              DeviceKind `json:"kind"`
	Name              string     `json:"name"`
	Place             string     `json:"place,omitempty"`
	DC09Account       string     `json:"dc09_account,omitempty"`
	DC09Encrypted     bool       `json:"dc09_encrypted"`
	MQTTClientID      string     `json:"mqtt_client_id,omitempty"`
	ReportingInterval int        `json:"reporting_interval_s"`
}

// DeviceInput registers a device. The DC-09 key is given either as hex
// (32, 48 or 64 digits) or as ASCII text (16, 24 or 32 characters), as panels
// differ in which they take; the store keeps the raw bytes.
type DeviceInput struct {
	Kind              DeviceKind `json:"kind"`
	Name              string     `json:"name"`
	Place             string     `json:"place,omitempty"`
	DC09Account       string     `json:"dc09_account,omitempty"`
	DC09KeyHex        string     `json:"dc09_key_hex,omitempty"`
	DC09KeyText       string     `json:"dc09_key_text,omitempty"`
	MQTTClientID      string     `json:"mqtt_client_id,omitempty"`
	ReportingInterval int        `json:"reporting_interval_s,omitempty"`
	Supervision       string     `json:"supervision,omitempty"` // an EN 50136 preset name, e.g. "SP4"
}

// Key returns the DC-09 key bytes (nil when none).
func (in DeviceInput) Key() ([]byte, error) {
	switch {
	case in.DC09KeyHex != "" && in.DC09KeyText != "":
		return nil, errs.Invalidf("dc09_key_hex", "give the key as hex or as text, not both")
	case in.DC09KeyHex != "":
		k, err := hex.DecodeString(in.DC09KeyHex)
		if err != nil || (len(k) != 16 && len(k) != 24 && len(k) != 32) {
			return nil, errs.Invalidf("dc09_key_hex", "key must be 32, 48 or 64 hex digits (AES-128/192/256)")
		}
		return k, nil
	case in.DC09KeyText != "":
		if n := len(in.DC09KeyText); n != 16 && n != 24 && n != 32 {
			return nil, errs.Invalidf("dc09_key_text", "key text must be 16, 24 or 32 ASCII characters, got %d", n)
		}
		return []byte(in.DC09KeyText), nil
	}
	return nil, nil
}

func (in *DeviceInput) validate() ([]byte, error) {
	in.Name, in.Place = strings.TrimSpace(in.Name), strings.TrimSpace(in.Place)
	in.DC09Account = strings.ToUpper(strings.TrimSpace(in.DC09Account))
	if !validKind(in.Kind) {
		return nil, errs.Invalidf("kind", "unknown device kind %q (one of %v)", in.Kind, DeviceKinds)
	}
	if in.Name == "" || utf8.RuneCountInString(in.Name) > 100 {
		return nil, errs.Invalidf("name", "name is required, at most 100 characters")
	}
	if utf8.RuneCountInString(in.Place) > 200 {
		return nil, errs.Invalidf("place", "place must be at most 200 characters")
	}
	if in.DC09Account != "" {
		if !validDC09Account(in.DC09Account) {
			return nil, errs.Invalidf("dc09_account", "DC-09 account must be 3–16 hex digits, got %q", in.DC09Account)
		}
	}
	key, err := in.Key()
	if err != nil {
		return nil, err
	}
	if key != nil && in.DC09Account == "" {
		return nil, errs.Invalidf("dc09_account", "a DC-09 key needs a DC-09 account")
	}
	if len(in.MQTTClientID) > 128 {
		return nil, errs.Invalidf("mqtt_client_id", "mqtt_client_id must be at most 128 characters")
	}
	if strings.ContainsAny(in.MQTTClientID, "/+#$ ") {
		return nil, errs.Invalidf("mqtt_client_id", "mqtt_client_id is a topic level: no '/', '+', '#', '$' or spaces")
	}
	if in.Supervision != "" {
		s, ok := SupervisionPresets[strings.ToUpper(in.Supervision)]
		if !ok {
			return nil, errs.Invalidf("supervision", "unknown supervision category %q (SP1–SP6, DP1–DP4)", in.Supervision)
		}
		in.ReportingInterval = s
	}
	if in.ReportingInterval < 0 || in.ReportingInterval > 40*24*3600 {
		return nil, errs.Invalidf("reporting_interval_s", "reporting interval must be 0 (not supervised) to 40 days")
	}
	return key, nil
}

// CreateDevice registers a device at a school in scope.
func (r *Registry) CreateDevice(ctx context.Context, p auth.Principal, schoolID int64, in DeviceInput) (Device, error) {
	if _, err := r.SchoolFor(ctx, p, schoolID, auth.WriteDevices); err != nil {
		return Device{}, err
	}
	key, err := in.validate()
	if err != nil {
		return Device{}, err
	}
	var d Device
	err = r.DB.InTx(ctx, func(tx *store.Tx) error {
		var err error
		d, err = InsertDevice(ctx, tx, r.Now().UnixMicro(), schoolID, in, key)
		if err != nil {
			return err
		}
		return auth.Append(ctx, tx, r.Now(), p, "device.create", fmt.Sprintf("device/%d", d.ID),
			map[string]any{"school_id": schoolID, "kind": in.Kind, "name": in.Name, "dc09_account": in.DC09Account, "dc09_key_set": key != nil})
	})
	return d, err
}

// InsertDevice writes a validated device in tx.
func InsertDevice(ctx context.Context, tx *store.Tx, now int64, schoolID int64, in DeviceInput, key []byte) (Device, error) {
	d := Device{SchoolID: schoolID, Kind: in.Kind, Name: in.Name, Place: in.Place, DC09Account: in.DC09Account, DC09Encrypted: key != nil,
		MQTTClientID: in.MQTTClientID, ReportingInterval: in.ReportingInterval}
	err := tx.QueryRowContext(ctx, `INSERT INTO devices (school_id, kind, name, place, dc09_account, dc09_key, mqtt_client_id, reporting_interval_s, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, schoolID, in.Kind, in.Name, in.Place, nullStr(in.DC09Account), key, nullStr(in.MQTTClientID),
		in.ReportingInterval, now, now).Scan(&d.ID)
	if store.IsUniqueViolation(err) {
		if strings.Contains(err.Error(), "mqtt") {
			return d, errs.E(errs.Conflict, "mqtt_client_id", "MQTT client id %q is taken", in.MQTTClientID)
		}
		return d, errs.E(errs.Conflict, "dc09_account", "DC-09 account %s is registered already", in.DC09Account)
	}
	return d, err
}

const deviceCols = "d.id, d.school_id, d.kind, d.name, d.place, COALESCE(d.dc09_account, ''), d.dc09_key IS NOT NULL, COALESCE(d.mqtt_client_id, ''), d.reporting_interval_s"

func scanDevice(sc interface{ Scan(...any) error }) (Device, error) {
	var d Device
	err := sc.Scan(&d.ID, &d.SchoolID, &d.Kind, &d.Name, &d.Place, &d.DC09Account, &d.DC09Encrypted, &d.MQTTClientID, &d.ReportingInterval)
	return d, err
}

// ListDevices lists the devices of a school in scope.
func (r *Registry) ListDevices(ctx context.Context, p auth.Principal, schoolID int64) ([]Device, error) {
	if _, err := r.School(ctx, p, schoolID); err != nil {
		return nil, err
	}
	out, err := store.Collect(ctx, r.DB.Reader(), func(rows *sql.Rows) (Device, error) { return scanDevice(rows) },
		"SELECT "+deviceCols+" FROM devices d WHERE d.school_id = ? ORDER BY d.id", schoolID)
	return out, errs.Wrap(err, "list devices")
}

// validDC09Account reports whether an upper-case account is one a device
// may be registered with: 3 to 16 hex digits.
func validDC09Account(account string) bool {
	return len(account) >= 3 && len(account) <= 16 && strings.Trim(account, "0123456789ABCDEF") == ""
}

// DeviceByDC09Account finds a panel by its DC-09 account, with its key (for
// the alarm receiver; no scope: the receiver acts for the installation).
// An account no device can have is not looked up: a panel may put any bytes
// where its account goes, and PostgreSQL would refuse a NUL in the query
// where SQLite finds nothing; both answer not found.
func (r *Registry) DeviceByDC09Account(ctx context.Context, account string) (Device, []byte, error) {
	if !validDC09Account(strings.ToUpper(account)) {
		return Device{}, nil, errs.NotFoundf("no device with DC-09 account %q", account)
	}
	var key []byte
	row := r.DB.Reader().QueryRowContext(ctx, "SELECT "+deviceCols+", d.dc09_key FROM devices d WHERE d.dc09_account = ?", strings.ToUpper(account))
	var d Device
	err := row.Scan(&d.ID, &d.SchoolID, &d.Kind, &d.Name, &d.Place, &d.DC09Account, &d.DC09Encrypted, &d.MQTTClientID, &d.ReportingInterval, &key)
	if errors.Is(err, sql.ErrNoRows) {
		return Device{}, nil, errs.NotFoundf("no device with DC-09 account %s", account)
	}
	return d, key, err
}

// DeviceByMQTTClientID finds a device by the client id it uses at the MQTT
// broker (for the MQTT gateway; no scope: the gateway acts for the
// installation, and the broker has authenticated the device).
func (r *Registry) DeviceByMQTTClientID(ctx context.Context, id string) (Device, error) {
	if id == "" {
		return Device{}, errs.NotFoundf("no device with an empty MQTT client id")
	}
	d, err := scanDevice(r.DB.Reader().QueryRowContext(ctx, "SELECT "+deviceCols+" FROM devices d WHERE d.mqtt_client_id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Device{}, errs.NotFoundf("no device with MQTT client id %q", id)
	}
	if err != nil {
		// Not the device's fault: the message must be retried, not dropped.
		return Device{}, errs.Wrap(err, "device by MQTT client id")
	}
	return d, nil
}

// IssueDeviceCredential creates (or replaces) a device's HTTP credential and
// returns it once. Devices authenticate with it and can do nothing else.
func (r *Registry) IssueDeviceCredential(ctx context.Context, p auth.Principal, deviceID int64) (string, error) {
	var schoolID int64
	err := r.DB.Reader().QueryRowContext(ctx, "SELECT school_id FROM devices WHERE id = ?", deviceID).Scan(&schoolID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errs.NotFoundf("no device %d", deviceID)
	}
	if err != nil {
		return "", errs.Wrap(err, "read device")
	}
	// A device is in the scope its school is in.
	if err := AtSchool(ctx, r.DB.Reader(), p, r.today(), schoolID, auth.WriteDevices); err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return "", errs.NotFoundf("no device %d", deviceID)
		}
		return "", err
	}
	var b [32]byte
	rand.Read(b[:])
	tok := "qd_" + base64.RawURLEncoding.EncodeToString(b[:])
	err = r.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO device_credentials (device_id, token_hash, created_at) VALUES (?, ?, ?)
			ON CONFLICT (device_id) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at`,
			deviceID, auth.TokenHash(tok), store.Micros(r.Now())); err != nil {
			return err
		}
		return auth.Append(ctx, tx, r.Now(), p, "device.credential", fmt.Sprintf("device/%d", deviceID), map[string]any{})
	})
	return tok, err
}

// DeviceByCredential resolves a device's HTTP credential.
func (r *Registry) DeviceByCredential(ctx context.Context, tok string) (Device, error) {
	d, err := scanDevice(r.DB.Reader().QueryRowContext(ctx, "SELECT "+deviceCols+" FROM devices d JOIN device_credentials c ON c.device_id = d.id WHERE c.token_hash = ?", auth.TokenHash(tok)))
	if errors.Is(err, sql.ErrNoRows) {
		return Device{}, errs.E(errs.Unauthorized, "Authorization", "unknown device credential")
	}
	if err != nil {
		// Not the device's fault: it should retry, not think its credential bad.
		return Device{}, errs.Wrap(err, "device credential")
	}
	return d, nil
}
