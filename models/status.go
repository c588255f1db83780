package models

import (
	"slices"
	"time"
)

// The status sets below are the one definition of each question about an
// action's state: the store's SQL selects by them, and what answers the same
// question in memory (a batch's journal, the backtest) asks the predicates,
// so the two cannot drift apart.
var (
	// PendingStatuses are planned and not yet sent, nor on their way.
	PendingStatuses = []ActionStatus{ActionScheduled, ActionRetrying}
	// CancellableStatuses are those an action can be cancelled from.
	CancellableStatuses = []ActionStatus{ActionScheduled, ActionRetrying, ActionDead}
	// CappedStatuses are those the frequency cap counts: planned, going
	// out or gone out (not cancelled, suppressed or dead).
	CappedStatuses = []ActionStatus{ActionScheduled, ActionSending, ActionSent, ActionRetrying}
	// ReplannableStatuses are those a new evaluation may still change.
	ReplannableStatuses = []ActionStatus{ActionScheduled, ActionSuppressed}
)

// Pending reports a status in PendingStatuses.
func (s ActionStatus) Pending() bool { return slices.Contains(PendingStatuses, s) }

// Cancellable reports a status in CancellableStatuses.
func (s ActionStatus) Cancellable() bool { return slices.Contains(CancellableStatuses, s) }

// Replannable reports a status in ReplannableStatuses.
func (s ActionStatus) Replannable() bool { return slices.Contains(ReplannableStatuses, s) }

// CountsAgainstCap reports whether the frequency cap counts a, for the
// window [from, to] of due times.
func (a *Action) CountsAgainstCap(from, to time.Time) bool {
	return a.Marketing && slices.Contains(CappedStatuses, a.Status) && !a.DueAt.Before(from) && !a.DueAt.After(to)
}

// Strings returns the statuses as the database stores them.
func Strings(ss []ActionStatus) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}
