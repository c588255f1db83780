package journey

import (
	"testing"
	"time"

	"github.com/treue/treue/models"
)

func TestAbandonedCarts(t *testing.T) {
	t0 := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	anna := models.CustomerRef{ID: "c-1"}
	update := func(typ models.EventType, id string, at time.Time, skus ...string) models.Event {
		c := &models.Cart{ID: id, UpdatedAt: &at}
		for _, s := range skus {
			c.Items = append(c.Items, models.LineItem{SKU: s, Quantity: 1})
		}
		return models.Event{Type: typ, Timestamp: at, Data: models.EventData{Customer: anna, Cart: c}}
	}
	order := func(at time.Time, skus ...string) models.Event {
		o := &models.Order{ID: "o-" + at.Format("1504"), PlacedAt: &at}
		for _, s := range skus {
			o.Items = append(o.Items, models.LineItem{SKU: s, Quantity: 1})
		}
		return models.Event{Type: models.OrderPlaced, Timestamp: at, Data: models.EventData{Customer: anna, Order: o}}
	}
	first := update(models.CheckoutStarted, "cart-1", t0, "A")
	last := update(models.CartUpdated, "cart-1", t0.Add(10*time.Minute), "A", "B")
	now := t0.Add(2 * time.Hour)

	got := AbandonedCarts([]models.Event{last, first}, now, time.Hour, 24*time.Hour)
	if len(got) != 1 {
		t.Fatalf("got %d abandonments, want 1", len(got))
	}
	a := got[0]
	if a.Type != models.CartAbandoned || !a.OccurredAt().Equal(t0.Add(70*time.Minute)) || len(a.Data.Cart.Items) != 2 || a.Data.Customer != anna {
		t.Fatalf("abandonment %+v", a)
	}
	if err := a.Validate(); err == nil {
		t.Error("a derived cart.abandoned validates as something a shop may send")
	}
	for name, tt := range map[string]struct {
		history []models.Event
		now     time.Time
	}{
		"NotYet":             {[]models.Event{first, last}, t0.Add(69 * time.Minute)},
		"OrderedAfter":       {[]models.Event{first, last, order(t0.Add(30*time.Minute), "B", "Z")}, now},
		"OrderedAfterLate":   {[]models.Event{first, last, order(t0.Add(90*time.Minute), "A")}, now},
		"AlreadyRecorded":    {[]models.Event{first, last, a}, now},
		"OutsideLookback":    {[]models.Event{first, last}, t0.Add(30 * time.Hour)},
		"OrderedBeforeCart":  {[]models.Event{order(t0.Add(-time.Minute), "A"), first, last}, now},
		"OrderWithoutItsSKU": {[]models.Event{first, last, order(t0.Add(30*time.Minute), "Z")}, now},
	} {
		t.Run(name, func(t *testing.T) {
			got := AbandonedCarts(tt.history, tt.now, time.Hour, 24*time.Hour)
			want := 0
			if name == "OrderedBeforeCart" || name == "OrderWithoutItsSKU" {
				want = 1
			}
			if len(got) != want {
				t.Fatalf("got %d abandonments, want %d", len(got), want)
			}
		})
	}
	t.Run("Profile", func(t *testing.T) {
		p := Build([]models.Event{first, last, a}, now, DefaultOptions)
		if p.AbandonedCarts != 1 || p.LastCartAt == nil || !p.LastCartAt.Equal(t0.Add(10*time.Minute)) {
			t.Fatalf("profile carts %d, %v", p.AbandonedCarts, p.LastCartAt)
		}
	})
}
