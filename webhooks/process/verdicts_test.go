package process_test

import (
	"testing"

	"github.com/treue/treue/webhooks/process"
)

func TestReasonClass(t *testing.T) {
	for reason, want := range map[string]string{
		"":                         "",
		"holdout":                  "holdout",
		"frequency_cap: 2 per 7d":  "frequency_cap",
		"category_opt_out: beans":  "category_opt_out",
		"unhappy_customer: rating": "unhappy_customer",
	} {
		if got := process.ReasonClass(reason); got != want {
			t.Errorf("ReasonClass(%q) = %q, want %q", reason, got, want)
		}
	}
}
