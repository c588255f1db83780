package process

import (
	"context"
	"time"

	"github.com/treue/treue/models"
)

// BudgetSpent is the store's spend (which locks the budget) with what the
// batch changed and has not stored yet: its new actions that spend, less
// the stored ones it cancelled. A memory journal knows its own customers'
// spend only; the backtest applies the shop's budget across them after the
// replay (see budgetTally).
func (j *batchJournal) BudgetSpent(ctx context.Context, shopID int64, from, to time.Time) (int64, error) {
	var spent int64
	if j.tx != nil {
		var err error
		if spent, err = j.tx.BudgetSpent(ctx, shopID, from, to); err != nil {
			return 0, err
		}
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
