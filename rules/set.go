package rules

import (
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/treue/treue/models"
)

// DailyScan is the trigger of rules that run on the daily scan (Set.Scan)
// rather than on an event: win-back after inactivity, birthdays.
const DailyScan = "daily_scan"

// Kind says which guardrails a rule is subject to by default.
type Kind string

// Rule kinds.
const (
	// KindMarketing actions need consent (unless the rule says otherwise), count
	// against the frequency cap and skip the holdout group.
	KindMarketing Kind = "marketing"
	// KindService actions (apologies, recovery, the points ledger) are owed to
	// the customer: no consent check, no cap, no holdout.
	KindService Kind = "service"
)

// Scope is what a rule's limit is counted per; it is encoded into the
// idempotency key of every planned action.
type Scope string

// Limit scopes.
const (
	PerCustomer Scope = "customer" // once per customer
	PerOrder    Scope = "order"    // once per customer and order
	PerItem     Scope = "item"     // once per order line (order + sku)
	PerSKU      Scope = "sku"      // once per customer and sku
	PerEvent    Scope = "event"    // once per business event (and line, with for_each)
)

// ScheduleKind says how a rule's due time is computed.
type ScheduleKind string

// Schedule kinds.
const (
	Immediately ScheduleKind = "immediately" // at evaluation time
	After       ScheduleKind = "after"       // a fixed duration after the event
	AfterDays   ScheduleKind = "after_days"  // a computed number of days after the event, minus a lead time
	AtBirthday  ScheduleKind = "at_birthday" // on the customer's birthday at a local time (daily scan)
	Inactivity  ScheduleKind = "inactivity"  // once the customer has not ordered for a while (daily scan)
)

// Set is a compiled rules file. It is immutable and safe for concurrent use.
type Set struct {
	// Version is a short content hash of the file; every planned action records it.
	Version  string
	File     string
	Defaults Defaults
	Points   Points
	Catalog  map[string]Product
	// Rules in file order, disabled ones included.
	Rules []*Rule

	// Budget is the monthly incentive budget; nil: none.
	Budget *Budget

	byEvent     map[models.EventType][]*Rule
	scan        []*Rule
	byID        map[string]*Rule
	loc         *time.Location
	defaultsEnv DefaultsEnv
	vms         sync.Pool

	// productComplements and categoryComplements are the complements of
	// products and categories, as the values complements() returns
	// (complements.go).
	productComplements, categoryComplements map[string][]any
	// usesOwnership: some expression calls complements or customer.bought*.
	usesOwnership bool
}

// Defaults are the shop-wide settings and guardrails of a rules file.
type Defaults struct {
	Timezone        string        `json:"timezone"`
	Currency        string        `json:"currency,omitempty"`
	HandlingPromise time.Duration `json:"handling_promise"`
	RequireConsent  bool          `json:"require_consent"`
	FrequencyCap    Cap           `json:"frequency_cap"`
	QuietHours      QuietHours    `json:"quiet_hours"`
	HoldoutPercent  float64       `json:"holdout_percent"`
	// Unhappy is the unhappy-customer gate of marketing.
	Unhappy UnhappyPolicy `json:"unhappy"`
}

// Cap is a frequency cap: at most Max marketing actions within any Window.
// Max 0 means no cap.
type Cap struct {
	Max    int           `json:"max"`
	Window time.Duration `json:"window"`
}

// QuietHours is a daily window, in the shop's time zone, in which nothing is
// sent; actions due inside it move to its end. Start == End means none.
// Both are minutes after midnight; the window may wrap midnight.
type QuietHours struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// Enabled reports whether q is a real window.
func (q QuietHours) Enabled() bool { return q.Start != q.End }

func (q QuietHours) String() string {
	if !q.Enabled() {
		return "none"
	}
	return clock(q.Start).String() + "-" + clock(q.End).String()
}

// Points configures the points program.
type Points struct {
	// PerCurrencyUnit is the points one unit of currency earns (1 = a point per euro).
	PerCurrencyUnit float64 `json:"per_currency_unit"`
	// Value is what one point costs the merchant, for the reports.
	Value models.Money `json:"value,omitempty"`
	// Tiers ascend by Min.
	Tiers []Tier `json:"tiers,omitempty"`
}

// Tier is a loyalty tier reached at a points balance of Min.
type Tier struct {
	Name string `json:"name"`
	Min  int64  `json:"min"`
}

// Rule is one compiled rule.
type Rule struct {
	ID          string
	Description string
	Line        int
	Index       int
	Disabled    bool
	Triggers    []models.EventType // empty for scan rules
	Scan        bool
	Kind        Kind
	Priority    int
	ForEach     string
	Action      models.ActionType
	Schedule    Schedule
	Limit       Limit
	// Guardrails after applying the rule's overrides to the defaults.
	RequireConsent bool
	FrequencyCap   Cap
	QuietHours     QuietHours
	Holdout        bool
	// GateUnhappy holds the rule's actions back while the customer is
	// unhappy (marketing by default; while_unhappy overrides).
	GateUnhappy bool

	params    map[string]any
	cond      *vm.Program
	afterDays *vm.Program
	limitBy   *vm.Program
	sku       *vm.Program
	compute   []computed
	cancels   []cancelCond
}

// Marketing reports whether the rule's actions are marketing.
func (r *Rule) Marketing() bool { return r.Kind == KindMarketing }

// Schedule is when a rule's action is due.
type Schedule struct {
	Kind ScheduleKind
	// After is the fixed delay (After).
	After time.Duration
	// Lead is subtracted from the computed delay (AfterDays).
	Lead time.Duration
	// At is the local time of day in minutes (AtBirthday).
	At int
	// InactiveFor is the time since the last order (Inactivity).
	InactiveFor time.Duration
}

func (s Schedule) String() string {
	switch s.Kind {
	case After:
		return "after " + formatDuration(s.After)
	case AfterDays:
		if s.Lead > 0 {
			return "after computed days minus " + formatDuration(s.Lead)
		}
		return "after computed days"
	case AtBirthday:
		return "at birthday " + clock(s.At).String()
	case Inactivity:
		return "after " + formatDuration(s.InactiveFor) + " without an order"
	}
	return string(Immediately)
}

// Limit is how often a rule may act.
type Limit struct {
	OncePer Scope
	// Period, when set, makes the limit apply per period bucket (e.g. once per
	// customer per 30d).
	Period time.Duration
	// By reports whether an extra key expression splits the limit further.
	By bool
}

type computed struct {
	name string
	prog *vm.Program
}

// RuleSummary describes a rule for listings (API, CLI).
type RuleSummary struct {
	ID          string   `json:"id"`
	Description string   `json:"description,omitempty"`
	Line        int      `json:"line"`
	Enabled     bool     `json:"enabled"`
	Triggers    []string `json:"triggers"`
	Kind        Kind     `json:"kind"`
	Action      string   `json:"action"`
	Priority    int      `json:"priority"`
	Schedule    string   `json:"schedule"`
	Limit       string   `json:"limit"`
	Cancel      []string `json:"cancel,omitempty"`
	Guardrails  []string `json:"guardrails,omitempty"`
}

// Summary lists the rules in file order.
func (s *Set) Summary() []RuleSummary {
	out := make([]RuleSummary, 0, len(s.Rules))
	for _, r := range s.Rules {
		rs := RuleSummary{
			ID: r.ID, Description: r.Description, Line: r.Line, Enabled: !r.Disabled,
			Kind: r.Kind, Action: string(r.Action), Priority: r.Priority,
			Schedule: r.Schedule.String(), Limit: "once per " + string(r.Limit.OncePer),
		}
		if r.Scan {
			rs.Triggers = []string{DailyScan}
		}
		for _, t := range r.Triggers {
			rs.Triggers = append(rs.Triggers, string(t))
		}
		if r.Limit.Period > 0 {
			rs.Limit += " per " + formatDuration(r.Limit.Period)
		}
		if r.Limit.By {
			rs.Limit += " and key"
		}
		for _, c := range r.cancels {
			rs.Cancel = append(rs.Cancel, c.name)
		}
		if r.RequireConsent {
			rs.Guardrails = append(rs.Guardrails, "consent")
		}
		if r.FrequencyCap.Max > 0 {
			rs.Guardrails = append(rs.Guardrails, "frequency_cap "+itoa(r.FrequencyCap.Max)+"/"+formatDuration(r.FrequencyCap.Window))
		}
		if r.QuietHours.Enabled() {
			rs.Guardrails = append(rs.Guardrails, "quiet_hours "+r.QuietHours.String())
		}
		if r.Holdout && s.Defaults.HoldoutPercent > 0 {
			rs.Guardrails = append(rs.Guardrails, "holdout")
		}
		if r.GateUnhappy && !s.Defaults.Unhappy.Off {
			rs.Guardrails = append(rs.Guardrails, "unhappy_customer")
		}
		out = append(out, rs)
	}
	return out
}

// Rule returns the rule with id, or nil.
func (s *Set) Rule(id string) *Rule { return s.byID[id] }

// Tier names the highest tier a points balance reaches ("" without tiers).
func (s *Set) Tier(points int64) string {
	name := ""
	for _, t := range s.Points.Tiers {
		if points >= t.Min {
			name = t.Name
		}
	}
	return name
}

// Location is the time zone of the rules file's defaults (UTC when unset).
func (s *Set) Location() *time.Location { return s.loc }

func (s *Set) index() {
	s.byEvent = map[models.EventType][]*Rule{}
	s.byID = map[string]*Rule{}
	for _, r := range s.Rules {
		s.byID[r.ID] = r
		if r.Disabled {
			continue
		}
		if r.Scan {
			s.scan = append(s.scan, r)
		}
		for _, t := range r.Triggers {
			s.byEvent[t] = append(s.byEvent[t], r)
		}
	}
	sortRules := func(rs []*Rule) {
		sort.SliceStable(rs, func(i, j int) bool {
			if rs[i].Priority != rs[j].Priority {
				return rs[i].Priority > rs[j].Priority
			}
			return rs[i].Index < rs[j].Index
		})
	}
	for _, rs := range s.byEvent {
		sortRules(rs)
	}
	sortRules(s.scan)
}

// MaxCapWindow is the longest frequency-cap window of any rule: how far back
// and ahead Input.Recent must reach.
func (s *Set) MaxCapWindow() time.Duration {
	w := s.Defaults.FrequencyCap.Window
	for _, r := range s.Rules {
		w = max(w, r.FrequencyCap.Window)
	}
	return w
}

// MarshalJSON writes durations and clock times the way the rules file does
// ("48h", "21:00"), not as nanoseconds and minutes.
func (d Defaults) MarshalJSON() ([]byte, error) {
	type capJSON struct {
		Max    int    `json:"max"`
		Window string `json:"window,omitempty"`
	}
	type quietJSON struct {
		Start string `json:"start"`
		End   string `json:"end"`
	}
	out := struct {
		Timezone        string     `json:"timezone"`
		Currency        string     `json:"currency,omitempty"`
		HandlingPromise string     `json:"handling_promise"`
		RequireConsent  bool       `json:"require_consent"`
		FrequencyCap    *capJSON   `json:"frequency_cap"`
		QuietHours      *quietJSON `json:"quiet_hours"`
		HoldoutPercent  float64    `json:"holdout_percent"`
		Unhappy         any        `json:"unhappy"`
	}{Timezone: d.Timezone, Currency: d.Currency, HandlingPromise: formatDuration(d.HandlingPromise),
		RequireConsent: d.RequireConsent, HoldoutPercent: d.HoldoutPercent, Unhappy: d.Unhappy.jsonValue()}
	if d.FrequencyCap.Max > 0 {
		out.FrequencyCap = &capJSON{Max: d.FrequencyCap.Max, Window: formatDuration(d.FrequencyCap.Window)}
	}
	if d.QuietHours.Start != d.QuietHours.End {
		out.QuietHours = &quietJSON{Start: clock(d.QuietHours.Start).String(), End: clock(d.QuietHours.End).String()}
	}
	return json.Marshal(out)
}
