package reports

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/rules"
)

// BudgetSource is what a budget report reads.
type BudgetSource interface {
	BudgetActions(ctx context.Context, shopID int64, from, to time.Time) ([]store.BudgetAction, error)
}

// BudgetReport is a shop's incentive spend against its monthly budget.
type BudgetReport struct {
	Shop     string `json:"shop"`
	From     string `json:"from"` // first month, 2026-11
	To       string `json:"to"`   // last month
	Currency string `json:"currency"`
	// Monthly is the budget of the rules in force; nil without one (the
	// spend is still reported).
	Monthly *string       `json:"monthly"`
	Months  []BudgetMonth `json:"months"`
}

// BudgetMonth is one calendar month's spend. Every figure comes with the
// number of actions it adds up.
type BudgetMonth struct {
	Month string `json:"month"`
	// Spent is the cost of the month's actions that are scheduled, on their
	// way or sent (Actions of them).
	Spent      string `json:"spent"`
	SpentCents int64  `json:"spent_cents"`
	Actions    int    `json:"actions"`
	// Remaining is the budget less Spent (nil without a budget).
	Remaining *string `json:"remaining"`
	// Held counts the actions the budget held back (budget_exhausted) and
	// HeldValue what they would have cost.
	Held      int          `json:"held"`
	HeldValue string       `json:"held_value"`
	Rules     []BudgetRule `json:"rules"`
	held      int64
}

// BudgetRule is one rule's share of a month.
type BudgetRule struct {
	RuleID    string `json:"rule_id"`
	Spent     string `json:"spent"`
	Actions   int    `json:"actions"`
	Held      int    `json:"held"`
	HeldValue string `json:"held_value"`
	spent     int64
	held      int64
}

// budgetExhausted is the reason class of the actions the budget held back.
const budgetExhausted = "budget_exhausted"

// Budget reports the months that [from, to) touches, in the rules' time
// zone (set may be nil: UTC, and no budget). The costs are those the
// actions were priced at when planned.
func Budget(ctx context.Context, src BudgetSource, shop *models.Shop, set *rules.Set, from, to time.Time) (*BudgetReport, error) {
	loc, budget := time.UTC, (*rules.Budget)(nil)
	if set != nil {
		loc, budget = set.Location(), set.Budget
	}
	first, start, _ := rules.Month(from, loc)
	last, _, end := rules.Month(to.Add(-time.Nanosecond), loc)
	acts, err := src.BudgetActions(ctx, shop.ID, start, end)
	if err != nil {
		return nil, err
	}
	rep := &BudgetReport{Shop: shop.Key, From: first, To: last, Currency: shop.Currency, Months: []BudgetMonth{}}
	if b := budget; b != nil {
		m := string(b.Monthly())
		rep.Monthly, rep.Currency = &m, b.Currency
	}
	months := map[string]*BudgetMonth{}
	rulesOf := map[string]map[string]*BudgetRule{}
	for t := start; t.Before(end); {
		name, _, next := rules.Month(t, loc)
		months[name] = &BudgetMonth{Month: name}
		rulesOf[name] = map[string]*BudgetRule{}
		t = next
	}
	for _, a := range acts {
		name, _, _ := rules.Month(a.DueAt, loc)
		m := months[name]
		if m == nil {
			continue
		}
		r := rulesOf[name][a.RuleID]
		if r == nil {
			r = &BudgetRule{RuleID: a.RuleID}
			rulesOf[name][a.RuleID] = r
		}
		switch {
		case models.ActionStatus(a.Status).Budgeted():
			m.Actions++
			m.SpentCents += a.CostCents
			r.Actions++
			r.spent += a.CostCents
		case a.Status == string(models.ActionSuppressed) && a.Reason != nil && strings.HasPrefix(*a.Reason, budgetExhausted):
			m.Held++
			m.held += a.CostCents
			r.Held++
			r.held += a.CostCents
		}
	}
	for _, m := range months {
		m.Spent, m.HeldValue = string(models.FormatCents(m.SpentCents)), string(models.FormatCents(m.held))
		if b := budget; b != nil {
			rem := string(models.FormatCents(b.MonthlyCents - m.SpentCents))
			m.Remaining = &rem
		}
		m.Rules = []BudgetRule{}
		for _, r := range rulesOf[m.Month] {
			if r.Actions+r.Held == 0 {
				continue
			}
			r.Spent, r.HeldValue = string(models.FormatCents(r.spent)), string(models.FormatCents(r.held))
			m.Rules = append(m.Rules, *r)
		}
		slices.SortFunc(m.Rules, func(a, b BudgetRule) int { return cmp.Compare(a.RuleID, b.RuleID) })
		rep.Months = append(rep.Months, *m)
	}
	slices.SortFunc(rep.Months, func(a, b BudgetMonth) int { return cmp.Compare(a.Month, b.Month) })
	return rep, nil
}

// ParseBudgetPeriod reads a budget report's period from its query or
// flags: by default this month and the two before it.
func ParseBudgetPeriod(shop *models.Shop, from, to string, now time.Time) (Period, error) {
	return ParsePeriod(shop, from, to, now, func(to time.Time) time.Time { return to.AddDate(0, -2, 0) })
}
