package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/models/store/storetest"
)

// TestLoyaltyJourneys pages through one shop's customers (ShopCustomerIDs)
// with their decoded events in source order, on both databases.
func TestLoyaltyJourneys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		s := storetest.Open(t, driver)
		t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		// Customers of shops 1 and 2 interleaved by id; every shop-1 customer
		// but the third has an order placed, then paid, inserted paid first.
		type cust struct {
			shop int64
			id   int64
		}
		var custs []cust
		if err := s.InTx(ctx, func(tx *store.Store) error {
			for i := range 9 {
				shop := int64(1 + i%3/2) // 1, 1, 2, 1, 1, 2, …
				id, _, err := tx.ResolveCustomer(ctx, shop, models.CustomerRef{ID: fmt.Sprintf("c-%d", i)})
				if err != nil {
					return err
				}
				custs = append(custs, cust{shop, id})
				if i == 3 {
					continue // a customer without events
				}
				order := fmt.Sprintf("o-%d", i)
				placedAt := t0.Add(time.Duration(i) * time.Hour)
				for _, e := range []struct {
					typ  models.EventType
					at   time.Time
					data string
				}{
					{models.OrderPaid, placedAt.Add(time.Minute), fmt.Sprintf(`{"customer":{"id":"c-%d"},"order":{"id":%q}}`, i, order)},
					{models.OrderPlaced, placedAt, fmt.Sprintf(`{"customer":{"id":"c-%d"},"order":{"id":%q,"placed_at":%q,"total":"9.90","test":true}}`, i, order, placedAt.Format(time.RFC3339))},
				} {
					_, err := tx.InsertEvent(ctx, &store.EventRecord{ShopID: shop, CustomerID: id, Type: string(e.typ), StepKey: string(e.typ) + "|" + order,
						OccurredAt: e.at, ReceivedAt: t0, Platform: "standard", DeliveryID: "d-" + string(e.typ) + order, OrderRef: order, Data: e.data})
					if err != nil {
						return err
					}
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		var want []int64
		for _, c := range custs {
			if c.shop == 1 {
				want = append(want, c.id)
			}
		}
		ids, err := s.ShopCustomerIDs(ctx, 1)
		if err != nil || !slices.Equal(ids, want) {
			t.Fatalf("customer ids %v %v, want %v", ids, err, want)
		}

		var got []int64
		for page := range slices.Chunk(ids, 4) {
			js, err := s.LoyaltyJourneys(ctx, page)
			if err != nil {
				t.Fatal(err)
			}
			if len(js) != len(page) {
				t.Fatalf("page %v: %d journeys", page, len(js))
			}
			for _, j := range js {
				got = append(got, j.CustomerID)
				if j.CustomerID == custs[3].id {
					if len(j.Events) != 0 {
						t.Errorf("customer without events: %+v", j.Events)
					}
					continue
				}
				if len(j.Events) != 2 || j.Events[0].Type != models.OrderPlaced || j.Events[1].Type != models.OrderPaid {
					t.Fatalf("customer %d: events %+v", j.CustomerID, j.Events)
				}
				o := j.Events[0].Data.Order
				if o == nil || !o.Test || o.Total != "9.90" || o.PlacedAt == nil || !j.Events[0].OccurredAt().Equal(*o.PlacedAt) {
					t.Errorf("customer %d: order.placed decoded as %+v", j.CustomerID, o)
				}
				if at := j.Events[1].Timestamp; at.Location() != time.UTC || !at.Equal(o.PlacedAt.Add(time.Minute)) {
					t.Errorf("customer %d: order.paid at %v", j.CustomerID, at)
				}
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("pages gave customers %v, want %v", got, want)
		}
		if js, err := s.LoyaltyJourneys(ctx, nil); err != nil || len(js) != 0 {
			t.Fatalf("no customers: %v %v", js, err)
		}
	})
}
