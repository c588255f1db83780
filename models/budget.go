package models

import "slices"

// BudgetedStatuses are the statuses whose actions spend the month's
// incentive budget: on their way out or gone out. A cancelled, suppressed
// or dead action gives its cost back.
var BudgetedStatuses = []ActionStatus{ActionScheduled, ActionSending, ActionSent, ActionRetrying}

// Budgeted reports a status in BudgetedStatuses.
func (s ActionStatus) Budgeted() bool { return slices.Contains(BudgetedStatuses, s) }
