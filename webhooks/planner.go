package webhooks

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/rules"
)

// RulesPlanner evaluates the merchant's active rules for each new journey
// event and stores the planned actions and cancellations in the same
// transaction. A missing rule set plans nothing.
type RulesPlanner struct {
	Rules *rules.Holder
	Log   *slog.Logger
	Now   func() time.Time
}

var _ Planner = (*RulesPlanner)(nil)

// Plan implements Planner.
func (p *RulesPlanner) Plan(ctx context.Context, tx *store.Store, in PlanInput) error {
	set := p.Rules.Get()
	if set == nil {
		return nil
	}
	input, err := p.input(ctx, tx, set, in.Shop, in.Profile)
	if err != nil {
		return err
	}
	input.Event, input.EventID = in.Event, in.Record.ID
	if o := in.Event.Data.Order; o != nil && o.ID != "" {
		var orderEvents []models.Event
		for _, e := range in.History {
			if e.Data.Order != nil && e.Data.Order.ID == o.ID {
				orderEvents = append(orderEvents, e)
			}
		}
		st := rules.OrderFromEvents(orderEvents)
		input.Order = &st
	}
	return p.apply(ctx, tx, in.Shop, in.Profile.CustomerID, set.Evaluate(input))
}

// Scan runs the daily-scan rules (win-back, birthdays) for one customer.
func (p *RulesPlanner) Scan(ctx context.Context, tx *store.Store, shop *models.Shop, prof *models.Profile) error {
	set := p.Rules.Get()
	if set == nil {
		return nil
	}
	input, err := p.input(ctx, tx, set, shop, prof)
	if err != nil {
		return err
	}
	return p.apply(ctx, tx, shop, prof.CustomerID, set.Scan(input))
}

func (p *RulesPlanner) input(ctx context.Context, tx *store.Store, set *rules.Set, shop *models.Shop, prof *models.Profile) (rules.Input, error) {
	now := p.Now()
	balance, err := tx.PointsBalance(ctx, prof.CustomerID)
	if err != nil {
		return rules.Input{}, err
	}
	profile := *prof
	profile.PointsBalance, profile.Tier = balance, set.Tier(balance)
	pending, err := tx.PendingActions(ctx, prof.CustomerID)
	if err != nil {
		return rules.Input{}, err
	}
	in := rules.Input{Shop: rules.ShopInfo{Location: shop.Location(), Currency: shop.Currency}, Profile: profile, Now: now}
	for _, a := range pending {
		in.Pending = append(in.Pending, rules.Pending{ID: a.ID, RuleID: a.RuleID, Type: a.Type, DueAt: a.DueAt,
			SKU: a.SKU, OrderRef: a.OrderRef, Category: a.Category, Marketing: a.Marketing})
	}
	if w := set.MaxCapWindow(); w > 0 {
		if in.Recent, err = tx.RecentMarketing(ctx, prof.CustomerID, now.Add(-w), now.Add(w)); err != nil {
			return rules.Input{}, err
		}
	}
	return in, nil
}

func (p *RulesPlanner) apply(ctx context.Context, tx *store.Store, shop *models.Shop, customerID int64, res rules.Result) error {
	for _, e := range res.Errors {
		p.Log.WarnContext(ctx, "rule skipped", "shop", shop.Key, "rule_id", e.RuleID, "err", e.Message)
	}
	for _, c := range res.Cancels {
		if _, err := tx.CancelAction(ctx, c.ActionID, c.Reason); err != nil {
			return err
		}
	}
	for i := range res.Planned {
		pl := &res.Planned[i]
		a := pl.Action(shop.ID, customerID)
		inserted, err := tx.InsertAction(ctx, &a)
		if err != nil {
			return fmt.Errorf("plan %s: %w", pl.RuleID, err)
		}
		if !inserted || a.Status != models.ActionScheduled {
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
