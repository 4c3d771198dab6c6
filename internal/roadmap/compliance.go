package roadmap

import (
	"context"

	"qorgan/internal/auth"
	"qorgan/internal/registry"
)

// Compliance is the older, device-centred view of a school's gap list
// (GET /api/v1/schools/{id}/compliance), answered from the rule sets: the
// kinds of equipment required, how many of each the school has, the kinds
// with none working, and whether a licensed guard is required and under
// contract; Items is the full gap list with reasons and rules.
type Compliance struct {
	SchoolID      int64                       `json:"school_id"`
	UTO           bool                        `json:"uto"`
	RuleSet       string                      `json:"rule_set"`
	Required      []registry.DeviceKind       `json:"required"`
	Present       map[registry.DeviceKind]int `json:"present"`
	Missing       []registry.DeviceKind       `json:"missing"`
	Compliant     bool                        `json:"compliant"`
	GuardRequired bool                        `json:"guard_required"`
	GuardOK       bool                        `json:"guard_ok"`
	Items         []Item                      `json:"items"`
}

// Compliance reports a school in scope against the rules in force today.
func (r *Roadmap) Compliance(ctx context.Context, p auth.Principal, schoolID int64) (Compliance, error) {
	g, err := r.Gaps(ctx, p, schoolID)
	if err != nil {
		return Compliance{}, err
	}
	c := Compliance{SchoolID: g.SchoolID, UTO: g.Required.UTO, RuleSet: g.Required.RuleSet, Required: []registry.DeviceKind{}, Present: map[registry.DeviceKind]int{},
		Missing: []registry.DeviceKind{}, Compliant: g.Compliant, Items: g.Items}
	for k, n := range g.Devices {
		c.Present[k] = n.Registered
	}
	for _, it := range g.Items {
		if k, ok := kindOf[it.Key]; ok {
			c.Required = append(c.Required, k)
			if !it.Met {
				c.Missing = append(c.Missing, k)
			}
		}
		if it.Key == Guard {
			c.GuardRequired, c.GuardOK = true, it.Met
		}
	}
	return c, nil
}

// ListRuleSets lists the rule sets held, oldest first, to anyone who reads
// the registry: the law is public.
func (r *Roadmap) ListRuleSets(ctx context.Context, p auth.Principal) ([]RuleSet, error) {
	if err := p.Require(auth.ReadRegistry); err != nil {
		return nil, err
	}
	return r.RuleSets(), nil
}
