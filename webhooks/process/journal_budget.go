package process

import (
	"context"
	"time"

	"github.com/treue/treue/models"
)

// BudgetSpent is the store's spend (which locks the budget) with what the
// batch changed and has not stored yet: its new actions that spend, less
// the stored ones it cancelled. The store's part is read once per month and
// batch: with the lock held, no other transaction can add to it (the
// dispatcher and cancellations only take from it, which errs on the safe
// side). A memory journal knows its own customers' spend only; the
// backtest applies the shop's budget across them after the replay
// (backtest_budget.go).
func (j *batchJournal) BudgetSpent(ctx context.Context, shopID int64, from, to time.Time) (int64, error) {
	var spent int64
	if j.tx != nil {
		k := budgetKey{shopID, from.UnixMicro(), to.UnixMicro()}
		base, ok := j.budgetBase[k]
		if !ok {
			var err error
			if base, err = j.tx.BudgetSpent(ctx, shopID, from, to); err != nil {
				return 0, err
			}
			if j.budgetBase == nil {
				j.budgetBase = map[budgetKey]int64{}
			}
			j.budgetBase[k] = base
		}
		spent = base
	}
	in := func(a *models.Action) bool {
		return a != nil && a.ShopID == shopID && a.CostCents > 0 && !a.DueAt.Before(from) && a.DueAt.Before(to)
	}
	for _, id := range j.newActions {
		if a := j.action(id); in(a) && a.Status.Budgeted() {
			spent += a.CostCents
		}
	}
	for id := range j.cancels {
		if a := j.action(id); in(a) {
			spent -= a.CostCents
		}
	}
	return spent, nil
}

// budgetKey is a shop's month, for batchJournal.budgetBase.
type budgetKey struct{ shop, from, to int64 }

// budgetReplanned keeps the store's spend read for the batch current when a
// stored action is replanned there at once: it spends again, or no longer,
// or in another month.
func (j *batchJournal) budgetReplanned(a *models.Action, status models.ActionStatus, due time.Time) {
	if a == nil || a.CostCents <= 0 {
		return
	}
	for k := range j.budgetBase {
		if k.shop != a.ShopID {
			continue
		}
		in := func(t time.Time) bool { t = dbTime(t); return t.UnixMicro() >= k.from && t.UnixMicro() < k.to }
		if a.Status.Budgeted() && in(a.DueAt) {
			j.budgetBase[k] -= a.CostCents
		}
		if status.Budgeted() && in(due) {
			j.budgetBase[k] += a.CostCents
		}
	}
}
