package rules

import (
	"fmt"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/treue/treue/models"
)

// ShopInfo is what the engine needs to know about the shop.
type ShopInfo struct {
	// Location is the shop's time zone, for quiet hours and birthdays; nil
	// uses the rules file's defaults.timezone. (Load it once per shop, e.g.
	// with models.Shop.Location: time.LoadLocation reads files.)
	Location *time.Location
	// Currency is the shop's currency; expressions see it as defaults.currency
	// when the rules file sets none.
	Currency string
}

// Input is everything a rule evaluation depends on. The integrator fills it
// from the store inside the transaction that records the event.
type Input struct {
	Shop ShopInfo
	// Event is the triggering journey event; the zero Event for Scan.
	Event models.Event
	// EventID is the stored event's id, recorded as the trigger of each action.
	EventID int64
	// Profile is the customer's profile AFTER applying the event. PublicID is
	// required: it scopes every idempotency key.
	Profile models.Profile
	// Order is the event's order as accumulated from all stored events of that
	// order (OrderFromEvents); nil uses what the event itself carries.
	Order *OrderState
	// Pending are the customer's actions not yet sent (status scheduled), for
	// cancel conditions.
	Pending []Pending
	// Recent are the due times of the customer's marketing actions that count
	// against the frequency cap: scheduled or sent, within the longest cap
	// window before and after now.
	Recent []time.Time
	// Now is the evaluation time (the processing time; the event time in a backtest).
	Now time.Time
	// Cart is what the journey knows about carts (CartFromEvents); nil
	// when it has none.
	Cart *CartState
}

// Pending is a scheduled, not yet sent action of the customer.
type Pending struct {
	ID        int64
	RuleID    string
	Type      models.ActionType
	DueAt     time.Time
	SKU       string
	OrderRef  string
	Category  string
	Marketing bool
	// TriggerEventID is the event that planned it (cart_ordered finds the
	// action's cart by it).
	TriggerEventID int64
}

// Planned is an action the rules decided on. Store it with a UNIQUE
// (shop, Key): the key encodes the rule's limit, so duplicate deliveries,
// replays and re-evaluations insert nothing new.
type Planned struct {
	RuleID       string              `json:"rule_id"`
	RulesVersion string              `json:"rules_version"`
	Type         models.ActionType   `json:"type"`
	Status       models.ActionStatus `json:"status"`
	// Reason says why a suppressed action is suppressed: "holdout",
	// "no_consent", "category_opt_out: <category>", "frequency_cap: <max> per <window>",
	// "unhappy_customer: <signal>".
	Reason    string    `json:"reason,omitempty"`
	DueAt     time.Time `json:"due_at"`
	Key       string    `json:"key"`
	Marketing bool      `json:"marketing"`
	Priority  int       `json:"priority"`
	OrderRef  string    `json:"order_ref,omitempty"`
	SKU       string    `json:"sku,omitempty"`
	Category  string    `json:"category,omitempty"`
	// Params are the rule's params and computed params.
	Params         map[string]any `json:"params,omitempty"`
	TriggerEventID int64          `json:"trigger_event_id,omitempty"`

	// CostCents is what the action commits the merchant to (Set.Cost). The
	// store keeps it; results as JSON (rules test) leave it out.
	CostCents int64 `json:"-"`
}

// Action converts p into a models.Action for the customer.
func (p *Planned) Action(shopID, customerID int64) models.Action {
	return models.Action{
		ShopID: shopID, CustomerID: customerID, Type: p.Type, Status: p.Status,
		RuleID: p.RuleID, RulesVersion: p.RulesVersion, TriggerEventID: p.TriggerEventID,
		DueAt: p.DueAt, IdempotencyKey: p.Key, Marketing: p.Marketing, OrderRef: p.OrderRef,
		SKU: p.SKU, Category: p.Category, Params: p.Params, Reason: p.Reason,
		CostCents: p.CostCents,
	}
}

// Cancel says a pending action is moot; move it from scheduled to cancelled.
type Cancel struct {
	ActionID int64  `json:"action_id"`
	RuleID   string `json:"rule_id"`
	Reason   string `json:"reason"`
}

// EvalError is a rule that could not be evaluated for this input (a runtime
// error in an expression, a missing order). The rule is skipped; log it.
type EvalError struct {
	RuleID  string `json:"rule_id"`
	Message string `json:"message"`
}

// Result is the outcome of an evaluation, in a stable order: planned actions
// by priority (highest first), then rule order, then line order; cancels by
// action id.
type Result struct {
	Planned []Planned   `json:"planned"`
	Cancels []Cancel    `json:"cancels,omitempty"`
	Errors  []EvalError `json:"errors,omitempty"`
}

// Evaluate plans the actions an event triggers and cancels pending actions it
// makes moot. It is pure and deterministic: the same input gives the same
// result, with the same keys.
func (s *Set) Evaluate(in Input) Result {
	if in.Event.Type == "" {
		return Result{Errors: []EvalError{{Message: "no event: use Scan for the daily scan"}}}
	}
	return s.run(&in, s.byEvent[in.Event.Type])
}

// Scan runs the daily-scan rules (win-back, birthdays) for one customer.
// Call it once a day per customer (or per customer who could match); keys
// make a second call on the same day harmless. in.Event is ignored.
func (s *Set) Scan(in Input) Result {
	in.Event, in.EventID, in.Order = models.Event{}, 0, nil
	return s.run(&in, s.scan)
}

type evaluation struct {
	s   *Set
	in  *Input
	env *Env
	now time.Time
	loc *time.Location
	vm  *vm.VM
	res Result
	// eventHash is the hashed eventKey, computed on first use.
	eventHash string
}

func (s *Set) run(in *Input, rules []*Rule) Result {
	if in.Profile.PublicID == "" {
		return Result{Errors: []EvalError{{Message: "profile has no public id: keys cannot be scoped"}}}
	}
	now := in.Now.UTC()
	ev := &evaluation{s: s, in: in, now: now, loc: in.Shop.Location}
	if ev.loc == nil {
		ev.loc = s.loc
	}
	if v, ok := s.vms.Get().(*vm.VM); ok {
		ev.vm = v
	} else {
		ev.vm = &vm.VM{}
	}
	defer s.vms.Put(ev.vm)
	ev.env = s.buildEnv(in, now)
	ev.res.Planned = make([]Planned, 0, len(rules)+len(ev.env.Order.Items)) // never nil: JSON []
	for _, r := range rules {
		ev.rule(r)
	}
	ev.guardrails()
	ev.costs()
	if in.Event.Type != "" {
		ev.cancels()
	}
	return ev.res
}

func (ev *evaluation) fail(r *Rule, format string, args ...any) {
	ev.res.Errors = append(ev.res.Errors, EvalError{RuleID: r.ID, Message: fmt.Sprintf(format, args...)})
}

func (ev *evaluation) rule(r *Rule) {
	if r.ForEach == "" {
		*ev.env.Item = ItemEnv{}
		ev.candidate(r, nil)
		return
	}
	items := ev.env.Order.Items
	if r.ForEach == "event.items" {
		items = ev.env.Event.Items
	}
	for i := range items {
		*ev.env.Item = items[i]
		ev.candidate(r, &items[i])
	}
	*ev.env.Item = ItemEnv{}
}

// candidate decides whether r acts (for one line, with for_each) and plans it.
func (ev *evaluation) candidate(r *Rule, item *ItemEnv) {
	if r.cond != nil {
		ok, err := ev.vm.Run(r.cond, ev.env)
		if err != nil {
			ev.fail(r, "if: %v", err)
			return
		}
		if ok != true {
			return
		}
	}
	due, anchor, ok := ev.due(r)
	if !ok {
		return
	}
	p := Planned{
		RuleID: r.ID, RulesVersion: ev.s.Version, Type: r.Action, Status: models.ActionScheduled,
		DueAt: due, Marketing: r.Marketing(), Priority: r.Priority,
		OrderRef: ev.env.Order.ID, TriggerEventID: ev.in.EventID,
	}
	if item != nil {
		p.SKU, p.Category = item.SKU, item.Category
	}
	if p.SKU == "" {
		p.SKU = ev.env.Event.Stock.SKU // a back-in-stock event's product (stock.go)
	}
	if r.sku != nil {
		v, err := ev.vm.Run(r.sku, ev.env)
		if err != nil {
			ev.fail(r, "sku: %v", err)
			return
		}
		p.SKU, _ = v.(string)
		if p.SKU == "" {
			ev.fail(r, "sku: the expression gave no SKU")
			return
		}
		p.Category = ""
		if item != nil {
			p.Category = item.Category
		}
	}
	if prod, ok := ev.s.Catalog[p.SKU]; ok && prod.Category != "" {
		p.Category = prod.Category
	}
	if len(r.params)+len(r.compute) > 0 {
		p.Params = make(map[string]any, len(r.params)+len(r.compute))
		for k, v := range r.params {
			p.Params[k] = v
		}
		for _, c := range r.compute {
			v, err := ev.vm.Run(c.prog, ev.env)
			if err != nil {
				ev.fail(r, "compute.%s: %v", c.name, err)
				return
			}
			p.Params[c.name] = paramValue(v)
		}
	}
	key, err := ev.key(r, item, &p, anchor)
	if err != nil {
		ev.fail(r, "%v", err)
		return
	}
	for i := range ev.res.Planned {
		if ev.res.Planned[i].Key == key {
			return // the same limit hit twice in one evaluation (e.g. once_per order with for_each)
		}
	}
	p.Key = key
	ev.res.Planned = append(ev.res.Planned, p)
}

// paramValue makes computed values JSON-friendly and stable.
func paramValue(v any) any {
	switch x := v.(type) {
	case time.Duration:
		return formatDuration(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	}
	return v
}
