package process_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
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

const cartRules = `
defaults: {timezone: UTC, quiet_hours: none, frequency_cap: none, holdout_percent: 0, require_consent: true}
rules:
  - id: cart-reminder
    on: cart.abandoned
    cancel: [cart_ordered]
    limit: {once_per: cart}
    kind: marketing
    action: {type: notify, params: {template: cart_reminder}, compute: {skus: cart.skus}}
`

// TestCartPass: a cart no order follows is found abandoned an hour after
// its last update and its reminder planned, once however often the pass
// runs; a cart ordered before that is not abandoned; an order after the
// abandonment cancels the reminder, and one that happened before it but
// arrived after suppresses it. rules simulate replays the same.
func TestCartPass(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		st := storetest.Open(t, driver)
		t0 := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
		clock := storetest.NewClock(t0)
		st.Now = clock.Now
		shop := &models.Shop{Key: "carts", Platform: models.PlatformStandard, Source: "cli", Secrets: models.ShopSecrets{Webhook: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}}
		if err := st.SaveShop(ctx, shop); err != nil {
			t.Fatal(err)
		}
		set, err := rules.Parse("carts.yaml", []byte(cartRules))
		if err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.DiscardHandler)
		proc := &process.Processor{
			Store:     st,
			Receivers: map[models.Platform]plugin.Receiver{models.PlatformStandard: standard.New(time.Minute)},
			Planner:   &process.RulesPlanner{Rules: rules.NewHolder(set), Log: log, Now: clock.Now, Options: journey.DefaultOptions},
			Log:       log, Options: journey.DefaultOptions, BatchSize: 50, MaxAttempts: 3, Now: clock.Now,
			Metrics: process.NewMetrics(prometheus.NewRegistry()),
		}
		pass := &process.CartPass{Processor: proc, After: time.Hour, Lookback: 24 * time.Hour, Every: time.Minute, Log: log}
		n := 0
		deliver := func(typ, data string) {
			t.Helper()
			n++
			id := fmt.Sprintf("msg-%d", n)
			body := fmt.Sprintf(`{"type":%q,"timestamp":%q,"data":%s}`, typ, clock.Now().Format(time.RFC3339), data)
			it := &models.Delivery{ShopID: shop.ID, Platform: string(models.PlatformStandard), DeliveryID: id, Topic: typ,
				Headers: store.EncodeHeaders(http.Header{"Webhook-Id": {id}}), Body: []byte(body)}
			if _, err := st.InsertInboxBatch(ctx, []*models.Delivery{it}); err != nil {
				t.Fatal(err)
			}
			for {
				k, err := proc.ProcessBatch(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if k == 0 {
					break
				}
			}
		}
		cust := func(c string) string { return fmt.Sprintf(`"customer":{"id":%q}`, c) }
		cart := func(c, id string, at time.Time) string {
			return fmt.Sprintf(`{%s,"cart":{"id":%q,"updated_at":%q,"currency":"EUR","items":[{"sku":"BEAN","quantity":2,"unit_price":"14.90"},{"sku":"MUG","quantity":1,"unit_price":"9.90"}]}}`,
				cust(c), id, at.Format(time.RFC3339))
		}
		order := func(c, id string, at time.Time, sku string) string {
			return fmt.Sprintf(`{%s,"order":{"id":%q,"placed_at":%q,"items":[{"sku":%q,"quantity":1,"unit_price":"14.90"}]}}`, cust(c), id, at.Format(time.RFC3339), sku)
		}
		for _, c := range []string{"c-1", "c-2", "c-3", "c-4"} {
			deliver("consent.granted", "{"+cust(c)+`,"consent":{"channel":"email"}}`)
			deliver("cart.updated", cart(c, "cart-"+c, t0))
		}
		// c-1 updates the cart again: the abandonment counts from the last update.
		clock.Add(10 * time.Minute)
		deliver("cart.updated", cart("c-1", "cart-c-1", t0.Add(10*time.Minute)))
		deliver("cart.updated", cart("c-1", "cart-c-1", t0.Add(10*time.Minute))) // a retry: the same step
		// c-2 orders one of the cart's items before the hour is up.
		deliver("order.placed", order("c-2", "o-2", t0.Add(20*time.Minute), "MUG"))

		clock.Add(40 * time.Minute) // t0+50m: c-3 and c-4's carts are not yet an hour old
		if got, err := pass.Pass(ctx); err != nil || got != 0 {
			t.Fatalf("early pass recorded %d (%v)", got, err)
		}
		clock.Add(20 * time.Minute) // t0+70m: c-3, c-4 abandoned; c-1 (updated at +10m) just so
		got, err := pass.Pass(ctx)
		if err != nil || got != 3 {
			t.Fatalf("pass recorded %d abandonments (%v), want 3", got, err)
		}
		if again, err := pass.Pass(ctx); err != nil || again != 0 {
			t.Fatalf("second pass recorded %d (%v)", again, err)
		}

		// c-3 orders a cart item after the abandonment: the reminder is cancelled.
		clock.Add(10 * time.Minute)
		deliver("order.placed", order("c-3", "o-3", clock.Now(), "BEAN"))
		// c-4's order happened before the abandonment but arrives only now.
		deliver("order.placed", order("c-4", "o-4", t0.Add(30*time.Minute), "BEAN"))

		// c-5's cart update arrives late (a sender's retries), its abandonment
		// long due: the passes in between read only what fell due since the
		// pass before, the next full pass (an hour after the last) finds it.
		deliver("consent.granted", "{"+cust("c-5")+fmt.Sprintf(`,"consent":{"channel":"email","at":%q}}`, t0.Add(-time.Hour).Format(time.RFC3339)))
		deliver("cart.updated", cart("c-5", "cart-c-5", t0))
		clock.Add(time.Minute)
		if got, err := pass.Pass(ctx); err != nil || got != 0 {
			t.Fatalf("incremental pass recorded %d (%v), want the late cart left to the full pass", got, err)
		}
		clock.Add(time.Hour)
		if got, err := pass.Pass(ctx); err != nil || got != 1 {
			t.Fatalf("full pass recorded %d (%v), want the late cart's abandonment", got, err)
		}

		want := map[string]struct {
			status models.ActionStatus
			reason string
		}{
			"c-1": {models.ActionScheduled, ""},
			"c-3": {models.ActionCancelled, "cart_ordered"},
			"c-4": {models.ActionSuppressed, "cart_ordered"},
			"c-5": {models.ActionScheduled, ""},
		}
		for _, c := range []string{"c-1", "c-2", "c-3", "c-4", "c-5"} {
			prof, err := st.CustomerByIdentity(ctx, shop.ID, "id", c)
			if err != nil {
				t.Fatal(err)
			}
			acts, err := st.CustomerActions(ctx, prof.CustomerID)
			if err != nil {
				t.Fatal(err)
			}
			w, ok := want[c]
			if !ok {
				if len(acts) != 0 {
					t.Errorf("%s ordered before the hour was up, yet: %+v", c, acts)
				}
				continue
			}
			if len(acts) != 1 || acts[0].RuleID != "cart-reminder" || acts[0].Status != w.status || acts[0].Reason != w.reason {
				t.Errorf("%s: actions %+v, want one cart-reminder %s %q", c, acts, w.status, w.reason)
				continue
			}
			if c == "c-1" && !acts[0].DueAt.Equal(t0.Add(70*time.Minute)) {
				t.Errorf("c-1's reminder is due %v, want the last update + 1h", acts[0].DueAt)
			}
			_, history, err := st.Journey(ctx, prof.CustomerID)
			if err != nil {
				t.Fatal(err)
			}
			abandoned := 0
			for _, e := range history {
				if e.Type == models.CartAbandoned {
					abandoned++
				}
			}
			if abandoned != 1 {
				t.Errorf("%s: %d cart.abandoned in the journey, want 1", c, abandoned)
			}
		}

		// rules simulate replays the stored abandonments as processing recorded them.
		bt := &process.Backtest{Live: st, Rules: set, Options: journey.DefaultOptions, Log: log, Workers: 1}
		rep, err := bt.Run(ctx, shop, time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Rules) != 1 || rep.Rules[0].Simulated != rep.Rules[0].Live ||
			rep.Rules[0].Live != (process.BacktestCounts{Planned: 2, Suppressed: 1, Cancelled: 1}) {
			t.Fatalf("backtest %+v", rep.Rules)
		}
	})
}
