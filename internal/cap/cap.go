// Package cap writes and reads OASIS Common Alerting Protocol 1.2 alerts,
// the form in which a civil-protection system or a public-address gateway
// takes a warning: Qorgan sends one for each declared emergency, change,
// cancellation and all-clear. It is a codec (values in, XML out; no clock:
// the caller gives every time) plus a webhook sender (webhook.go).
//
// Times are written as CAP wants them, with the offset and without
// fractions of a second, in Almaty's zone: 2026-12-06T14:05:09+05:00.
package cap

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"

	"qorgan/internal/kztime"
)

// Namespace is CAP 1.2's XML namespace.
const Namespace = "urn:oasis:names:tc:emergency:cap:1.2"

// ContentType is the media type of a CAP document (RFC 6836 registers
// application/cap+xml; some receivers take only application/xml).
const ContentType = "application/cap+xml"

// Status is how the alert is meant: Actual, or Exercise for a drill.
type Status string

// The statuses CAP knows.
const (
	Actual   Status = "Actual"
	Exercise Status = "Exercise"
	System   Status = "System"
	Test     Status = "Test"
	Draft    Status = "Draft"
)

// MsgType is what the message does: a new alert, an update of earlier ones,
// or their cancellation (both name them in References).
type MsgType string

// The message types CAP knows.
const (
	AlertMsg MsgType = "Alert"
	Update   MsgType = "Update"
	Cancel   MsgType = "Cancel"
	Ack      MsgType = "Ack"
	Error    MsgType = "Error"
)

// Scope is who may see the alert.
type Scope string

// The scopes CAP knows: Restricted needs Restriction, Private needs
// Addresses.
const (
	Public     Scope = "Public"
	Restricted Scope = "Restricted"
	Private    Scope = "Private"
)

// Category, Urgency, Severity, Certainty and ResponseType are the info
// block's codes; the values allowed are listed in values.go.
type (
	Category     string
	Urgency      string
	Severity     string
	Certainty    string
	ResponseType string
)

// Alert is a CAP alert message: one warning, in one or more languages (an
// Info per language).
type Alert struct {
	XMLName     xml.Name   `xml:"urn:oasis:names:tc:emergency:cap:1.2 alert"`
	Identifier  string     `xml:"identifier"`
	Sender      string     `xml:"sender"`
	Sent        Time       `xml:"sent"`
	Status      Status     `xml:"status"`
	MsgType     MsgType    `xml:"msgType"`
	Source      string     `xml:"source,omitempty"`
	Scope       Scope      `xml:"scope"`
	Restriction string     `xml:"restriction,omitempty"`
	Addresses   string     `xml:"addresses,omitempty"`
	Codes       []string   `xml:"code,omitempty"`
	Note        string     `xml:"note,omitempty"`
	References  References `xml:"references,omitempty"`
	Incidents   string     `xml:"incidents,omitempty"`
	Info        []Info     `xml:"info,omitempty"`
}

// Info is the alert's content in one language.
type Info struct {
	Language     string         `xml:"language,omitempty"` // ru-KZ, kk-KZ, en
	Category     []Category     `xml:"category"`
	Event        string         `xml:"event"`
	ResponseType []ResponseType `xml:"responseType,omitempty"`
	Urgency      Urgency        `xml:"urgency"`
	Severity     Severity       `xml:"severity"`
	Certainty    Certainty      `xml:"certainty"`
	Audience     string         `xml:"audience,omitempty"`
	EventCode    []Value        `xml:"eventCode,omitempty"`
	Effective    *Time          `xml:"effective,omitempty"`
	Onset        *Time          `xml:"onset,omitempty"`
	Expires      *Time          `xml:"expires,omitempty"`
	SenderName   string         `xml:"senderName,omitempty"`
	Headline     string         `xml:"headline,omitempty"`
	Description  string         `xml:"description,omitempty"`
	Instruction  string         `xml:"instruction,omitempty"`
	Web          string         `xml:"web,omitempty"`
	Contact      string         `xml:"contact,omitempty"`
	Parameter    []Value        `xml:"parameter,omitempty"`
	Resource     []Resource     `xml:"resource,omitempty"`
	Area         []Area         `xml:"area,omitempty"`
}

// Value is a named value: an event code, a parameter, a geocode.
type Value struct {
	ValueName string `xml:"valueName"`
	Value     string `xml:"value"`
}

// KATO is a geocode by the Kazakh classifier of administrative-territorial
// objects (КАТО), the code of a school's locality.
func KATO(code string) Value { return Value{ValueName: "KATO", Value: code} }

// Resource is a file that goes with the info (a plan, a photo).
type Resource struct {
	ResourceDesc string `xml:"resourceDesc"`
	MimeType     string `xml:"mimeType"`
	Size         int64  `xml:"size,omitempty"`
	URI          string `xml:"uri,omitempty"`
	DerefURI     string `xml:"derefUri,omitempty"`
	Digest       string `xml:"digest,omitempty"`
}

// Area is where the info applies: a description, and circles, polygons and
// geocodes.
type Area struct {
	AreaDesc string   `xml:"areaDesc"`
	Polygon  []string `xml:"polygon,omitempty"`
	Circle   []Circle `xml:"circle,omitempty"`
	Geocode  []Value  `xml:"geocode,omitempty"`
}

// Circle is a point (WGS 84) and a radius in kilometres, written
// "lat,lon radius".
type Circle struct {
	Lat, Lon, RadiusKm float64
}

// MarshalText writes "43.2383,76.9456 0.5".
func (c Circle) MarshalText() ([]byte, error) {
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	return []byte(f(c.Lat) + "," + f(c.Lon) + " " + f(c.RadiusKm)), nil
}

// UnmarshalText reads "lat,lon radius".
func (c *Circle) UnmarshalText(b []byte) error {
	point, radius, ok := strings.Cut(strings.TrimSpace(string(b)), " ")
	lat, lon, ok2 := strings.Cut(point, ",")
	if !ok || !ok2 {
		return fmt.Errorf("circle %q is not \"lat,lon radius\"", b)
	}
	var err [3]error
	c.Lat, err[0] = strconv.ParseFloat(lat, 64)
	c.Lon, err[1] = strconv.ParseFloat(lon, 64)
	c.RadiusKm, err[2] = strconv.ParseFloat(strings.TrimSpace(radius), 64)
	for _, e := range err {
		if e != nil {
			return fmt.Errorf("circle %q: %w", b, e)
		}
	}
	return nil
}

// Time is an instant as CAP writes it: seconds, with the offset, in Almaty.
type Time struct{ time.Time }

// At is t as a CAP time.
func At(t time.Time) Time { return Time{t} }

// AtPtr is t as an optional CAP time (effective, onset, expires).
func AtPtr(t time.Time) *Time { return &Time{t} }

// timeLayout is CAP's dateTime: no fractions, the offset always written.
const timeLayout = "2006-01-02T15:04:05-07:00"

// String is t in CAP's form in Almaty: 2026-12-06T14:05:09+05:00.
func (t Time) String() string { return t.Time.In(kztime.Almaty).Format(timeLayout) }

// MarshalText writes the CAP form.
func (t Time) MarshalText() ([]byte, error) {
	if t.IsZero() {
		return nil, fmt.Errorf("cap: a zero time")
	}
	return []byte(t.String()), nil
}

// UnmarshalText reads the CAP form (also "-00:00" for UTC).
func (t *Time) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	v, err := time.Parse(timeLayout, strings.Replace(s, "-00:00", "+00:00", 1))
	if err != nil || len(s) != len(timeLayout) {
		return fmt.Errorf("time %q is not CAP's YYYY-MM-DDThh:mm:ss±hh:mm", s)
	}
	t.Time = v
	return nil
}

// Reference names an earlier alert an Update or a Cancel refers to.
type Reference struct {
	Sender, Identifier string
	Sent               Time
}

// Ref is the reference to alert a, for an Update or a Cancel of it.
func (a Alert) Ref() Reference {
	return Reference{Sender: a.Sender, Identifier: a.Identifier, Sent: a.Sent}
}

// References are written "sender,identifier,sent" each, separated by spaces.
type References []Reference

// MarshalText writes "sender,identifier,sent sender,identifier,sent".
func (r References) MarshalText() ([]byte, error) {
	parts := make([]string, len(r))
	for i, x := range r {
		parts[i] = x.Sender + "," + x.Identifier + "," + x.Sent.String()
	}
	return []byte(strings.Join(parts, " ")), nil
}

// UnmarshalText reads the space-separated "sender,identifier,sent" triples.
func (r *References) UnmarshalText(b []byte) error {
	*r = nil
	for _, f := range strings.Fields(string(b)) {
		p := strings.Split(f, ",")
		if len(p) != 3 {
			return fmt.Errorf("reference %q is not sender,identifier,sent", f)
		}
		var t Time
		if err := t.UnmarshalText([]byte(p[2])); err != nil {
			return fmt.Errorf("reference %q: %w", f, err)
		}
		*r = append(*r, Reference{Sender: p[0], Identifier: p[1], Sent: t})
	}
	return nil
}

// Marshal checks the alert (see Check) and writes it as an XML document.
func Marshal(a Alert) ([]byte, error) {
	if err := a.Check(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(a); err != nil {
		return nil, fmt.Errorf("cap: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// Parse reads a CAP 1.2 alert and checks it.
func Parse(data []byte) (Alert, error) {
	var a Alert
	if err := xml.Unmarshal(data, &a); err != nil {
		return Alert{}, fmt.Errorf("cap: %w", err)
	}
	if a.XMLName.Space != Namespace {
		return Alert{}, fmt.Errorf("cap: the alert's namespace is %q, not %s", a.XMLName.Space, Namespace)
	}
	return a, a.Check()
}
