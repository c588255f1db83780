package reports

import (
	"context"
	"testing"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/rules"
)

type budgetActions []store.BudgetAction

func (b budgetActions) BudgetActions(_ context.Context, _ int64, from, to time.Time) ([]store.BudgetAction, error) {
	var out []store.BudgetAction
	for _, a := range b {
		if !a.DueAt.Before(from) && a.DueAt.Before(to) {
			out = append(out, a)
		}
	}
	return out, nil
}

// TestBudget_Months: spend and what the budget held back fall into the
// calendar month of their due time in the rules' zone; cancelled actions
// and other suppressions count nowhere.
func TestBudget_Months(t *testing.T) {
	set, err := rules.Parse("r.yaml", []byte("defaults: {timezone: Europe/Berlin, currency: EUR}\nbudget: {monthly: \"50.00\", currency: EUR}\nrules: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	held, other := "budget_exhausted: 45.00 of 50.00 EUR spent in 2026-12", "no_consent"
	src := budgetActions{
		{RuleID: "a", Status: "sent", DueAt: time.Date(2026, 11, 30, 22, 30, 0, 0, time.UTC), CostCents: 1000},      // 23:30 in Berlin: November
		{RuleID: "a", Status: "scheduled", DueAt: time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC), CostCents: 4500}, // 00:30 on 1 December
		{RuleID: "b", Status: "suppressed", Reason: &held, DueAt: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), CostCents: 1000},
		{RuleID: "b", Status: "suppressed", Reason: &other, DueAt: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), CostCents: 700},
		{RuleID: "b", Status: "cancelled", DueAt: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC), CostCents: 900},
	}
	shop := &models.Shop{ID: 1, Key: "acme", Currency: "EUR"}
	rep, err := Budget(context.Background(), src, shop, set, time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if rep.From != "2026-11" || rep.To != "2026-12" || len(rep.Months) != 2 || *rep.Monthly != "50.00" {
		t.Fatalf("report %+v", rep)
	}
	nov, dec := rep.Months[0], rep.Months[1]
	if nov.Spent != "10.00" || nov.Actions != 1 || *nov.Remaining != "40.00" || nov.Held != 0 {
		t.Errorf("November %+v", nov)
	}
	if dec.Spent != "45.00" || dec.SpentCents != 4500 || dec.Actions != 1 || *dec.Remaining != "5.00" || dec.Held != 1 || dec.HeldValue != "10.00" || len(dec.Rules) != 2 {
		t.Errorf("December %+v", dec)
	}
	// Without rules: months in UTC (the 45.00 are November's then), no
	// budget, the spend still counted.
	rep, err = Budget(context.Background(), src, shop, nil, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC))
	if err != nil || rep.Monthly != nil || len(rep.Months) != 2 || rep.Months[0].Spent != "55.00" || rep.Months[0].Remaining != nil || rep.Months[1].Held != 1 {
		t.Errorf("without rules: %+v, %v", rep, err)
	}
}
