package web

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"qorgan/internal/auth"
)

// auditRow is one entry of the audit trail as the audit page shows it: the
// action, the actor and the object named in the reader's language where
// Qorgan knows them, and the stored codes kept beside them, for the
// filters' links and for an entry older than today's names.
type auditRow struct {
	auth.AuditRecord
	ActionKey string // "ui.audit.action.<action>"; empty for an action Qorgan no longer writes
	ActorKey  string // Qorgan's own actors (the system, devices, escalation, supervision)
	Login     string // a person's login
	Parts     []objectPart
	Pairs     []detailPair
}

// objectPart is one step of an object's path: "emergency/3/reunion/5" is
// the emergency № 3 and, in it, the reunion № 5.
type objectPart struct {
	Key string // "ui.audit.object.<kind>", or empty when the kind is unknown
	Raw string // the kind as stored, shown when Key is empty
	ID  string
}

// detailPair is one field of an entry's details. A field the console has a label for (login, role, scope) is
// named by KeyName, a role or a scope's kind by ValueKey; the stored key and
// value are shown otherwise.
type detailPair struct{ Key, KeyName, Value, ValueKey string }

// detailLabels are the detail fields named by the console's labels.
var detailLabels = map[string]string{"login": "ui.admin.login", "role": "ui.admin.role", "scope": "ui.admin.scope"}

// qorganActors are the actors that are Qorgan itself (auth.System and the
// principals the alarm path writes with), by login.
var qorganActors = []string{"system", "devices", "escalation", "supervision"}

// objectKinds are the kinds of object the audit trail names.
var objectKinds = []string{"user", "token", "alarm", "school", "device", "provider", "contract", "police_unit",
	"staff", "pupil", "guardian", "import", "emergency", "reunion", "algorithm", "target", "allocation", "spending", "registry"}

func auditRows(es []auth.AuditRecord) []auditRow {
	out := make([]auditRow, len(es))
	for i, e := range es {
		r := auditRow{AuditRecord: e, Parts: objectParts(e.Object), Pairs: detailPairs(e.Detail)}
		if slices.Contains(auth.Actions, e.Action) {
			r.ActionKey = "ui.audit.action." + e.Action
		}
		r.Login = e.Actor
		if rest, ok := strings.CutPrefix(e.Actor, "user:"); ok {
			if id, login, ok := strings.Cut(rest, ":"); ok {
				r.Login = login
				if id == "0" && slices.Contains(qorganActors, login) {
					r.ActorKey = "ui.audit.actor." + login
				}
			}
		}
		out[i] = r
	}
	return out
}

// objectParts splits "kind/id[/kind/id…]"; a part without a number
// ("registry") is a kind alone, and empty parts are left out.
func objectParts(object string) []objectPart {
	var out []objectPart
	fields := strings.Split(object, "/")
	for i := 0; i < len(fields); i++ {
		if fields[i] == "" {
			continue
		}
		p := objectPart{Raw: fields[i]}
		if slices.Contains(objectKinds, p.Raw) {
			p.Key = "ui.audit.object." + p.Raw
		}
		if i+1 < len(fields) {
			if _, err := strconv.ParseInt(fields[i+1], 10, 64); err == nil {
				p.ID = fields[i+1]
				i++
			}
		}
		out = append(out, p)
	}
	return out
}

// detailPairs reads an entry's JSON details into its top-level fields, in
// the order they are stored (a struct's field order; a map's, sorted); a
// field that is itself an object or a list
// is shown as compact text ("kind=district, ref=611000000"). Details that
// are not a JSON object come back as one pair with no key.
func detailPairs(raw json.RawMessage) []detailPair {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		if s := strings.TrimSpace(string(raw)); s != "" && s != "null" {
			return []detailPair{{Value: s}}
		}
		return nil
	}
	var out []detailPair
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return []detailPair{{Value: string(raw)}}
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return []detailPair{{Value: string(raw)}}
		}
		out = append(out, namedPair(k.(string), v))
	}
	return out
}

// namedPair is the field key with value v, named where the console can.
func namedPair(key string, v any) detailPair {
	p := detailPair{Key: key, KeyName: detailLabels[key], Value: detailText(v)}
	switch x := v.(type) {
	case string:
		if key == "role" && slices.Contains(auth.Roles, auth.Role(x)) {
			p.ValueKey, p.Value = "role."+x, ""
		}
	case map[string]any:
		kind, _ := x["kind"].(string)
		ref, _ := x["ref"].(string)
		if key == "scope" && len(x) <= 2 && slices.Contains(scopeKinds, auth.ScopeKind(kind)) {
			p.ValueKey, p.Value = "ui.admin.kind."+kind, ref
		}
	}
	return p
}

func detailText(v any) string {
	switch v := v.(type) {
	case nil:
		return "—"
	case string:
		return v
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = detailText(x)
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + detailText(v[k])
		}
		return strings.Join(parts, ", ")
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	return "?" // json.Decoder with UseNumber gives no other type
}
