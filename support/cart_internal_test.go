package support

import (
	"testing"
	"time"

	"github.com/treue/treue/models"
)

func TestSummarize_Carts(t *testing.T) {
	updated := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	cart := &models.Cart{ID: "cart-1", Currency: "EUR", UpdatedAt: &updated, Items: []models.LineItem{
		{SKU: "BEAN", Quantity: 2, UnitPrice: "24.95"}, {SKU: "MUG", Quantity: 1, UnitPrice: "9.90"},
	}}
	withTotal := *cart
	withTotal.Total = "55.00"
	for _, tt := range []struct {
		name string
		e    models.Event
		want string
	}{
		{"Updated", models.Event{Type: models.CartUpdated, Data: models.EventData{Cart: &withTotal}}, "Updated cart cart-1 with 3 items, 55.00 EUR"},
		{"UpdatedWithoutTotal", models.Event{Type: models.CartUpdated, Data: models.EventData{Cart: cart}}, "Updated cart cart-1 with 3 items, 59.80 EUR"},
		{"Checkout", models.Event{Type: models.CheckoutStarted, Data: models.EventData{Cart: cart}}, "Started checkout of cart cart-1 with 3 items, 59.80 EUR"},
		{"Abandoned", models.Event{Type: models.CartAbandoned, Timestamp: updated.Add(time.Hour), Data: models.EventData{Cart: cart}}, "Abandoned cart cart-1 with 3 items, 59.80 EUR"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Summarize(&tt.e); got != tt.want {
				t.Fatalf("Summarize = %q, want %q", got, tt.want)
			}
		})
	}
	e := models.Event{Type: models.CartAbandoned, Timestamp: updated.Add(90 * time.Minute), Data: models.EventData{Cart: cart}}
	if got, want := cartNote(&e), "cart cart-1 with 3 items, 59.80 EUR, no order 1h30m after its last update"; got != want {
		t.Fatalf("cartNote = %q, want %q", got, want)
	}
}
