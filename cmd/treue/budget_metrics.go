package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/treue/treue/models/store"
	"github.com/treue/treue/reports"
	"github.com/treue/treue/rules"
)

// budgetMetrics exports each shop's monthly budget and this month's spend,
// computed with the budget report (the same costs, the same month). A
// scrape reads the month's costed actions of every shop, so the figures are
// recomputed at most once per every and served from memory in between.
type budgetMetrics struct {
	st    *store.Store
	set   func() *rules.Set
	now   func() time.Time
	every time.Duration
	log   *slog.Logger

	monthly, spent *prometheus.Desc

	mu   sync.Mutex
	at   time.Time
	last []prometheus.Metric
}

func newBudgetMetrics(st *store.Store, set func() *rules.Set, now func() time.Time, log *slog.Logger) *budgetMetrics {
	return &budgetMetrics{st: st, set: set, now: now, every: 30 * time.Second, log: log,
		monthly: prometheus.NewDesc("treue_budget_monthly_cents", "The monthly incentive budget of the rules in force, in cents of the shop's currency.", []string{"shop"}, nil),
		spent: prometheus.NewDesc("treue_budget_spent_cents", "The incentive budget spent in the current month (in defaults.timezone): the cost of the actions due in it that are scheduled, on their way or sent, in cents; recomputed at most every 30 s.",
			[]string{"shop", "month"}, nil),
	}
}

func (b *budgetMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- b.monthly
	ch <- b.spent
}

func (b *budgetMetrics) Collect(ch chan<- prometheus.Metric) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now := b.now(); b.last == nil || now.Sub(b.at) >= b.every {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		ms, err := b.compute(ctx, now)
		cancel()
		if err != nil {
			b.log.Warn("budget metrics not refreshed", "err", err)
		} else {
			b.at, b.last = now, ms
		}
	}
	for _, m := range b.last {
		ch <- m
	}
}

func (b *budgetMetrics) compute(ctx context.Context, now time.Time) ([]prometheus.Metric, error) {
	set := b.set()
	if set == nil || set.Budget == nil {
		return []prometheus.Metric{}, nil
	}
	shops, err := b.st.ListShops(ctx)
	if err != nil {
		return nil, err
	}
	out := []prometheus.Metric{}
	for _, shop := range shops {
		rep, err := reports.Budget(ctx, b.st.ForShop(shop.ID), shop, set, now, now.Add(time.Nanosecond))
		if err != nil {
			return nil, err
		}
		out = append(out, prometheus.MustNewConstMetric(b.monthly, prometheus.GaugeValue, float64(set.Budget.MonthlyCents), shop.Key))
		for _, m := range rep.Months {
			out = append(out, prometheus.MustNewConstMetric(b.spent, prometheus.GaugeValue, float64(m.SpentCents), shop.Key, m.Month))
		}
	}
	return out, nil
}
