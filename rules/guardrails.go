package rules

import (
	"hash/fnv"
	"sort"
	"time"

	"github.com/treue/treue/models"
)

// Guardrails run over the planned actions in result order (priority first),
// so that the most important action gets the frequency budget. Each check
// turns a scheduled action into a suppressed one with a reason; suppressed
// actions are still stored, so support can see what was held back and why.
// The checks, first match wins: holdout, consent, category opt-out, frequency
// cap, unhappy customer (unhappy.go), an order that followed an abandoned
// cart (cart.go). The incentive budget is the planner's, after them all
// (webhooks/process/budget.go): it needs the shop's spend, not one customer's.
// Quiet hours never suppress; they move the due time (schedule.go).
func (ev *evaluation) guardrails() {
	prof := &ev.in.Profile
	var budget []time.Time // due times of marketing actions already counted
	budgetReady := false
	for i := range ev.res.Planned {
		p := &ev.res.Planned[i]
		r := ev.s.byID[p.RuleID]
		switch {
		case r.Holdout && (prof.Holdout || ev.s.InHoldout(prof.PublicID)):
			p.Reason = "holdout"
		case r.RequireConsent && !prof.MarketingConsent:
			p.Reason = "no_consent"
		case p.Category != "" && !ledger(p.Type) && prof.OptedOut(p.Category):
			p.Reason = "category_opt_out: " + p.Category
		case r.FrequencyCap.Max > 0:
			if !budgetReady {
				budget, budgetReady = append(budget, ev.in.Recent...), true
			}
			if maxInWindow(budget, p.DueAt, r.FrequencyCap.Window) >= r.FrequencyCap.Max {
				p.Reason = "frequency_cap: " + itoa(r.FrequencyCap.Max) + " per " + formatDuration(r.FrequencyCap.Window)
			}
		}
		if p.Reason == "" {
			p.Reason = ev.unhappyGate(r)
		}
		if p.Reason == "" && ev.cartGuard() {
			p.Reason = cartOrdered
		}
		if p.Reason != "" {
			p.Status = models.ActionSuppressed
			continue
		}
		if p.Marketing {
			if !budgetReady {
				budget, budgetReady = append(budget, ev.in.Recent...), true
			}
			budget = append(budget, p.DueAt)
		}
	}
}

// ledger action types are bookkeeping, not messages: a category opt-out
// does not stop points being awarded or revoked.
func ledger(t models.ActionType) bool {
	return t == models.ActionPointsAward || t == models.ActionPointsRevoke
}

// maxInWindow is the largest number of times that share a window of length w
// with t: adding an action at t must not put more than max into any window.
func maxInWindow(times []time.Time, t time.Time, w time.Duration) int {
	var near []time.Time
	for _, x := range times {
		if d := x.Sub(t); d > -w && d < w {
			near = append(near, x)
		}
	}
	if len(near) == 0 {
		return 0
	}
	sort.Slice(near, func(i, j int) bool { return near[i].Before(near[j]) })
	// Windows [a, a+w) containing t: a in (t-w, t]. The count only changes
	// where a or a+w crosses a point, so trying a just after t-w and at every
	// point in (t-w, t] finds the maximum.
	starts := []time.Time{t.Add(-w + 1)}
	for _, x := range near {
		if !x.After(t) {
			starts = append(starts, x)
		}
	}
	best := 0
	for _, a := range starts {
		n := 0
		for _, x := range near {
			if !x.Before(a) && x.Before(a.Add(w)) {
				n++
			}
		}
		best = max(best, n)
	}
	return best
}

// InHoldout reports whether a customer belongs to the holdout group: a
// deterministic hash of the public id, so the group stays the same across
// events, replicas and rule reloads (as long as holdout_percent does).
func (s *Set) InHoldout(publicID string) bool {
	if s.Defaults.HoldoutPercent <= 0 {
		return false
	}
	h := fnv.New64a()
	h.Write([]byte("treue-holdout:"))
	h.Write([]byte(publicID))
	return float64(h.Sum64()%10000) < s.Defaults.HoldoutPercent*100
}
