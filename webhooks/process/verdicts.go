package process

import (
	"context"
	"strings"

	"github.com/treue/treue/models"
)

// verdicts collect the verdicts one transaction's planning took, so that the
// metrics count them once it commits: a batch that is rolled back and run
// again (a deadlock, a careful rerun) must not count its actions twice, and
// a replayed delivery that plans nothing new counts nothing.
type verdicts struct {
	planned   []verdict
	cancelled []verdict
}

type verdict struct{ shop, rule, status, reason string }

type verdictsKey struct{}

// withVerdicts starts collecting for the transaction that ctx runs.
func withVerdicts(ctx context.Context) (context.Context, *verdicts) {
	t := &verdicts{}
	return context.WithValue(ctx, verdictsKey{}, t), t
}

// notePlanned records a newly stored action; without a collector (the backtest,
// a test driving the planner directly) it does nothing.
func notePlanned(ctx context.Context, shop string, a *models.Action) {
	if t, ok := ctx.Value(verdictsKey{}).(*verdicts); ok {
		t.planned = append(t.planned, verdict{shop, a.RuleID, string(a.Status), ReasonClass(a.Reason)})
	}
}

// noteCancelled records an action the rules cancelled.
func noteCancelled(ctx context.Context, shop, rule, reason string) {
	if t, ok := ctx.Value(verdictsKey{}).(*verdicts); ok {
		t.cancelled = append(t.cancelled, verdict{shop: shop, rule: rule, reason: ReasonClass(reason)})
	}
}

// ReasonClass is a reason without its detail: "frequency_cap: 2 per 7d" is
// "frequency_cap". Metrics label by the class, so that the details (a
// category, an amount, a date) do not make a series each.
func ReasonClass(reason string) string {
	class, _, _ := strings.Cut(reason, ":")
	return strings.TrimSpace(class)
}

// count adds a committed transaction's verdicts to the metrics.
func (m *Metrics) count(t *verdicts) {
	if m == nil || t == nil {
		return
	}
	if m.Planned != nil {
		for _, v := range t.planned {
			m.Planned.WithLabelValues(v.shop, v.rule, v.status, v.reason).Inc()
		}
	}
	if m.Cancelled != nil {
		for _, v := range t.cancelled {
			m.Cancelled.WithLabelValues(v.shop, v.rule, v.reason).Inc()
		}
	}
}

// mark and rewind drop what a rolled-back savepoint noted.
func mark(ctx context.Context) (int, int) {
	if t, ok := ctx.Value(verdictsKey{}).(*verdicts); ok {
		return len(t.planned), len(t.cancelled)
	}
	return 0, 0
}

func rewind(ctx context.Context, planned, cancelled int) {
	if t, ok := ctx.Value(verdictsKey{}).(*verdicts); ok {
		t.planned, t.cancelled = t.planned[:planned], t.cancelled[:cancelled]
	}
}
