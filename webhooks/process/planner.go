package process

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/rules"
)

// RulesPlanner evaluates the merchant's active rules for each new journey
// event and stores the planned actions and cancellations in the same
// transaction. A missing rule set plans nothing.
//
// Each event is evaluated against the journey as it stood when the event
// happened (source time), not as it stands when the webhook arrives, and an
// event that arrives late makes the events after it be evaluated again. So
// the actions depend on the journey, not on the order its webhooks arrived in.
type RulesPlanner struct {
	Rules   *rules.Holder
	Log     *slog.Logger
	Now     func() time.Time
	Options journey.Options

	// zones keeps each time zone once: time.LoadLocation reads and parses
	// a file on every call, and every evaluation needs the shop's zone.
	zones sync.Map // name → *time.Location
}

var _ Planner = (*RulesPlanner)(nil)

func (p *RulesPlanner) location(shop *models.Shop) *time.Location {
	if loc, ok := p.zones.Load(shop.Timezone); ok {
		return loc.(*time.Location)
	}
	loc := shop.Location()
	p.zones.Store(shop.Timezone, loc)
	return loc
}

// Plan implements Planner.
func (p *RulesPlanner) Plan(ctx context.Context, tx PlanStore, in PlanInput) error {
	set := p.Rules.Get()
	if set == nil {
		return nil
	}
	idx := slices.IndexFunc(in.Records, func(r store.EventRecord) bool { return r.ID == in.Record.ID })
	if idx < 0 {
		return fmt.Errorf("plan: event %d is not in the journey", in.Record.ID)
	}
	at := in.History[idx].OccurredAt()
	test := journey.TestOrders(in.History)
	for i := idx; i < len(in.History); i++ {
		if i > idx && !in.History[i].OccurredAt().After(at) {
			continue
		}
		// A test order is no sale: its events plan nothing, as its order does
		// not count in the profile either. Its later steps (a fulfillment)
		// do not repeat the flag, so they are known by the order; and when
		// the flag arrives after such a step, what the step planned is
		// withdrawn as it is evaluated again.
		if o := in.History[i].Data.Order; o != nil && test[o.ID] {
			if i > idx {
				if err := p.retract(ctx, tx, in.Shop.Key, in.Profile.CustomerID, in.Records[i].ID, rules.Result{}); err != nil {
					return err
				}
			}
			continue
		}
		// History read from the shop's API plans only what is still ahead.
		historic := !in.PlanFrom.IsZero() && in.History[i].OccurredAt().Before(in.PlanFrom)
		if err := p.evaluate(ctx, tx, set, in, i, i > idx, historic, in.HistoricPoints); err != nil {
			return err
		}
	}
	return nil
}

// historicPoints is the reason of a points action booked for a step of the
// shop's history: the balance counts it, nothing is sent for it.
const historicPoints = "history import: points booked, nothing sent"

// evaluate runs the rules for the i-th event of the journey, against the
// profile and order as they were at that event. rerun marks a later event
// evaluated again after an earlier one arrived late: what it planned before
// and would not plan now is cancelled. For a historic step (read from the
// shop's API, older than the window) the result is evaluated and its
// cancellations apply as for any step, but an action that would be due
// before now is not planned: a delivery of 2019 sends no review request
// today, while the reorder reminder of last month's order, due next week,
// is planned as it would have been. With points, a points action due in the past is
// booked as a suppressed one instead, so the balance is right.
func (p *RulesPlanner) evaluate(ctx context.Context, tx PlanStore, set *rules.Set, in PlanInput, i int, rerun, historic, points bool) error {
	e, eventID := in.History[i], in.Records[i].ID
	history := in.History[:i+1]
	prof := journey.Build(history, e.OccurredAt(), p.Options)
	cur := in.Profile
	prof.CustomerID, prof.PublicID, prof.OptedOutCategories = cur.CustomerID, cur.PublicID, cur.OptedOutCategories
	prof.PointsBalance, prof.Tier, prof.ReferralCode, prof.Holdout = cur.PointsBalance, cur.Tier, cur.ReferralCode, cur.Holdout
	balance, err := tx.PointsBalanceAsOf(ctx, cur.CustomerID, e.OccurredAt())
	if err != nil {
		return err
	}
	happened := make(map[int64]time.Time, len(in.Records))
	for k := range in.Records {
		happened[in.Records[k].ID] = in.History[k].OccurredAt()
	}
	input, err := p.input(ctx, tx, set, in.Shop, &prof, balance, &asOf{at: e.OccurredAt(), event: eventID, happened: happened})
	if err != nil {
		return err
	}
	input.Event, input.EventID = e, eventID
	if o := e.Data.Order; o != nil && o.ID != "" {
		var orderEvents []models.Event
		for _, h := range history {
			if h.Data.Order != nil && h.Data.Order.ID == o.ID {
				orderEvents = append(orderEvents, h)
			}
		}
		st := rules.OrderFromEvents(orderEvents)
		input.Order = &st
	}
	input.Cart = cartState(in.Records[:i+1], history)
	res := set.Evaluate(input)
	if rerun {
		if err := p.retract(ctx, tx, in.Shop.Key, cur.CustomerID, eventID, res); err != nil {
			return err
		}
	}
	if historic {
		now := p.Now()
		kept := res.Planned[:0]
		for _, pl := range res.Planned {
			switch {
			case !pl.DueAt.Before(now):
				kept = append(kept, pl)
			case points && pl.Status == models.ActionScheduled &&
				(pl.Type == models.ActionPointsAward || pl.Type == models.ActionPointsRevoke):
				pl.Status, pl.Reason = models.ActionSuppressed, historicPoints
				kept = append(kept, pl)
			}
		}
		res.Planned = kept
	}
	return p.apply(ctx, tx, set, in.Shop, in.Profile.CustomerID, res, rerun, historic)
}

// retracted is the reason of an action cancelled because a late step made
// its event no longer plan it.
const retracted = "no longer planned: an earlier step of the journey arrived late"

// retract cancels the pending actions an event planned that its evaluation
// with the complete journey no longer plans.
func (p *RulesPlanner) retract(ctx context.Context, tx PlanStore, shop string, customerID, eventID int64, res rules.Result) error {
	keep := map[string]bool{}
	for _, pl := range res.Planned {
		keep[pl.Key] = true
	}
	pending, err := tx.PendingActions(ctx, customerID)
	if err != nil {
		return err
	}
	for _, a := range pending {
		if a.TriggerEventID == eventID && !keep[a.IdempotencyKey] {
			ok, err := tx.CancelAction(ctx, a.ID, retracted)
			if err != nil {
				return err
			}
			if ok {
				noteCancelled(ctx, shop, a.RuleID, retracted)
			}
		}
	}
	return nil
}

// Scan runs the daily-scan rules (win-back, birthdays) for one customer.
func (p *RulesPlanner) Scan(ctx context.Context, tx PlanStore, shop *models.Shop, prof *models.Profile) error {
	set := p.Rules.Get()
	if set == nil {
		return nil
	}
	balance, err := tx.PointsBalance(ctx, prof.CustomerID)
	if err != nil {
		return err
	}
	input, err := p.input(ctx, tx, set, shop, prof, balance, nil)
	if err != nil {
		return err
	}
	return p.apply(ctx, tx, set, shop, prof.CustomerID, set.Scan(input), false, false)
}

// asOf is a moment of the journey: an event and when it happened.
type asOf struct {
	at    time.Time
	event int64
	// happened maps the journey's event ids to when they happened.
	happened map[int64]time.Time
}

// planned reports whether action a existed at that moment: planned for an
// event that happened by then, or by the periodic scan. An action planned
// for a later event (which arrived first) is not there for the rules to
// cancel or count.
func (w *asOf) planned(a *models.Action) bool {
	at, ok := w.happened[a.TriggerEventID]
	return !ok || !at.After(w.at)
}

// input gathers what an evaluation needs; when, when set, limits the
// frequency budget to actions planned for events up to that moment.
func (p *RulesPlanner) input(ctx context.Context, tx PlanStore, set *rules.Set, shop *models.Shop, prof *models.Profile, balance int64, when *asOf) (rules.Input, error) {
	now := p.Now()
	profile := *prof
	profile.PointsBalance, profile.Tier = balance, set.Tier(balance)
	pending, err := tx.PendingActions(ctx, prof.CustomerID)
	if err != nil {
		return rules.Input{}, err
	}
	in := rules.Input{Shop: rules.ShopInfo{Location: p.location(shop), Currency: shop.Currency}, Profile: profile, Now: now}
	for _, a := range pending {
		if when != nil && !when.planned(&a) {
			continue
		}
		in.Pending = append(in.Pending, rules.Pending{ID: a.ID, RuleID: a.RuleID, Type: a.Type, DueAt: a.DueAt,
			SKU: a.SKU, OrderRef: a.OrderRef, Category: a.Category, Marketing: a.Marketing,
			TriggerEventID: a.TriggerEventID})
	}
	if w := set.MaxCapWindow(); w > 0 {
		if when != nil {
			in.Recent, err = tx.RecentMarketingAsOf(ctx, prof.CustomerID, now.Add(-w), now.Add(w), when.at, when.event)
		} else {
			in.Recent, err = tx.RecentMarketing(ctx, prof.CustomerID, now.Add(-w), now.Add(w))
		}
		if err != nil {
			return rules.Input{}, err
		}
	}
	return in, nil
}

// apply stores a result. With replan, an action planned before whose
// guardrail verdict changed (consent arrived late, so what was suppressed may
// now go out, or the other way round) takes the new verdict.
func (p *RulesPlanner) apply(ctx context.Context, tx PlanStore, set *rules.Set, shop *models.Shop, customerID int64, res rules.Result, replan, historic bool) error {
	for _, e := range res.Errors {
		p.Log.WarnContext(ctx, "rule skipped", "shop", shop.Key, "rule_id", e.RuleID, "err", e.Message)
	}
	for _, c := range res.Cancels {
		ok, err := tx.CancelAction(ctx, c.ActionID, c.Reason)
		if err != nil {
			return err
		}
		if ok {
			noteCancelled(ctx, shop.Key, c.RuleID, c.Reason)
		}
	}
	for i := range res.Planned {
		pl := &res.Planned[i]
		a := pl.Action(shop.ID, customerID)
		if err := p.budget(ctx, tx, set, shop, &a); err != nil {
			return fmt.Errorf("plan %s: %w", pl.RuleID, err)
		}
		inserted, err := tx.InsertAction(ctx, &a)
		if err != nil {
			return fmt.Errorf("plan %s: %w", pl.RuleID, err)
		}
		if !inserted && replan {
			// The budget verdict above counted the stored action itself:
			// replan decides on the evaluation's own.
			want := pl.Action(shop.ID, customerID)
			if err := p.replan(ctx, tx, set, shop, customerID, &want); err != nil {
				return err
			}
			continue
		}
		if inserted {
			notePlanned(ctx, shop.Key, &a)
		}
		if !inserted || (a.Status != models.ActionScheduled && !(historic && a.Reason == historicPoints)) {
			continue
		}
		if delta, ok := pointsDelta(&a); ok {
			if err := tx.AddPoints(ctx, shop.ID, customerID, a.ID, delta, a.RuleID); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *RulesPlanner) replan(ctx context.Context, tx PlanStore, set *rules.Set, shop *models.Shop, customerID int64, want *models.Action) error {
	have, err := tx.ActionByKey(ctx, shop.ID, want.IdempotencyKey)
	if err != nil {
		return err
	}
	if !have.Status.Budgeted() {
		// Going out now, it must fit the budget that it did not spend so far.
		if err := p.budget(ctx, tx, set, shop, want); err != nil {
			return err
		}
	}
	if have.Status == want.Status {
		return nil
	}
	if ok, err := tx.Replan(ctx, have.ID, want.Status, want.Reason, want.DueAt); err != nil || !ok {
		return err
	}
	if delta, ok := pointsDelta(want); ok && want.Status == models.ActionScheduled {
		return tx.AddPoints(ctx, shop.ID, customerID, have.ID, delta, want.RuleID)
	}
	return nil
}

// pointsDelta reads the points an award or revocation books.
func pointsDelta(a *models.Action) (int64, bool) {
	if a.Type != models.ActionPointsAward && a.Type != models.ActionPointsRevoke {
		return 0, false
	}
	var n int64
	switch v := a.Params["points"].(type) {
	case int64:
		n = v
	case int:
		n = int64(v)
	case float64:
		n = int64(v)
	default:
		return 0, false
	}
	if n < 0 {
		n = -n
	}
	if a.Type == models.ActionPointsRevoke {
		n = -n
	}
	return n, true
}
