package support

import (
	"strings"

	"github.com/treue/treue/models"
)

// budgetWhy says, for an action the incentive budget held back, what it
// would have cost against what the month had spent; "" for any other.
// The reason reads "budget_exhausted: 1995.00 of 2000.00 EUR spent in 2026-12".
func budgetWhy(a *models.Action) string {
	detail, ok := strings.CutPrefix(a.Reason, "budget_exhausted")
	if !ok || a.Status != models.ActionSuppressed {
		return ""
	}
	w := "; held back: the month's incentive budget could not pay its " + string(models.FormatCents(a.CostCents))
	if d := strings.TrimPrefix(detail, ": "); d != "" {
		w += " (" + d + ")"
	}
	return w
}
