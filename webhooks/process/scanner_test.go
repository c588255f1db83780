package process_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/models/store/storetest"
	"github.com/treue/treue/rules"
	"github.com/treue/treue/webhooks/process"
)

const winBack = `
defaults: {timezone: UTC, quiet_hours: none, frequency_cap: none, holdout_percent: 0, require_consent: false}
rules:
  - id: win-back
    on: daily_scan
    if: customer.order_count > 0
    when: {inactive_for: 90d}
    kind: marketing
    action: {type: promo_code, params: {percent: 15}}
`

// TestScanner plans a win-back for a customer whose last order is 100 days
// old, refreshes the stage to at_risk, and plans nothing new on a second pass.
func TestScanner(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		st := storetest.Open(t, driver)
		shop := &models.Shop{Key: "acme", Platform: models.PlatformStandard, Source: "cli", Secrets: models.ShopSecrets{Webhook: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}}
		if err := st.SaveShop(ctx, shop); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		placed := now.Add(-100 * 24 * time.Hour)
		var custID int64
		err := st.InTx(ctx, func(tx *store.Store) error {
			id, _, err := tx.ResolveCustomer(ctx, shop.ID, models.CustomerRef{ID: "c-1"})
			if err != nil {
				return err
			}
			custID = id
			_, err = tx.InsertEvent(ctx, &store.EventRecord{ShopID: shop.ID, CustomerID: id, Type: "order.placed", StepKey: "order.placed|o-1",
				OccurredAt: placed, ReceivedAt: placed, Platform: "standard", DeliveryID: "d", OrderRef: "o-1",
				Data: `{"customer":{"id":"c-1"},"order":{"id":"o-1","total":"10.00"}}`})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		set, err := rules.Parse("win.yaml", []byte(winBack))
		if err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.DiscardHandler)
		clock := func() time.Time { return now }
		sc := &process.Scanner{Store: st, Planner: &process.RulesPlanner{Rules: rules.NewHolder(set), Log: log, Now: clock, Options: journey.DefaultOptions},
			Options: journey.DefaultOptions, Log: log, Now: clock, Every: time.Hour, Batch: 10}
		for pass := 0; pass < 2; pass++ {
			if n, err := sc.ScanAll(ctx); err != nil || n != 1 {
				t.Fatalf("pass %d: scanned %d, %v", pass, n, err)
			}
		}
		acts, err := st.CustomerActions(ctx, custID)
		if err != nil {
			t.Fatal(err)
		}
		if len(acts) != 1 || acts[0].RuleID != "win-back" || acts[0].Status != models.ActionScheduled {
			t.Fatalf("actions %+v", acts)
		}
		prof, _ := st.Profile(ctx, custID)
		if prof.Stage != models.StageAtRisk {
			t.Fatalf("stage %s, want at_risk", prof.Stage)
		}
	})
}
