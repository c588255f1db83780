package models

import (
	"errors"
	"testing"
	"time"
)

// TestStockEvents_Validate names the missing field of each back-in-stock
// event, and lets the shop event go without a customer.
func TestStockEvents_Validate(t *testing.T) {
	at := time.Date(2026, 11, 12, 8, 0, 0, 0, time.UTC)
	anna := CustomerRef{ID: "c-1"}
	for _, tt := range []struct {
		e     Event
		field string // "" when valid
	}{
		{Event{Type: StockSubscribed, Timestamp: at, Data: EventData{Customer: anna, Subscription: &StockSubscription{SKU: "X"}}}, ""},
		{Event{Type: StockSubscribed, Timestamp: at, Data: EventData{Customer: anna}}, "data.subscription.sku"},
		{Event{Type: StockUnsubscribed, Timestamp: at, Data: EventData{Subscription: &StockSubscription{SKU: "X"}}}, "data.customer"},
		{Event{Type: ProductStockChanged, Timestamp: at, Data: EventData{Product: &ProductStock{SKU: "X", Stock: 3}}}, ""},
		{Event{Type: ProductStockChanged, Timestamp: at, Data: EventData{Product: &ProductStock{Stock: 3}}}, "data.product.sku"},
		{Event{Type: StockAvailable, Timestamp: at, Data: EventData{Customer: anna}}, "data.restock.sku"},
	} {
		err := tt.e.Validate()
		var ve *ValidationError
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("%s: %v", tt.e.Type, err)
		case tt.field != "" && (!errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Field != tt.field):
			t.Errorf("%s: got %v, want an error on %s", tt.e.Type, err, tt.field)
		}
	}
}

// TestStockEvents_StepKey: a stock level is one step per SKU, time and
// quantity, whoever delivers it; a notice one per subscription and restock.
func TestStockEvents_StepKey(t *testing.T) {
	at := time.Date(2026, 11, 12, 8, 0, 0, 0, time.UTC)
	level := func(q int64, ts time.Time) Event {
		return Event{Type: ProductStockChanged, Timestamp: ts.Add(time.Minute), Data: EventData{Product: &ProductStock{SKU: "X", Stock: q, At: &ts}}}
	}
	if a, b := level(5, at), level(5, at); a.StepKey() != b.StepKey() || a.OccurredAt() != at {
		t.Errorf("the same level: %q %q at %v", a.StepKey(), b.StepKey(), a.OccurredAt())
	}
	if a, b := level(5, at), level(0, at); a.StepKey() == b.StepKey() {
		t.Errorf("two levels at one moment share a step: %q", a.StepKey())
	}
	notice := func(restock time.Time) Event {
		return Event{Type: StockAvailable, Timestamp: at, Data: EventData{Restock: &Restock{Subscription: 7, SKU: "X", RestockAt: restock,
			SubscribedAt: at.Add(-time.Hour), SlotAt: restock.Add(time.Hour)}}}
	}
	n1, n2 := notice(at), notice(at.Add(24*time.Hour))
	if n1.StepKey() == n2.StepKey() || n1.OccurredAt() != at {
		t.Errorf("notices of two restocks: %q %q, at %v (want the restock, not the slot)", n1.StepKey(), n2.StepKey(), n1.OccurredAt())
	}
}
