package models

import (
	"errors"
	"testing"
	"time"
)

func TestEvent_Cart(t *testing.T) {
	at := time.Date(2026, 11, 2, 9, 14, 55, 0, time.UTC)
	cart := func(updated time.Time) *Cart {
		return &Cart{ID: "cart-1", Total: "59.80", Currency: "EUR", UpdatedAt: &updated,
			Items: []LineItem{{SKU: "A", Quantity: 2}, {ProductID: "p-9", Quantity: 1}, {SKU: "A", Quantity: 1}}}
	}
	e := Event{Type: CartUpdated, Timestamp: at.Add(time.Second), Data: EventData{Customer: CustomerRef{ID: "c"}, Cart: cart(at)}}
	t.Run("OK", func(t *testing.T) {
		if err := e.Validate(); err != nil {
			t.Fatal(err)
		}
		if !e.OccurredAt().Equal(at) {
			t.Fatalf("occurred at %v, want updated_at", e.OccurredAt())
		}
		if got := e.Data.Cart.SKUs(); len(got) != 2 || got[0] != "A" || got[1] != "p-9" {
			t.Fatalf("skus %v", got)
		}
		if e.Data.Cart.Quantity() != 4 {
			t.Fatalf("quantity %d", e.Data.Cart.Quantity())
		}
	})
	t.Run("StepKey", func(t *testing.T) {
		dup := e
		dup.Timestamp = at.Add(time.Minute) // another delivery of the same update
		if dup.StepKey() != e.StepKey() {
			t.Fatal("a repeated delivery of one update must share its step")
		}
		next := e
		next.Data.Cart = cart(at.Add(time.Minute))
		if next.StepKey() == e.StepKey() {
			t.Fatal("each update of a cart is a step of its own")
		}
	})
	for name, tt := range map[string]struct {
		mut   func(e *Event)
		field string
	}{
		"ErrNoCart":     {func(e *Event) { e.Data.Cart = nil }, "data.cart.id"},
		"ErrNoCartID":   {func(e *Event) { e.Data.Cart.ID = "" }, "data.cart.id"},
		"ErrAnonymous":  {func(e *Event) { e.Data.Customer = CustomerRef{} }, "data.customer"},
		"ErrBadTotal":   {func(e *Event) { e.Data.Cart.Total = "59,80" }, "data.cart.total"},
		"ErrBadItem":    {func(e *Event) { e.Data.Cart.Items[1].ProductID = "" }, "data.cart.items[1]"},
		"ErrDerived":    {func(e *Event) { e.Type = CartAbandoned }, "type"},
		"ErrBadCurrncy": {func(e *Event) { e.Data.Cart.Currency = "euro" }, "data.cart.currency"},
	} {
		t.Run(name, func(t *testing.T) {
			x := e
			x.Data.Cart = cart(at)
			tt.mut(&x)
			var v *ValidationError
			err := x.Validate()
			if !errors.As(err, &v) {
				t.Fatalf("got %v", err)
			}
			found := false
			for _, f := range v.Fields {
				found = found || f.Field == tt.field
			}
			if !found {
				t.Fatalf("got %v, want a field error for %s", err, tt.field)
			}
		})
	}
	t.Run("OrderHasAny", func(t *testing.T) {
		o := &Order{Items: []LineItem{{SKU: "Z", Quantity: 1}, {ProductID: "p-9", Quantity: 1}}}
		if !OrderHasAny(o, cart(at).SKUs()) || OrderHasAny(o, []string{"A"}) || OrderHasAny(nil, []string{"A"}) {
			t.Fatal("OrderHasAny")
		}
	})
}
