package shopware

import (
	"net/http"
	"testing"
	"time"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
)

// TestCancelledOrder_NotSpend: Shopware's order state "cancelled"
// (state_enter.order.state.cancelled) is order.cancelled, and the cancelled
// order is no sale in the profile: Anna's order 10042 counts, her cancelled
// 10043 does not.
func TestCancelledOrder_NotSpend(t *testing.T) {
	cancelled := mustFixture(t, "order_cancelled.json")
	var events []models.Event
	for _, body := range [][]byte{
		mustFixture(t, "order_placed.json"),
		mustFixture(t, "order_paid.json"),
		edit(t, cancelled, `"event": "state_enter.order.state.cancelled"`, `"event": "checkout.order.placed"`),
		cancelled,
	} {
		p, err := New(0).Parse(&plugin.Delivery{Header: http.Header{}, Body: body})
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, p.Events...)
	}
	last := events[len(events)-1]
	if last.Type != models.OrderCancelled || last.Data.Order.ID != "0191a7c3d4e54f6a8b9c0d1e2f3a4b5c" || last.Data.Order.Total != "54.80" {
		t.Fatalf("order_cancelled.json maps to %s of order %s (%s)", last.Type, last.Data.Order.ID, last.Data.Order.Total)
	}
	p := journey.Build(events, time.Date(2026, 6, 25, 0, 0, 0, 0, time.UTC), journey.DefaultOptions)
	if p.OrderCount != 1 || p.TotalSpentCents != 5480 || !p.LastOrderAt.Equal(time.Date(2026, 6, 10, 8, 41, 12, 345e6, time.UTC)) {
		t.Fatalf("the cancelled order counts: %d orders, %d cents, last order %v", p.OrderCount, p.TotalSpentCents, p.LastOrderAt)
	}
}
