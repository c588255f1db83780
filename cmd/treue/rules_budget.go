package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/treue/treue/models"
	"github.com/treue/treue/rules"
	"github.com/treue/treue/webhooks/process"
)

// simulateSpend prints rules simulate's projected incentive spend per
// month and rule, with what the candidate's budget would have held back.
func simulateSpend(w io.Writer, set *rules.Set, rep process.BacktestReport) error {
	if len(rep.Spend) == 0 {
		return nil
	}
	budget := "no budget in the file"
	if b := set.Budget; b != nil {
		budget = "budget " + string(b.Monthly()) + " " + b.Currency + " a month"
	}
	fmt.Fprintf(w, "\nProjected incentive spend per month (%s, months in %s):\n\n", budget, set.Defaults.Timezone)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MONTH\tRULE\tSIMULATED spent (actions)\tHELD BACK by the budget (actions)\tRECORDED spent (actions)")
	money := func(c int64, n int) string { return fmt.Sprintf("%s (%d)", models.FormatCents(c), n) }
	var month process.BacktestSpend
	flush := func() {
		if month.Month != "" {
			fmt.Fprintf(tw, "%s\t(all)\t%s\t%s\t%s\n", month.Month, money(month.SpentCents, month.Actions),
				money(month.HeldCents, month.Held), money(month.LiveSpentCents, month.LiveActions))
		}
	}
	for _, s := range rep.Spend {
		if s.Month != month.Month {
			flush()
			month = process.BacktestSpend{Month: s.Month}
		}
		month.SpentCents, month.Actions = month.SpentCents+s.SpentCents, month.Actions+s.Actions
		month.HeldCents, month.Held = month.HeldCents+s.HeldCents, month.Held+s.Held
		month.LiveSpentCents, month.LiveActions = month.LiveSpentCents+s.LiveSpentCents, month.LiveActions+s.LiveActions
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Month, s.RuleID, money(s.SpentCents, s.Actions), money(s.HeldCents, s.Held),
			money(s.LiveSpentCents, s.LiveActions))
	}
	flush()
	return tw.Flush()
}
