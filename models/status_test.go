package models

import (
	"testing"
	"time"
)

// The lifecycle's questions, status by status: what the store's SQL and the
// in-memory journals both answer from these sets.
func TestActionStatus_Sets(t *testing.T) {
	for _, c := range []struct {
		s                                 ActionStatus
		pending, cancellable, replannable bool
		capped                            bool
	}{
		{ActionScheduled, true, true, true, true},
		{ActionSending, false, false, false, true},
		{ActionSent, false, false, false, true},
		{ActionRetrying, true, true, false, true},
		{ActionDead, false, true, false, false},
		{ActionCancelled, false, false, false, false},
		{ActionSuppressed, false, false, true, false},
	} {
		if got := c.s.Pending(); got != c.pending {
			t.Errorf("%s.Pending() = %v", c.s, got)
		}
		if got := c.s.Cancellable(); got != c.cancellable {
			t.Errorf("%s.Cancellable() = %v", c.s, got)
		}
		if got := c.s.Replannable(); got != c.replannable {
			t.Errorf("%s.Replannable() = %v", c.s, got)
		}
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		a := Action{Status: c.s, Marketing: true, DueAt: now}
		if got := a.CountsAgainstCap(now.Add(-time.Hour), now); got != c.capped {
			t.Errorf("%s: CountsAgainstCap = %v", c.s, got)
		}
	}
}

func TestAction_CountsAgainstCap_Window(t *testing.T) {
	due := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a := Action{Status: ActionSent, Marketing: true, DueAt: due}
	for _, c := range []struct {
		from, to time.Time
		want     bool
	}{
		{due, due, true}, // both ends count
		{due.Add(time.Second), due.Add(time.Hour), false},
		{due.Add(-time.Hour), due.Add(-time.Second), false},
	} {
		if got := a.CountsAgainstCap(c.from, c.to); got != c.want {
			t.Errorf("[%s, %s]: %v, want %v", c.from, c.to, got, c.want)
		}
	}
	a.Marketing = false
	if a.CountsAgainstCap(due, due) {
		t.Error("a service action counts against the cap")
	}
}
