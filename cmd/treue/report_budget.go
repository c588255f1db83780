package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/reports"
	"github.com/treue/treue/rules"
)

// budgetReporter computes budget reports from the store with the budget
// of the rules in force.
type budgetReporter struct {
	st  *store.Store
	set func() *rules.Set
}

func (r budgetReporter) BudgetReport(ctx context.Context, shop *models.Shop, from, to time.Time) (*reports.BudgetReport, error) {
	return reports.Budget(ctx, r.st.ForShop(shop.ID), shop, r.set(), from, to)
}

// reportBudget runs `treue report budget`.
func (m *Main) reportBudget(ctx context.Context, configPath string, args []string) error {
	var f reportFlags
	if err := f.parse("report budget", args); err != nil {
		return err
	}
	if f.format == "csv" {
		return usageError{"report budget: --format csv: want table or json\n" + reportUsage}
	}
	e, err := m.openReady(ctx, configPath, false)
	if err != nil {
		return err
	}
	defer e.store.Close()
	shop, err := e.store.ShopByKey(ctx, f.shop)
	if err != nil {
		return fmt.Errorf("--shop %s: %w", f.shop, err)
	}
	p, err := reports.ParseBudgetPeriod(shop, f.from, f.to, time.Now())
	if err != nil {
		return periodError("report budget", reportUsage, err)
	}
	set, err := rulesInForce(e.cfg.Rules.File)
	if err != nil {
		return err
	}
	rep, err := budgetReporter{st: e.store, set: func() *rules.Set { return set }}.BudgetReport(ctx, shop, p.From, p.To)
	if err != nil {
		return err
	}
	if f.format == "json" {
		return writeJSON(m.Stdout, rep)
	}
	return budgetTable(m.Stdout, rep)
}

func budgetTable(w io.Writer, rep *reports.BudgetReport) error {
	budget := "no budget in the rules file"
	if rep.Monthly != nil {
		budget = "budget " + *rep.Monthly + " " + rep.Currency + " a month"
	}
	fmt.Fprintf(w, "shop %s, %s; months %s to %s\n\n", rep.Shop, budget, rep.From, rep.To)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MONTH\tRULE\tSPENT\tACTIONS\tREMAINING\tHELD BACK (budget_exhausted)")
	for _, mo := range rep.Months {
		rem := "-"
		if mo.Remaining != nil {
			rem = *mo.Remaining
		}
		fmt.Fprintf(tw, "%s\t(all)\t%s\t%d\t%s\t%d (%s)\n", mo.Month, mo.Spent, mo.Actions, rem, mo.Held, mo.HeldValue)
		for _, r := range mo.Rules {
			fmt.Fprintf(tw, "\t%s\t%s\t%d\t\t%d (%s)\n", r.RuleID, r.Spent, r.Actions, r.Held, r.HeldValue)
		}
	}
	return tw.Flush()
}
