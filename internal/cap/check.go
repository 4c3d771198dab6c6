package cap

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"qorgan/internal/errs"
	"qorgan/internal/text"
)

// languageTag is XML Schema's xs:language.
var languageTag = regexp.MustCompile(`^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$`)

// Check refuses an alert that is not valid CAP 1.2, naming the first field
// at fault ("info/0/area/0/areaDesc"): what the schema requires, plus the
// rules the specification states in words (identifiers without spaces,
// commas, < or &; references on an Update or a Cancel; a restriction for
// Restricted, addresses for Private), and no control character in any text.
func (a Alert) Check() error {
	if err := token("identifier", a.Identifier); err != nil {
		return err
	}
	if err := token("sender", a.Sender); err != nil {
		return err
	}
	if a.Sent.IsZero() {
		return errs.Invalidf("sent", "is required: when the alert was sent")
	}
	if !statuses[a.Status] {
		return oneOf("status", string(a.Status), statuses)
	}
	if !msgTypes[a.MsgType] {
		return oneOf("msgType", string(a.MsgType), msgTypes)
	}
	if !scopes[a.Scope] {
		return oneOf("scope", string(a.Scope), scopes)
	}
	if a.Scope == Restricted && strings.TrimSpace(a.Restriction) == "" {
		return errs.Invalidf("restriction", "is required when scope is Restricted")
	}
	if a.Scope == Private && strings.TrimSpace(a.Addresses) == "" {
		return errs.Invalidf("addresses", "is required when scope is Private")
	}
	if (a.MsgType == Update || a.MsgType == Cancel) && len(a.References) == 0 {
		return errs.Invalidf("references", "is required for a%s %s: the earlier alerts it %s", map[bool]string{true: "n"}[a.MsgType == Update], a.MsgType, map[MsgType]string{Update: "updates", Cancel: "cancels"}[a.MsgType])
	}
	for i, r := range a.References {
		f := fmt.Sprintf("references/%d", i)
		if err := token(f+"/sender", r.Sender); err != nil {
			return err
		}
		if err := token(f+"/identifier", r.Identifier); err != nil {
			return err
		}
		if r.Sent.IsZero() {
			return errs.Invalidf(f+"/sent", "is required")
		}
		if r.Sender == a.Sender && r.Identifier == a.Identifier {
			return errs.Invalidf(f, "refers to the alert itself")
		}
	}
	for _, x := range []named{{"source", a.Source}, {"restriction", a.Restriction}, {"addresses", a.Addresses}, {"note", a.Note}, {"incidents", a.Incidents}} {
		if err := line(x.field, x.s, text.Lines); err != nil {
			return err
		}
	}
	if err := each("code", a.Codes, func(c, f string) error { return line(f, c, text.Line) }); err != nil {
		return err
	}
	return each("info", a.Info, Info.check)
}

func (in Info) check(field string) error {
	if in.Language != "" && !languageTag.MatchString(in.Language) {
		return errs.Invalidf(field+"/language", "is %q, not a language tag such as ru-KZ, kk-KZ or en", in.Language)
	}
	if len(in.Category) == 0 {
		return errs.Invalidf(field+"/category", "is required: at least one of %s", list(categories))
	}
	for j, c := range in.Category {
		if !categories[c] {
			return oneOf(fmt.Sprintf("%s/category/%d", field, j), string(c), categories)
		}
	}
	if strings.TrimSpace(in.Event) == "" {
		return errs.Invalidf(field+"/event", "is required: what the event is")
	}
	for j, r := range in.ResponseType {
		if !responseTypes[r] {
			return oneOf(fmt.Sprintf("%s/responseType/%d", field, j), string(r), responseTypes)
		}
	}
	if !urgencies[in.Urgency] {
		return oneOf(field+"/urgency", string(in.Urgency), urgencies)
	}
	if !severities[in.Severity] {
		return oneOf(field+"/severity", string(in.Severity), severities)
	}
	if !certainties[in.Certainty] {
		return oneOf(field+"/certainty", string(in.Certainty), certainties)
	}
	for _, t := range []struct {
		name string
		t    *Time
	}{{"effective", in.Effective}, {"onset", in.Onset}, {"expires", in.Expires}} {
		if t.t != nil && t.t.IsZero() {
			return errs.Invalidf(field+"/"+t.name, "is a zero time; leave it out instead")
		}
	}
	texts := []named{{"event", in.Event}, {"audience", in.Audience}, {"senderName", in.SenderName}, {"headline", in.Headline},
		{"description", in.Description}, {"instruction", in.Instruction}, {"web", in.Web}, {"contact", in.Contact}}
	for _, x := range texts {
		if err := line(field+"/"+x.field, x.s, text.Lines); err != nil {
			return err
		}
	}
	if in.Web != "" {
		if u, err := url.Parse(in.Web); err != nil || !u.IsAbs() {
			return errs.Invalidf(field+"/web", "%q is not a full URL", in.Web)
		}
	}
	if err := each(field+"/value", append(slices.Clone(in.EventCode), in.Parameter...), Value.check); err != nil {
		return err
	}
	for j, r := range in.Resource {
		f := fmt.Sprintf("%s/resource/%d", field, j)
		if strings.TrimSpace(r.ResourceDesc) == "" {
			return errs.Invalidf(f+"/resourceDesc", "is required")
		}
		if strings.TrimSpace(r.MimeType) == "" {
			return errs.Invalidf(f+"/mimeType", "is required")
		}
		if r.Size < 0 {
			return errs.Invalidf(f+"/size", "is negative")
		}
	}
	return each(field+"/area", in.Area, Area.check)
}

func (ar Area) check(field string) error {
	if strings.TrimSpace(ar.AreaDesc) == "" {
		return errs.Invalidf(field+"/areaDesc", "is required: the area in words")
	}
	if err := line(field+"/areaDesc", ar.AreaDesc, text.Lines); err != nil {
		return err
	}
	for k, c := range ar.Circle {
		f := fmt.Sprintf("%s/circle/%d", field, k)
		switch {
		case math.IsNaN(c.Lat) || c.Lat < -90 || c.Lat > 90:
			return errs.Invalidf(f, "latitude %g is not between -90 and 90", c.Lat)
		case math.IsNaN(c.Lon) || c.Lon < -180 || c.Lon > 180:
			return errs.Invalidf(f, "longitude %g is not between -180 and 180", c.Lon)
		case math.IsNaN(c.RadiusKm) || math.IsInf(c.RadiusKm, 0) || c.RadiusKm < 0:
			return errs.Invalidf(f, "radius %g km is not a distance", c.RadiusKm)
		}
	}
	for k, p := range ar.Polygon {
		if len(strings.Fields(p)) < 4 {
			return errs.Invalidf(fmt.Sprintf("%s/polygon/%d", field, k), "has fewer than four points")
		}
	}
	return each(field+"/geocode", ar.Geocode, Value.check)
}

func (v Value) check(field string) error {
	if strings.TrimSpace(v.ValueName) == "" {
		return errs.Invalidf(field+"/valueName", "is required")
	}
	if strings.TrimSpace(v.Value) == "" {
		return errs.Invalidf(field+"/value", "is required")
	}
	if err := line(field+"/valueName", v.ValueName, text.Line); err != nil {
		return err
	}
	return line(field+"/value", v.Value, text.Line)
}

// token checks an identifier or a sender: required, and without the
// characters that would break a reference (space, comma, <, &).
func token(field, s string) error {
	if s == "" {
		return errs.Invalidf(field, "is required")
	}
	if i := strings.IndexAny(s, " \t\r\n,<&"); i >= 0 {
		return errs.Invalidf(field, "%q holds %q; CAP forbids spaces, commas, < and & here", s, s[i])
	}
	return line(field, s, text.Line)
}

// each checks every element of a list with check, naming the element by
// the list's field and its index ("info/0/area/1"), and returns the first
// fault found.
func each[T any](field string, xs []T, check func(x T, field string) error) error {
	for i, x := range xs {
		if err := check(x, fmt.Sprintf("%s/%d", field, i)); err != nil {
			return err
		}
	}
	return nil
}

// named is a text and the field it is in.
type named struct{ field, s string }

func line(field, s string, k text.Kind) error {
	if p := text.Check(s, k); p != "" {
		return errs.Invalidf(field, "%s", p)
	}
	return nil
}

func oneOf[T ~string](field, got string, allowed map[T]bool) error {
	if got == "" {
		return errs.Invalidf(field, "is required: one of %s", list(allowed))
	}
	return errs.Invalidf(field, "is %q, not one of %s", got, list(allowed))
}

func list[T ~string](m map[T]bool) string {
	var s []string
	for k := range m {
		s = append(s, string(k))
	}
	slices.Sort(s)
	return strings.Join(s, ", ")
}
