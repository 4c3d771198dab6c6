package cap

// The info block's codes, as CAP 1.2 lists them.
const (
	Geo       Category = "Geo"
	Met       Category = "Met"
	Safety    Category = "Safety"
	Security  Category = "Security"
	Rescue    Category = "Rescue"
	Fire      Category = "Fire"
	Health    Category = "Health"
	Env       Category = "Env"
	Transport Category = "Transport"
	Infra     Category = "Infra"
	CBRNE     Category = "CBRNE"
	Other     Category = "Other"

	Immediate      Urgency = "Immediate"
	Expected       Urgency = "Expected"
	Future         Urgency = "Future"
	Past           Urgency = "Past"
	UnknownUrgency Urgency = "Unknown"

	Extreme         Severity = "Extreme"
	Severe          Severity = "Severe"
	Moderate        Severity = "Moderate"
	Minor           Severity = "Minor"
	UnknownSeverity Severity = "Unknown"

	Observed         Certainty = "Observed"
	Likely           Certainty = "Likely"
	Possible         Certainty = "Possible"
	Unlikely         Certainty = "Unlikely"
	UnknownCertainty Certainty = "Unknown"

	Shelter  ResponseType = "Shelter"
	Evacuate ResponseType = "Evacuate"
	Prepare  ResponseType = "Prepare"
	Execute  ResponseType = "Execute"
	Avoid    ResponseType = "Avoid"
	Monitor  ResponseType = "Monitor"
	Assess   ResponseType = "Assess"
	AllClear ResponseType = "AllClear"
	NoAction ResponseType = "None"
)

func set[T ~string](vs ...T) map[T]bool {
	m := map[T]bool{}
	for _, v := range vs {
		m[v] = true
	}
	return m
}

var (
	statuses      = set(Actual, Exercise, System, Test, Draft)
	msgTypes      = set(AlertMsg, Update, Cancel, Ack, Error)
	scopes        = set(Public, Restricted, Private)
	categories    = set(Geo, Met, Safety, Security, Rescue, Fire, Health, Env, Transport, Infra, CBRNE, Other)
	urgencies     = set(Immediate, Expected, Future, Past, UnknownUrgency)
	severities    = set(Extreme, Severe, Moderate, Minor, UnknownSeverity)
	certainties   = set(Observed, Likely, Possible, Unlikely, UnknownCertainty)
	responseTypes = set(Shelter, Evacuate, Prepare, Execute, Avoid, Monitor, Assess, AllClear, NoAction)
)
