package process_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/models/store/storetest"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/standard"
	"github.com/treue/treue/rules"
	"github.com/treue/treue/webhooks/process"
)

// budgetRules give every order a 10.00 code; 95.00 a month pay for nine.
const budgetRules = `defaults: {currency: EUR, timezone: UTC}
budget: {monthly: "95.00", currency: EUR}
rules:
  - id: thanks-code
    on: [order.placed]
    kind: service
    limit: {once_per: order}
    action: {type: promo_code, params: {amount: "10.00"}}
`

// TestBudget_ConcurrentProcessors: processors planning costed actions for
// different customers of one shop at once (four of them, in small batches,
// as four replicas would; batch and careful runs) never spend more than the
// month's budget, and hold back the rest with budget_exhausted. A new month
// starts with the whole budget.
func TestBudget_ConcurrentProcessors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		for _, mode := range []string{"concurrent", "careful"} {
			t.Run(mode, func(t *testing.T) {
				ctx := context.Background()
				set, err := rules.Parse("budget.yaml", []byte(budgetRules))
				if err != nil {
					t.Fatal(err)
				}
				st := storetest.Open(t, driver)
				shop := &models.Shop{Key: "acme", Platform: models.PlatformStandard, Source: "cli", Currency: "EUR",
					Secrets: models.ShopSecrets{Webhook: []string{"x"}}}
				if err := st.SaveShop(ctx, shop); err != nil {
					t.Fatal(err)
				}
				var clock atomic.Pointer[time.Time]
				now := func() time.Time { return *clock.Load() }
				setClock := func(t time.Time) { clock.Store(&t) }
				setClock(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
				log := slog.New(slog.NewTextHandler(tLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
				proc := &process.Processor{
					Store:     st,
					Receivers: map[models.Platform]plugin.Receiver{models.PlatformStandard: standard.New(time.Minute)},
					Planner:   &process.RulesPlanner{Rules: rules.NewHolder(set), Log: log, Now: now, Options: journey.DefaultOptions},
					Log:       log, Options: journey.DefaultOptions, BatchSize: 3, MaxAttempts: 3, Now: now,
					Metrics: process.NewMetrics(prometheus.NewRegistry()),
				}
				send := func(from, to int, at time.Time) {
					for c := from; c < to; c++ {
						id := fmt.Sprintf("msg-%d", c)
						body := fmt.Sprintf(`{"type":"order.placed","timestamp":%q,"data":{"customer":{"id":"c-%d","email":"c%d@example.org"},`+
							`"order":{"id":"o-%d","currency":"EUR","total":"40.00","items":[{"sku":"BEAN-1KG","quantity":1,"unit_price":"40.00"}]}}}`,
							at.Format(time.RFC3339), c, c, c)
						it := &models.Delivery{ShopID: shop.ID, Platform: string(models.PlatformStandard), DeliveryID: id,
							Headers: store.EncodeHeaders(http.Header{"Webhook-Id": {id}}), Body: []byte(body)}
						if _, err := st.InsertInboxBatch(ctx, []*models.Delivery{it}); err != nil {
							t.Fatal(err)
						}
					}
					drain(t, ctx, st, proc, mode == "careful")
				}
				send(0, 40, time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))

				spent, scheduled, held := budgetOf(t, st, shop.ID, "2026-12")
				if spent > 9500 || scheduled != 9 || held != 31 {
					t.Errorf("December: spent %d cents in %d actions, %d held back; want 9000 in 9, 31 held back", spent, scheduled, held)
				}
				// January: the same budget again, for the next orders.
				setClock(time.Date(2027, 1, 1, 0, 30, 0, 0, time.UTC))
				send(40, 45, time.Date(2027, 1, 1, 0, 15, 0, 0, time.UTC))
				if spent, scheduled, held := budgetOf(t, st, shop.ID, "2027-01"); spent != 5000 || scheduled != 5 || held != 0 {
					t.Errorf("January: spent %d cents in %d actions, %d held back; want 5000 in 5", spent, scheduled, held)
				}
				// A cancelled action gives its cost back: a late December
				// order is planned again.
				acts, err := st.BudgetActions(ctx, shop.ID, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
				if err != nil || len(acts) != 40 {
					t.Fatalf("December's actions: %d, %v", len(acts), err)
				}
				for _, a := range acts {
					if a.Status == string(models.ActionScheduled) {
						if ok, err := st.CancelAction(ctx, a.ID, "test"); err != nil || !ok {
							t.Fatalf("cancel: %v, %v", ok, err)
						}
						break
					}
				}
				setClock(time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC))
				send(45, 47, time.Date(2026, 12, 31, 22, 0, 0, 0, time.UTC))
				if spent, scheduled, held := budgetOf(t, st, shop.ID, "2026-12"); spent != 9000 || scheduled != 9 || held != 32 {
					t.Errorf("December after a cancellation: spent %d cents in %d actions, %d held back; want 9000 in 9, 32 held back", spent, scheduled, held)
				}
			})
		}
	})
}

// drain processes the inbox until it is empty: with four processors at
// once, or the careful way.
func drain(t *testing.T, ctx context.Context, st *store.Store, proc *process.Processor, careful bool) {
	t.Helper()
	if careful {
		for {
			n, err := proc.ProcessBatchCareful(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				return
			}
		}
	}
	drainWith(t, ctx, st, time.Minute, proc, proc, proc, proc)
}

// budgetOf sums a month's spend from the store, with the actions that
// spend and those the budget held back.
func budgetOf(t *testing.T, st *store.Store, shopID int64, month string) (spent int64, scheduled, held int) {
	t.Helper()
	from, err := time.Parse("2006-01", month)
	if err != nil {
		t.Fatal(err)
	}
	acts, err := st.BudgetActions(context.Background(), shopID, from, from.AddDate(0, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range acts {
		switch {
		case models.ActionStatus(a.Status).Budgeted():
			spent += a.CostCents
			scheduled++
		case a.Reason != nil && *a.Reason == "test":
		case a.Reason != nil && strings.HasPrefix(*a.Reason, "budget_exhausted: ") && strings.Contains(*a.Reason, "of 95.00 EUR spent in "+month):
			held++
		default:
			t.Errorf("action %s %s: %v", a.RuleID, a.Status, a.Reason)
		}
	}
	return spent, scheduled, held
}
