package rules

import (
	"reflect"
	"sort"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/treue/treue/egress"
	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin/standard"
)

// Compiling one rule: triggers, guardrail overrides, schedule, limit,
// action and cancel conditions.

// Named cancel conditions.
var namedCancels = map[string]string{
	"same_sku_ordered": "the customer ordered the action's SKU again (another order)",
	"any_order":        "the customer placed another order",
	"order_returned":   "the action's order (or its SKU) was returned or refunded",
	"order_cancelled":  "the action's order was cancelled",
	"complaint":        "the customer opened a complaint",
	// Carts (cart.go).
	cartOrdered: "an order holds one of the items of the action's cart",
}

var forEachSources = []string{"order.items", "event.items"}

func (c *compiler) rule(rs *ruleSpec, index int) *Rule {
	r := &Rule{ID: rs.ID.Value, Description: rs.Description, Line: rs.Line, Index: index,
		Disabled: rs.Disabled, Priority: rs.Priority}
	switch {
	case rs.ID.Value == "":
		c.errorf(rs.Pos, "rule needs an id")
	case !ruleIDRE.MatchString(rs.ID.Value):
		c.errorf(rs.ID.Pos, "rule id %q must be 1-64 characters of a-z, 0-9, '_', '-', '.', starting with a letter or digit", rs.ID.Value)
	}

	// Triggers.
	if len(rs.On) == 0 {
		c.errorf(rs.Pos, "rule %q needs on: the event type(s) that trigger it, or daily_scan", r.ID)
	}
	for _, on := range rs.On {
		switch {
		case on.Value == DailyScan:
			r.Scan = true
		case on.Value == string(models.ProductStockChanged):
			c.errorf(on.Pos, "%s is a shop event and joins no customer's journey: use stock.available, the notice a restock records per subscriber", on.Value)
		case models.EventType(on.Value).Valid():
			r.Triggers = append(r.Triggers, models.EventType(on.Value))
		default:
			c.errorf(on.Pos, "unknown event type %q%s", on.Value, closest(on.Value, eventTypeNames()))
		}
	}
	if r.Scan && len(r.Triggers) > 0 {
		c.errorf(rs.On[0].Pos, "daily_scan cannot be combined with event types in one rule")
	}

	// Kind and guardrails.
	switch Kind(rs.Kind.Value) {
	case KindMarketing, KindService:
		r.Kind = Kind(rs.Kind.Value)
	case "":
		c.errorf(rs.Pos, "rule %q needs kind: marketing (consent, frequency cap and holdout apply) or service", r.ID)
	default:
		c.errorf(rs.Kind.Pos, "unknown kind %q: use marketing or service", rs.Kind.Value)
	}
	d := c.set.Defaults
	if r.Kind == KindMarketing {
		r.RequireConsent, r.FrequencyCap, r.Holdout = d.RequireConsent, d.FrequencyCap, true
	}
	if rs.RequireConsent != nil {
		r.RequireConsent = *rs.RequireConsent
	}
	r.FrequencyCap = c.cap(rs.FrequencyCap, r.FrequencyCap)
	r.QuietHours = c.quiet(rs.QuietHours, d.QuietHours)
	if rs.Holdout != nil {
		r.Holdout = *rs.Holdout
	}

	// Fan-out.
	if v := rs.ForEach.Value; v != "" {
		if !contains(forEachSources, v) {
			c.errorf(rs.ForEach.Pos, "for_each must be one of %s, got %q", strings.Join(forEachSources, ", "), v)
		}
		r.ForEach = v
	}

	scope := exprScope{item: r.ForEach != ""}
	r.cond = c.expr(&rs.If, "if", expr.AsBool(), scope)
	c.schedule(rs, r, scope)
	c.limit(rs, r, scope)
	c.action(rs, r, scope)
	c.cancels(rs, r, scope)
	c.whileUnhappy(rs, r)
	return r
}

func (c *compiler) schedule(rs *ruleSpec, r *Rule, scope exprScope) {
	r.Schedule.Kind = Immediately
	w := rs.When
	if w == nil {
		return
	}
	var kinds []ScheduleKind
	if w.Immediately {
		kinds = append(kinds, Immediately)
	}
	if w.After.Set || w.After.Line > 0 {
		kinds = append(kinds, After)
		if w.After.Set && w.After.D == 0 {
			c.errorf(w.After.Pos, "after must be longer than zero (use when: immediately)")
		}
		r.Schedule.After = w.After.D
	}
	if w.AfterDays.set() {
		kinds = append(kinds, AfterDays)
		r.afterDays = c.expr(&w.AfterDays, "after_days", expr.AsFloat64(), scope)
	}
	if w.Lead.Set || w.Lead.Line > 0 {
		if !w.AfterDays.set() {
			c.errorf(w.Lead.Pos, "lead only goes with after_days")
		}
		r.Schedule.Lead = w.Lead.D
	}
	if w.AtBirthday.Set || w.AtBirthday.Line > 0 {
		kinds = append(kinds, AtBirthday)
		r.Schedule.At = int(w.AtBirthday.C)
		if !r.Scan {
			c.errorf(w.AtBirthday.Pos, "at_birthday needs on: daily_scan")
		}
	}
	if w.InactiveFor.Set || w.InactiveFor.Line > 0 {
		kinds = append(kinds, Inactivity)
		if w.InactiveFor.Set && w.InactiveFor.D == 0 {
			c.errorf(w.InactiveFor.Pos, "inactive_for must be longer than zero")
		}
		r.Schedule.InactiveFor = w.InactiveFor.D
		if !r.Scan {
			c.errorf(w.InactiveFor.Pos, "inactive_for needs on: daily_scan")
		}
	}
	switch len(kinds) {
	case 0:
		c.errorf(w.Pos, "when needs one of immediately, after, after_days, at_birthday, inactive_for")
	case 1:
		r.Schedule.Kind = kinds[0]
	default:
		c.errorf(w.Pos, "when takes one of immediately, after, after_days, at_birthday, inactive_for; got %d", len(kinds))
	}
}

func (c *compiler) limit(rs *ruleSpec, r *Rule, scope exprScope) {
	r.Limit.OncePer = PerEvent
	if r.Scan {
		r.Limit.OncePer = PerCustomer
	}
	l := rs.Limit
	if l == nil {
		return
	}
	if v := l.OncePer.Value; v != "" {
		switch s := Scope(v); s {
		case PerCustomer, PerOrder, PerItem, PerSKU, PerEvent,
			PerCart:
			r.Limit.OncePer = s
		default:
			c.errorf(l.OncePer.Pos, "once_per must be one of customer, order, item, sku, event, cart; got %q", v)
		}
		if r.Limit.OncePer == PerCart {
			c.cartScope(l, r)
		}
		switch {
		case r.Scan && (r.Limit.OncePer == PerOrder || r.Limit.OncePer == PerItem || r.Limit.OncePer == PerEvent):
			c.errorf(l.OncePer.Pos, "once_per %s needs an event; daily_scan rules count per customer or sku", v)
		case r.Limit.OncePer == PerItem && r.ForEach == "":
			c.errorf(l.OncePer.Pos, "once_per item needs for_each")
		case r.Limit.OncePer == PerSKU && r.ForEach == "" && (rs.Action == nil || !rs.Action.SKU.set()):
			c.errorf(l.OncePer.Pos, "once_per sku needs for_each or action.sku")
		}
	}
	if l.Period.Set || l.Period.Line > 0 {
		if l.Period.Set && l.Period.D == 0 {
			c.errorf(l.Period.Pos, "period must be longer than zero")
		}
		r.Limit.Period = l.Period.D
	}
	if l.By.set() {
		r.limitBy = c.expr(&l.By, "by", expr.AsAny(), scope)
		r.Limit.By = true
	}
}

// requiredParams names parameters an action type cannot do without.
var requiredParams = map[models.ActionType][][]string{
	models.ActionPointsAward:  {{"points"}},
	models.ActionPointsRevoke: {{"points"}},
	models.ActionTagCustomer:  {{"tag"}},
	models.ActionPromoCode:    {{"percent", "amount"}},
}

func (c *compiler) action(rs *ruleSpec, r *Rule, scope exprScope) {
	a := rs.Action
	if a == nil {
		c.errorf(rs.Pos, "rule %q needs an action", r.ID)
		return
	}
	r.Action = models.ActionType(a.Type.Value)
	switch {
	case a.Type.Value == "":
		c.errorf(a.Pos, "action needs a type: %s", strings.Join(actionTypeNames(), ", "))
	case !r.Action.Valid():
		c.errorf(a.Type.Pos, "unknown action type %q%s", a.Type.Value, closest(a.Type.Value, actionTypeNames()))
	}
	if a.SKU.set() {
		r.sku = c.expr(&a.SKU, "sku", expr.AsKind(reflect.String), scope)
	}
	switch r.Action {
	case models.ActionReorderReminder:
		if r.ForEach == "" && !a.SKU.set() {
			c.errorf(a.Type.Pos, "reorder_reminder needs for_each or action.sku: which product to remind of")
		}
	case models.ActionSampleGift:
		if !a.SKU.set() {
			c.errorf(a.Type.Pos, "sample_gift needs action.sku: the sample to add to the next parcel")
		}
	}
	r.params = a.Params
	// The notify connector signs with params.secret: one it would refuse
	// is better reported here than as dead actions. Any other value than a
	// string would be ignored there, leaving the shop's secret to sign.
	if v, ok := a.Params["secret"]; ok {
		if s, isString := v.(string); !isString {
			c.errorf(a.Pos, "params.secret must be a string; %s", standard.SecretFormat)
		} else if _, err := standard.DecodeSecret(s); err != nil {
			c.errorf(a.Pos, "params.secret %v", err)
		}
	}
	// params.url is called by the notify connector. Whether a private
	// address is allowed is the dispatch config's call, made when it is
	// called; what no config allows (a metadata endpoint, credentials in the
	// URL, an IPv4 address in a form such as 127.1) is reported here.
	if v, ok := a.Params["url"]; ok {
		if u, isString := v.(string); !isString {
			c.errorf(a.Pos, "params.url must be a string: an http(s) URL")
		} else if err := egress.CheckURL(u, egress.Options{AllowPrivate: true}); err != nil {
			c.errorf(a.Pos, "params.url: %s", strings.ReplaceAll(err.Error(), "egress: ", ""))
		}
	}
	names := make([]string, 0, len(a.Compute))
	for name := range a.Compute {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, dup := a.Params[name]; dup {
			src := a.Compute[name]
			c.errorf(src.Pos, "parameter %q is both in params and compute", name)
		}
		src := a.Compute[name]
		r.compute = append(r.compute, computed{name: name, prog: c.expr(&src, "compute."+name, expr.AsAny(), scope)})
	}
	for _, alts := range requiredParams[r.Action] {
		found := false
		for _, p := range alts {
			_, inParams := a.Params[p]
			_, inCompute := a.Compute[p]
			found = found || inParams || inCompute
		}
		if !found {
			c.errorf(a.Pos, "%s needs parameter %s in params or compute", r.Action, strings.Join(alts, " or "))
		}
	}
}

type cancelCond struct {
	name     string
	reason   string
	named    string
	triggers []models.EventType
	cond     *vm.Program
}

func (c *compiler) cancels(rs *ruleSpec, r *Rule, scope exprScope) {
	scope.pending, scope.item = true, false
	for i := range rs.Cancel {
		cs := &rs.Cancel[i]
		if cs.Named.Value != "" {
			if _, ok := namedCancels[cs.Named.Value]; !ok {
				names := make([]string, 0, len(namedCancels))
				for n := range namedCancels {
					names = append(names, n)
				}
				sort.Strings(names)
				c.errorf(cs.Named.Pos, "unknown cancel condition %q%s", cs.Named.Value, closest(cs.Named.Value, names))
				continue
			}
			r.cancels = append(r.cancels, cancelCond{name: cs.Named.Value, named: cs.Named.Value, reason: cs.Named.Value})
			continue
		}
		cc := cancelCond{name: "custom", reason: cs.Reason}
		if cc.reason == "" {
			cc.reason = "cancel condition (line " + itoa(cs.Line) + ")"
		}
		if len(cs.On) == 0 {
			c.errorf(cs.Pos, "cancel condition needs on: the event type(s) that cancel")
		}
		for _, on := range cs.On {
			if !models.EventType(on.Value).Valid() {
				c.errorf(on.Pos, "unknown event type %q%s", on.Value, closest(on.Value, eventTypeNames()))
				continue
			}
			cc.triggers = append(cc.triggers, models.EventType(on.Value))
		}
		cc.cond = c.expr(&cs.If, "cancel if", expr.AsBool(), scope)
		r.cancels = append(r.cancels, cc)
	}
}
