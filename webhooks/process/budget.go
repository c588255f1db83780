package process

import (
	"context"
	"fmt"
	"slices"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/rules"
)

// budgetExhausted is the reason class of an action the month's incentive
// budget could not pay for.
const budgetExhausted = "budget_exhausted"

// budget holds a costed action back when the month of its due time has not
// the money left for it. The spend is read under the shop's budget lock
// (PlanStore.BudgetSpent), so that what concurrent processors plan adds
// up to the budget at most; actions that cost nothing are never held back.
func (p *RulesPlanner) budget(ctx context.Context, tx PlanStore, set *rules.Set, shop *models.Shop, a *models.Action) error {
	b := set.Budget
	if b == nil || a.CostCents <= 0 || a.Status != models.ActionScheduled {
		return nil
	}
	month, from, to := set.BudgetMonth(a.DueAt)
	spent, err := tx.BudgetSpent(ctx, shop.ID, from, to)
	if err != nil {
		return fmt.Errorf("budget of %s: %w", month, err)
	}
	if spent+a.CostCents <= b.MonthlyCents {
		return nil
	}
	a.Status = models.ActionSuppressed
	a.Reason = budgetExhausted + ": " + string(models.FormatCents(spent)) + " of " + string(b.Monthly()) + " " + b.Currency + " spent in " + month
	return nil
}

// budgetLocker is a Planner that can say whether events of these types may
// plan costed actions for a shop, and lock its budget before the
// transaction locks any customer (see lockBudgets).
type budgetLocker interface {
	LockBudget(ctx context.Context, tx *store.Store, shopID int64, types []models.EventType) error
}

// LockBudget locks the shop's budget when the rules have one and an event of
// types triggers a rule whose actions cost something (nil types: the daily scan).
func (p *RulesPlanner) LockBudget(ctx context.Context, tx *store.Store, shopID int64, types []models.EventType) error {
	set := p.Rules.Get()
	if set == nil || set.Budget == nil || !set.MayCost(types) {
		return nil
	}
	return tx.LockBudget(ctx, shopID)
}

// lockBudgets locks, shop by shop in id order, the budgets the batch may
// spend. Taken first, before any customer row, the lock cannot close a
// cycle with the customer locks: every transaction that needs both takes
// the budget first (BudgetSpent takes it again, a no-op then; only a
// rules reload between the two can make it come later).
func (p *Processor) lockBudgets(ctx context.Context, tx *store.Store, ws []work) error {
	l, ok := p.Planner.(budgetLocker)
	if !ok {
		return nil
	}
	types := map[int64][]models.EventType{}
	for i := range ws {
		w := &ws[i]
		if w.err != nil || w.shop == nil {
			continue
		}
		for _, e := range w.events {
			types[w.shop.ID] = append(types[w.shop.ID], e.Type)
		}
	}
	ids := make([]int64, 0, len(types))
	for id := range types {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if err := l.LockBudget(ctx, tx, id, types[id]); err != nil {
			return err
		}
	}
	return nil
}
