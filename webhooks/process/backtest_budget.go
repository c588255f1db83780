package process

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/rules"
)

// The backtest replays each customer on a journal of its own, so the
// planner there sees one customer's spend only. The shop-wide budget is
// applied once the replay is done: the replayed actions that cost
// something, in the order they were planned (the moment their event
// arrived), spend their month's budget until it is gone; the rest count
// as held back (budget_exhausted), as processing would have held them.

// BacktestSpend is one rule's spend in one month: what the candidate
// rules would spend and hold back, next to what the rules in force spent.
type BacktestSpend struct {
	Month  string
	RuleID string
	// Spent is what the actions admitted by the budget cost (Actions of them).
	SpentCents int64
	Actions    int
	// Held counts the actions the budget would have held back, HeldCents
	// what they would have cost.
	HeldCents int64
	Held      int
	// LiveSpent is what the recorded actions spend (LiveActions of them).
	LiveSpentCents int64
	LiveActions    int
}

// costed is a replayed action with a cost.
type costed struct {
	rule     string
	customer int64
	planned  time.Time
	due      time.Time
	cents    int64
	spends   bool // scheduled (would spend), else held by the replay already
	counted  bool // its event is in the period
}

// addCost notes a's cost, when it has one; live actions spend as recorded.
func (t *tally) addCost(a *models.Action, live, counted bool) {
	if a.CostCents <= 0 {
		return
	}
	held := a.Status == models.ActionSuppressed && strings.HasPrefix(a.Reason, budgetExhausted)
	if !a.Status.Budgeted() && !held {
		return
	}
	if live {
		if counted && !held {
			t.live = append(t.live, costed{rule: a.RuleID, due: a.DueAt, cents: a.CostCents, spends: true, counted: true})
		}
		return
	}
	t.costed = append(t.costed, costed{rule: a.RuleID, customer: a.CustomerID, planned: a.CreatedAt, due: a.DueAt,
		cents: a.CostCents, spends: !held, counted: counted})
}

// spend applies set's budget to the replayed actions and fills rep.Spend;
// the actions it holds back move from planned to suppressed in rep.Rules.
func (t *tally) spend(rep *BacktestReport, set *rules.Set) {
	slices.SortStableFunc(t.costed, func(a, b costed) int {
		return cmp.Or(a.planned.Compare(b.planned), cmp.Compare(a.customer, b.customer), a.due.Compare(b.due), cmp.Compare(a.rule, b.rule))
	})
	rows := map[[2]string]*BacktestSpend{}
	row := func(month, rule string) *BacktestSpend {
		k := [2]string{month, rule}
		if rows[k] == nil {
			rows[k] = &BacktestSpend{Month: month, RuleID: rule}
		}
		return rows[k]
	}
	spent := map[string]int64{}
	moved := map[string]int{}
	for _, c := range t.costed {
		month, _, _ := set.BudgetMonth(c.due)
		admit := c.spends && (set.Budget == nil || spent[month]+c.cents <= set.Budget.MonthlyCents)
		if admit {
			spent[month] += c.cents
		}
		if !c.counted {
			continue
		}
		r := row(month, c.rule)
		switch {
		case admit:
			r.SpentCents += c.cents
			r.Actions++
		default:
			r.HeldCents += c.cents
			r.Held++
			if c.spends {
				moved[c.rule]++
			}
		}
	}
	for _, c := range t.live {
		month, _, _ := set.BudgetMonth(c.due)
		r := row(month, c.rule)
		r.LiveSpentCents += c.cents
		r.LiveActions++
	}
	for i := range rep.Rules {
		if n := moved[rep.Rules[i].RuleID]; n > 0 {
			rep.Rules[i].Simulated.Planned -= n
			rep.Rules[i].Simulated.Suppressed += n
		}
	}
	for _, r := range rows {
		rep.Spend = append(rep.Spend, *r)
	}
	slices.SortFunc(rep.Spend, func(a, b BacktestSpend) int {
		return cmp.Or(cmp.Compare(a.Month, b.Month), cmp.Compare(a.RuleID, b.RuleID))
	})
}
