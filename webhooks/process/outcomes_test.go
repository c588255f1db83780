package process_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/models/store/storetest"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/standard"
	"github.com/treue/treue/webhooks/process"
)

// TestProcessor_CountsOutcomes: an order placed inside a sent reminder's
// window counts for the reminder's rule; one outside it, or after an
// action that was never sent, counts for none.
func TestProcessor_CountsOutcomes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		st := storetest.Open(t, driver)
		shop := &models.Shop{Key: "s", Platform: models.PlatformStandard, Source: "cli", Secrets: models.ShopSecrets{Webhook: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}}
		if err := st.SaveShop(ctx, shop); err != nil {
			t.Fatal(err)
		}
		day := 24 * time.Hour
		t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
		err := st.InTx(ctx, func(tx *store.Store) error {
			for _, c := range []struct {
				id     string
				status models.ActionStatus
			}{{"c-1", models.ActionSent}, {"c-2", models.ActionCancelled}} {
				cust, _, err := tx.ResolveCustomer(ctx, shop.ID, models.CustomerRef{ID: c.id})
				if err != nil {
					return err
				}
				due := t0
				if err := tx.InsertActions(ctx, []*models.Action{{ShopID: shop.ID, CustomerID: cust, Type: models.ActionReorderReminder,
					Status: c.status, RuleID: "reminder", RulesVersion: "v1", DueAt: due, SentAt: &due, Marketing: true, IdempotencyKey: "k-" + c.id, Params: map[string]any{}}}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		metrics := process.NewMetrics(prometheus.NewRegistry())
		proc := &process.Processor{Store: st, Receivers: map[models.Platform]plugin.Receiver{models.PlatformStandard: standard.New(time.Minute)},
			Log: slog.New(slog.DiscardHandler), Options: journey.DefaultOptions, BatchSize: 10, MaxAttempts: 3, Now: func() time.Time { return t0.Add(30 * day) },
			Metrics: metrics}
		order := func(id, customer string, at time.Time) *models.Delivery {
			body := `{"type":"order.placed","timestamp":"` + at.Format(time.RFC3339) + `","data":{"customer":{"id":"` + customer + `"},"order":{"id":"` + id + `","currency":"EUR","total":"10.00"}}}`
			return &models.Delivery{ShopID: shop.ID, Platform: "standard", DeliveryID: id, Headers: `{"Webhook-Id":["` + id + `"]}`, Body: []byte(body)}
		}
		if _, err := st.InsertInboxBatch(ctx, []*models.Delivery{
			order("o-in", "c-1", t0.Add(3*day)),        // inside the 14-day window
			order("o-late", "c-1", t0.Add(20*day)),     // after it
			order("o-before", "c-1", t0.Add(-day)),     // before the reminder
			order("o-cancelled", "c-2", t0.Add(2*day)), // the reminder was never sent
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := proc.ProcessBatch(ctx); err != nil {
			t.Fatal(err)
		}
		if got := testutil.ToFloat64(metrics.Outcomes.WithLabelValues("s", "reminder", "order")); got != 1 {
			t.Fatalf("treue_action_outcomes_total{rule=reminder,outcome=order} = %v, want 1", got)
		}
	})
}
