package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/models/store/storetest"
)

// TestInsertEventsAndActions: the batch writers' multi-row INSERTs hand back
// each row's id, in order, store every field as a read returns it, and
// report a step stored already as a duplicate.
func TestInsertEventsAndActions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		st := storetest.Open(t, driver)
		shop := &models.Shop{Key: "s", Platform: models.PlatformStandard, Source: "cli"}
		if err := st.SaveShop(ctx, shop); err != nil {
			t.Fatal(err)
		}
		cust, _, err := st.ResolveCustomer(ctx, shop.ID, models.CustomerRef{ID: "c"})
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 11, 1, 9, 0, 0, 123456000, time.UTC)
		placed := at.Add(-time.Hour)
		var rs []*store.EventRecord
		for i := range 3 {
			// Undescribed: the report columns are filled from the data, as GORM's Create did.
			data := fmt.Sprintf(`{"customer":{"id":"c"},"order":{"id":"o-%d","total":"12.50","currency":"EUR","coupon":"HELLO","test":%t,"placed_at":%q}}`,
				i, i == 1, placed.Format(time.RFC3339Nano))
			rs = append(rs, &store.EventRecord{ShopID: shop.ID, CustomerID: cust, Type: string(models.OrderPlaced), StepKey: fmt.Sprintf("step-%d", i),
				OccurredAt: at.Add(time.Duration(i) * time.Second), ReceivedAt: at, Platform: "standard", InboxID: int64(10 + i), DeliveryID: fmt.Sprintf("d-%d", i),
				Data: data})
		}
		if err := st.InsertEvents(ctx, rs); err != nil {
			t.Fatal(err)
		}
		stored, err := st.CustomerEvents(ctx, cust)
		if err != nil || len(stored) != 3 {
			t.Fatalf("%d events, %v", len(stored), err)
		}
		for i, r := range stored {
			want := *rs[i]
			if r.ID != want.ID || r.StepKey != want.StepKey || r.InboxID != want.InboxID || r.DeliveryID != want.DeliveryID || r.Amount != "12.50" ||
				r.Currency != "EUR" || r.Coupon != "HELLO" || r.OrderRef != fmt.Sprintf("o-%d", i) || r.TestOrder != (i == 1) ||
				!r.OccurredAt.Equal(want.OccurredAt) || r.PlacedAt == nil || !r.PlacedAt.Equal(placed) {
				t.Errorf("event %d stored as %+v, inserted %+v", i, r, want)
			}
		}
		again := []*store.EventRecord{{ShopID: shop.ID, CustomerID: cust, Type: string(models.OrderPlaced), StepKey: "step-1", OccurredAt: at, ReceivedAt: at, Platform: "standard", Data: "{}"}}
		if err := st.InsertEvents(ctx, again); !errors.Is(err, models.ErrDuplicate) {
			t.Fatalf("a step stored already: %v", err)
		}

		as := []*models.Action{
			{ShopID: shop.ID, CustomerID: cust, Type: models.ActionPromoCode, Status: models.ActionScheduled, RuleID: "r1", RulesVersion: "v1",
				TriggerEventID: rs[0].ID, DueAt: at, IdempotencyKey: "k1", Marketing: true, OrderRef: "o-0", SKU: "SKU", Category: "beans",
				Params: map[string]any{"amount": "5.00"}, CostCents: 150},
			{ShopID: shop.ID, CustomerID: cust, Type: models.ActionNotify, Status: models.ActionSuppressed, RuleID: "r2", DueAt: at, IdempotencyKey: "k2", Reason: "holdout"},
		}
		if err := st.InsertActions(ctx, as); err != nil {
			t.Fatal(err)
		}
		got, err := st.CustomerActions(ctx, cust)
		if err != nil || len(got) != 2 {
			t.Fatalf("%d actions, %v", len(got), err)
		}
		byID := map[int64]models.Action{}
		for _, a := range got {
			byID[a.ID] = a
		}
		for _, a := range as {
			g, ok := byID[a.ID]
			if !ok || a.ID == 0 || a.PublicID == "" || g.PublicID != a.PublicID {
				t.Fatalf("action %d (%s) not stored under its id: %v", a.ID, a.RuleID, got)
			}
			if g.RuleID != a.RuleID || g.Status != a.Status || g.TriggerEventID != a.TriggerEventID || g.IdempotencyKey != a.IdempotencyKey ||
				g.Marketing != a.Marketing || g.SKU != a.SKU || g.Category != a.Category || g.Reason != a.Reason || g.CostCents != a.CostCents ||
				!g.DueAt.Equal(a.DueAt) || g.SentAt != nil || (len(a.Params) > 0 && !reflect.DeepEqual(g.Params, a.Params)) {
				t.Errorf("action %s stored as %+v, inserted %+v", a.RuleID, g, *a)
			}
		}
	})
}
