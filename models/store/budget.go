package store

import (
	"context"
	"time"

	"gorm.io/gorm/clause"

	"github.com/treue/treue/models"
)

// budgetLock is the row planning locks before it reads a shop's spend.
type budgetLock struct {
	ShopID   int64 `gorm:"primaryKey;autoIncrement:false"`
	LockedAt time.Time
}

// TableName implements gorm's Tabler.
func (budgetLock) TableName() string { return "budget_locks" }

var budgeted = models.Strings(models.BudgetedStatuses)

// LockBudget locks the shop's budget until the transaction ends, so that
// a concurrent transaction planning costed actions for the shop waits for
// this one's to be committed before it reads the spend. The upsert takes
// the row's exclusive lock at once, whether it exists or not (a SELECT …
// FOR UPDATE followed by an INSERT would let two first planners deadlock).
// SQLite serialises writing transactions: nothing to lock there.
//
// Lock order: the processor takes it before any customer row, and a
// transaction that took a customer first takes no other customer after it.
func (s *Store) LockBudget(ctx context.Context, shopID int64) error {
	if s.driver != "mysql" {
		return nil
	}
	row := budgetLock{ShopID: shopID, LockedAt: s.Now().UTC()}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "shop_id"}}, DoUpdates: clause.AssignmentColumns([]string{"locked_at"}),
	}).Create(&row).Error
	return translate("lock budget", err)
}

// BudgetSpent locks the shop's budget (LockBudget) and sums the cost of
// its actions due in [from, to) that spend it: scheduled, on their way or
// sent. Under READ COMMITTED (InTx) the sum sees every action committed by
// a transaction that held the lock before.
func (s *Store) BudgetSpent(ctx context.Context, shopID int64, from, to time.Time) (int64, error) {
	if err := s.LockBudget(ctx, shopID); err != nil {
		return 0, err
	}
	var sum *int64
	err := s.db.WithContext(ctx).Model(&ActionRow{}).Select("SUM(cost_cents)").
		Where("shop_id = ? AND due_at >= ? AND due_at < ? AND cost_cents > 0 AND status IN ?", shopID, from.UTC(), to.UTC(), budgeted).
		Scan(&sum).Error
	if err != nil {
		return 0, translate("budget spent", err)
	}
	if sum == nil {
		return 0, nil
	}
	return *sum, nil
}

// BudgetAction is a costed action as the budget report reads it.
type BudgetAction struct {
	ID        int64
	RuleID    string
	Status    string
	Reason    *string
	DueAt     time.Time
	CostCents int64
}

// BudgetActions lists the shop's actions with a cost due in [from, to),
// whatever became of them.
func (s *Store) BudgetActions(ctx context.Context, shopID int64, from, to time.Time) ([]BudgetAction, error) {
	var out []BudgetAction
	err := s.db.WithContext(ctx).Model(&ActionRow{}).Select("id, rule_id, status, reason, due_at, cost_cents").
		Where("shop_id = ? AND due_at >= ? AND due_at < ? AND cost_cents > 0", shopID, from.UTC(), to.UTC()).
		Order("due_at, id").Scan(&out).Error
	return out, translate("budget actions", err)
}
