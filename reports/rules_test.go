package reports_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/models/store/storetest"
	"github.com/treue/treue/reports"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// plant stores n customers of a shop who each got one action of rule
// "reminder" on day d (spread over March), a share `holdout` of them held
// out; a customer converts (orders 5 days later for 40.00) with
// probability pTreat or pHold.
func plant(t *testing.T, st *store.Store, shop *models.Shop, n int, holdout, pTreat, pHold float64, seed uint64) {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 1))
	err := st.InTx(ctx, func(tx *store.Store) error {
		var ids []int64
		for start := 0; start < n; start += 200 { // as the processor's batches do
			keys := make([]store.CustomerKey, min(200, n-start))
			for i := range keys {
				keys[i] = store.CustomerKey{ShopID: shop.ID, Ref: models.CustomerRef{ID: fmt.Sprintf("c-%d-%d", seed, start+i)}}
			}
			got, err := tx.ResolveCustomers(ctx, keys)
			if err != nil {
				return err
			}
			ids = append(ids, got...)
		}
		var acts []*models.Action
		var evs []*store.EventRecord
		for i, id := range ids {
			due := t0.Add(time.Duration(i%28) * 24 * time.Hour)
			a := &models.Action{ShopID: shop.ID, CustomerID: id, Type: models.ActionReorderReminder, Status: models.ActionSent,
				RuleID: "reminder", RulesVersion: "v1", DueAt: due, SentAt: &due, Marketing: true,
				IdempotencyKey: fmt.Sprintf("k-%d-%d", seed, i), Params: map[string]any{}}
			p := pTreat
			if rng.Float64() < holdout {
				a.Status, a.Reason, a.SentAt, p = models.ActionSuppressed, "holdout", nil, pHold
			}
			acts = append(acts, a)
			if rng.Float64() < p {
				ref := fmt.Sprintf("o-%d-%d", seed, i)
				evs = append(evs, &store.EventRecord{ShopID: shop.ID, CustomerID: id, Type: "order.placed", StepKey: "order.placed|" + ref,
					OccurredAt: due.Add(5 * 24 * time.Hour), ReceivedAt: due, Platform: "standard", DeliveryID: ref, OrderRef: ref,
					Data: `{"customer":{"id":"x"},"order":{"id":"` + ref + `","currency":"EUR","total":"40.00"}}`})
			}
		}
		for len(acts) > 0 { // SQLite binds at most 32766 variables a statement
			k := min(len(acts), 200)
			if err := tx.InsertActions(ctx, acts[:k]); err != nil {
				return err
			}
			acts = acts[k:]
		}
		for len(evs) > 0 {
			k := min(len(evs), 200)
			if err := tx.InsertEvents(ctx, evs[:k]); err != nil {
				return err
			}
			evs = evs[k:]
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func newShop(t *testing.T, st *store.Store, key string) *models.Shop {
	t.Helper()
	sh := &models.Shop{Key: key, Platform: models.PlatformStandard, Name: key, Currency: "EUR", Timezone: "Europe/Berlin"}
	if err := st.SaveShop(context.Background(), sh); err != nil {
		t.Fatal(err)
	}
	return sh
}

// TestRules_PlantedEffect: treatment converting at 30 % against a holdout
// at 10 % is found with an interval around +20 points; with no effect the
// interval contains 0. Both on the real store.
func TestRules_PlantedEffect(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		st := storetest.Open(t, driver)
		ctx := context.Background()
		effect, none := newShop(t, st, "effect"), newShop(t, st, "none")
		plant(t, st, effect, 3000, 0.2, 0.30, 0.10, 1)
		plant(t, st, none, 3000, 0.2, 0.20, 0.20, 2)
		opt := reports.Options{Now: t0.AddDate(0, 3, 0)}
		from, to := t0.AddDate(0, 0, -1), t0.AddDate(0, 1, 0)

		rep, err := reports.Rules(ctx, st, effect, from, to, opt)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Rules) != 1 {
			t.Fatalf("rules %+v", rep.Rules)
		}
		r := rep.Rules[0]
		if r.Treatment.Customers+r.Holdout.Customers != 3000 || !r.EnoughData || r.Uplift == nil {
			t.Fatalf("report %+v", r)
		}
		u := r.Uplift
		if !u.Significant || u.CILow > 0.2 || u.CIHigh < 0.2 || u.CILow < 0.1 || *r.Treatment.Rate < 0.27 || *r.Holdout.Rate > 0.13 {
			t.Fatalf("planted +20 points: treatment %v, holdout %v, uplift %+v", *r.Treatment.Rate, *r.Holdout.Rate, *u)
		}
		if r.Outcomes["order"] != r.Treatment.Converted+r.Holdout.Converted {
			t.Fatalf("outcomes %v, converted %d + %d", r.Outcomes, r.Treatment.Converted, r.Holdout.Converted)
		}
		if r.Treatment.Revenue != string(models.FormatCents(int64(r.Treatment.Converted)*4000)) || r.IncrementalRevenue == nil {
			t.Fatalf("revenue %s for %d orders of 40.00; incremental %v", r.Treatment.Revenue, r.Treatment.Converted, r.IncrementalRevenue)
		}
		if len(r.SendsPerWeek) < 4 {
			t.Fatalf("sends per week %v", r.SendsPerWeek)
		}

		rep, err = reports.Rules(ctx, st, none, from, to, opt)
		if err != nil {
			t.Fatal(err)
		}
		u = rep.Rules[0].Uplift
		if u == nil || u.Significant || u.CILow > 0 || u.CIHigh < 0 {
			t.Fatalf("no effect planted, yet the interval excludes 0: %+v", u)
		}

		// Before the windows close nothing is counted, and says so.
		rep, err = reports.Rules(ctx, st, effect, from, to, reports.Options{Now: t0.AddDate(0, 0, 10)})
		if err != nil {
			t.Fatal(err)
		}
		r = rep.Rules[0]
		if r.EnoughData || r.Uplift != nil || r.Treatment.Rate != nil || r.Maturing == 0 || r.Note == "" {
			t.Fatalf("an immature report: %+v", r)
		}
	})
}
